"""Turn a source file (PDF, .txt, .md) into an `ExtractedDocument`.

PDFs are read with pypdf page by page: the physical page number (1-based) and the printed page
label are kept for every page; pages without extractable text are flagged; encrypted, corrupt,
empty and non-PDF files raise `DocumentError` with one clear line.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from ..files import file_sha256  # noqa: F401 (re-exported: ingest.extract.file_sha256)
from ..errors import DocumentError
from ..types import ExtractedDocument, Heading, Page
from .layout import read_page
from .structure import detect_headings, locate_title, markdown_headings
from .text import dehyphenate, normalize, strip_running_lines

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = {".pdf", ".txt", ".md", ".markdown"}
PAGE_SEPARATOR = "\n\n"
MIN_PAGE_CHARS = 10  # fewer alphanumerics than this after clean-up: "no extractable text"
MAX_OUTLINE_ENTRIES = 10_000


def extract(path: Path, sha256: str | None = None) -> ExtractedDocument:
    """Extract any supported file; raises DocumentError for unusable input."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise DocumentError(f"cannot read file: {exc.strerror or exc}") from exc
    if size == 0:
        raise DocumentError("empty file (0 bytes)")
    try:
        sha = sha256 or file_sha256(path)
    except OSError as exc:
        raise DocumentError(f"cannot read file: {exc.strerror or exc}") from exc
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return extract_pdf(path, sha)
    if suffix in {".txt", ".md", ".markdown"}:
        return extract_text_file(path, sha)
    raise DocumentError(f"unsupported file type {suffix or '(none)'}: use .pdf, .txt or .md")


def _assemble(cleaned: list[str]) -> tuple[str, list[int]]:
    starts, parts, pos = [], [], 0
    for i, page_text in enumerate(cleaned):
        if i:
            parts.append(PAGE_SEPARATOR)
            pos += len(PAGE_SEPARATOR)
        starts.append(pos)
        parts.append(page_text)
        pos += len(page_text)
    return "".join(parts), starts


def extract_pdf(path: Path, sha256: str) -> ExtractedDocument:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError

    with path.open("rb") as f:
        head = f.read(1024)
    if b"%PDF-" not in head:
        raise DocumentError("not a PDF (the file does not start with a %PDF header)")
    try:
        reader = PdfReader(str(path), strict=False)
        if reader.is_encrypted:
            try:
                ok = reader.decrypt("")
            except DependencyError as exc:
                raise DocumentError(
                    "encrypted PDF needs the 'cryptography' package: pip install 'pypdf[crypto]'"
                ) from exc
            if not ok:
                raise DocumentError(
                    "encrypted PDF: it needs a password to open. Save an unprotected copy "
                    "(e.g. `qpdf --decrypt --password=... in.pdf out.pdf`) and ingest that"
                )
        n_pages = len(reader.pages)
    except DocumentError:
        raise
    except FileNotDecryptedError as exc:
        raise DocumentError("encrypted PDF: it needs a password to open") from exc
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError, RecursionError) as exc:
        raise DocumentError(f"corrupt or unreadable PDF ({type(exc).__name__}: {exc})") from exc
    if n_pages == 0:
        raise DocumentError("PDF has no pages")

    warnings: list[str] = []
    try:
        labels = list(reader.page_labels)
        if len(labels) != n_pages:
            raise ValueError("label count mismatch")
    except Exception:  # broken /PageLabels trees are common; fall back to physical numbers
        labels = [str(i + 1) for i in range(n_pages)]
        warnings.append("page labels unreadable; using physical page numbers")

    raw: list[str] = []
    for i in range(n_pages):
        try:
            page_text = read_page(reader.pages[i], i + 1)
            warnings.extend(page_text.warnings)
            raw.append(normalize(page_text.text))
        except MemoryError:  # a decompression bomb: the whole document is refused (ingest/isolate.py)
            raise
        except Exception as exc:  # one bad page must not lose the document
            warnings.append(f"page {i + 1}: text extraction failed ({type(exc).__name__}: {exc})")
            raw.append("")
    cleaned, _ = strip_running_lines(raw)
    cleaned = dehyphenate(cleaned)
    text, starts = _assemble(cleaned)

    pages = []
    empty = []
    for i, page_text in enumerate(cleaned):
        has_text = sum(c.isalnum() for c in page_text) >= MIN_PAGE_CHARS
        if not has_text:
            empty.append(i + 1)
        pages.append(Page(i + 1, labels[i], page_text, starts[i], has_text))
    failed = [w for w in warnings if "text extraction failed" in w]
    if len(empty) == n_pages and failed:
        raise DocumentError(f"text extraction failed on {len(failed)} of its {n_pages} pages "
                            f"(first: {failed[0]})"[:300])
    if len(empty) == n_pages:
        raise DocumentError(
            f"no extractable text on any of its {n_pages} pages (likely scanned images; "
            "run OCR, e.g. `ocrmypdf in.pdf out.pdf`, and ingest the result)"
        )

    headings = _outline_headings(reader, pages, text, warnings)
    if not headings:
        headings = detect_headings(text)
    title, title_source = _pdf_title(reader, headings, path)
    if title_source == "file name":
        warnings.append("no title in the PDF's metadata and no heading on its first page: "
                        "shown by its file name")
    return ExtractedDocument(
        path=str(path), sha256=sha256, kind="pdf", title=title, text=text, pages=pages,
        headings=headings, warnings=warnings, pages_without_text=empty, date=_pdf_date(reader),
        title_source=title_source,
    )


def _pdf_date(reader) -> str:
    """The PDF's creation (else modification) date as YYYY-MM-DD, "" if absent or malformed."""
    try:
        meta = reader.metadata
        when = (meta.creation_date or meta.modification_date) if meta else None
        return when.date().isoformat() if when else ""
    except Exception:  # malformed date strings are common; the file date is used instead
        return ""


def _outline_headings(reader, pages: list[Page], text: str, warnings: list[str]) -> list[Heading]:
    entries: list[tuple[str, int, int]] = []

    def walk(items, level: int, depth: int = 0) -> None:
        if depth > 32:
            return
        for item in items:
            if len(entries) >= MAX_OUTLINE_ENTRIES:
                return
            if isinstance(item, list):
                walk(item, level + 1, depth + 1)
                continue
            try:
                page = reader.get_destination_page_number(item)
                title = normalize(str(item.title or "")).replace("\n", " ").strip()
            except Exception:
                continue
            if title and page is not None and 0 <= page < len(pages):
                entries.append((title, level, page))

    try:
        walk(reader.outline, 0)
    except Exception as exc:
        warnings.append(f"PDF outline unreadable ({type(exc).__name__}); detecting headings instead")
        return []
    headings = []
    for title, level, page_index in entries:
        page = pages[page_index]
        end = page.start + len(page.text)
        found = locate_title(text, title, page.start, end)
        headings.append(Heading(title, level, found if found is not None else page.start, "outline"))
    return headings


def _pdf_title(reader, headings: list[Heading], path: Path) -> tuple[str, str]:
    """(title, where it came from): the metadata title ("metadata"), else the first heading on the
    first page with text ("first heading"), else the file stem ("file name")."""
    try:
        meta = reader.metadata
        title = normalize(str(meta.title)).strip() if meta and meta.title else ""
    except Exception:
        title = ""
    if title and _plausible_title(title) and not re.fullmatch(r"(untitled|microsoft word.*|document\d*)", title, re.I):
        return title.replace("\n", " "), "metadata"
    first = min(headings, key=lambda h: h.offset, default=None)
    if first is not None and first.offset < 2000 and 3 <= len(first.title) <= 120:
        return first.title, "first heading"
    return path.stem, "file name"


def _plausible_title(title: str) -> bool:
    """False for metadata titles that are mis-decoded bytes (a UTF-16 byte-order mark read as
    Latin-1, replacement or control characters, lone surrogates) or mostly symbols."""
    import unicodedata

    if title.startswith(("\u00fe\u00ff", "\u00ff\u00fe")) or "\ufffd" in title:
        return False
    if any(unicodedata.category(c) in ("Cc", "Cs", "Co", "Cn") for c in title):
        return False
    return sum(c.isalnum() for c in title) >= max(3, len(title) // 3)


def extract_text_file(path: Path, sha256: str) -> ExtractedDocument:
    data = path.read_bytes()
    if b"\x00" in data[:4096]:
        raise DocumentError("binary file with a text extension; expected UTF-8 text")
    try:
        decoded = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        decoded = data.decode("latin-1")
    text = normalize(decoded)
    if not any(c.isalnum() for c in text):
        raise DocumentError("file has no text")
    is_md = path.suffix.lower() in {".md", ".markdown"}
    headings = markdown_headings(text) if is_md else detect_headings(text)
    from_heading = is_md and headings and headings[0].level == 0
    title = headings[0].title if from_heading else path.stem
    return ExtractedDocument(
        path=str(path), sha256=sha256, kind="markdown" if is_md else "text", title=title,
        text=text, pages=[Page(1, "1", text, 0, True)], headings=headings,
        title_source="first heading" if from_heading else "file name",
    )
