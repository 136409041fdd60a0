"""Which files ingestion reads, and how: the one dispatch from a file's suffix to its reader.

| suffix                         | reader                                   | pages           |
|--------------------------------|------------------------------------------|-----------------|
| .pdf                           | ingest/extract.py (pypdf) + OCR of pages without a text layer | the PDF's |
| .txt, .md, .markdown           | ingest/extract.py                        | one             |
| .docx                          | ingest/docx.py (python-docx)             | one             |
| .html, .htm                    | ingest/html.py (trafilatura)             | one             |
| .png, .jpg, .jpeg, .tif, .tiff | ingest/ocr.py (OCR)                      | one per frame   |

`skip_reason` says, for any other file, why it is not read (the folder walk lists every such file).
`extract_file` is what the isolated worker (ingest/isolate.py) calls; `ocr` is "auto", "off" or
"force" (ingest/ocr.py). OCR'd pages are recorded in `ExtractedDocument.ocr_pages`
({page: {"engine", "confidence"}}).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from ..errors import DocumentError
from ..types import ExtractedDocument, Heading, Page
from . import ocr as ocr_mod
from .extract import MIN_PAGE_CHARS, PAGE_SEPARATOR, extract
from .text import normalize

TEXT_SUFFIXES = {".pdf", ".txt", ".md", ".markdown"}
DOCX_SUFFIXES = {".docx"}
HTML_SUFFIXES = {".html", ".htm"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | DOCX_SUFFIXES | HTML_SUFFIXES | ocr_mod.IMAGE_SUFFIXES
SUPPORTED_LIST = ".pdf, .docx, .html/.htm, .txt, .md, .png/.jpg/.tif"

_HINTS = {
    ".doc": "legacy Word .doc is not read: save it as .docx",
    ".rtf": "save it as .docx",
    ".odt": "save it as .docx",
    ".pages": "export it as .docx or PDF",
    ".xls": "spreadsheets are not read: save the sheet as PDF",
    ".xlsx": "spreadsheets are not read: save the sheet as PDF",
    ".pptx": "slides are not read: save them as PDF",
    ".ppt": "slides are not read: save them as PDF",
    ".mht": "save the page as .html",
    ".mhtml": "save the page as .html",
}


def supported(path: Path) -> bool:
    return path.suffix.lower() in SUPPORTED_SUFFIXES


def skip_reason(path: Path) -> str:
    """Why `path` is not ingested (its suffix is not supported), with what to do."""
    suffix = path.suffix.lower()
    hint = _HINTS.get(suffix, f"use {SUPPORTED_LIST}")
    return f"unsupported file type {suffix or '(none)'}: {hint}"


def extract_file(path: Path, sha256: str | None = None, ocr: str = "auto") -> ExtractedDocument:
    """Any supported file -> ExtractedDocument; DocumentError for unusable input."""
    path = Path(path)
    if ocr not in ocr_mod.MODES:
        raise DocumentError(f"unknown OCR mode {ocr!r}: use one of {', '.join(ocr_mod.MODES)}")
    suffix = path.suffix.lower()
    if suffix in DOCX_SUFFIXES or suffix in HTML_SUFFIXES or suffix in ocr_mod.IMAGE_SUFFIXES:
        if not path.stat().st_size:
            raise DocumentError("empty file (0 bytes)")
        from ..files import file_sha256

        sha = sha256 or file_sha256(path)
        if suffix in DOCX_SUFFIXES:
            from .docx import extract_docx

            return extract_docx(path, sha)
        if suffix in HTML_SUFFIXES:
            from .html import extract_html

            return extract_html(path, sha)
        return extract_image(path, sha, ocr)
    if suffix != ".pdf" or ocr == "off":
        return extract(path, sha256)
    try:
        doc = extract(path, sha256)
    except DocumentError as exc:
        if "no extractable text on any" not in str(exc):
            raise
        return _ocr_whole_pdf(path, sha256, exc, ocr)
    todo = [p.number for p in doc.pages] if ocr == "force" else list(doc.pages_without_text)
    if ocr == "auto" and todo:  # a page without text and without an image has nothing to read
        todo = [i + 1 for i in ocr_mod.pages_with_images(path, [n - 1 for n in todo])]
    if not todo:
        return doc
    if ocr_mod.available() is None:
        doc.warnings.append(f"pages without text not OCR'd: {ocr_mod.missing_message()}")
        return doc
    return with_ocr_pages(doc, {n: ocr_mod.pdf_pages(path, [n - 1])[n - 1] for n in todo})


def extract_image(path: Path, sha256: str, ocr: str) -> ExtractedDocument:
    if ocr == "off":
        raise DocumentError("an image file is read only by OCR, which is off (--ocr off)")
    frames = ocr_mod.image_file(path)
    pages = [Page(i + 1, str(i + 1), "", 0, False) for i in range(len(frames))]
    doc = ExtractedDocument(path=str(path), sha256=sha256, kind="image", title=path.stem, text="",
                            pages=pages, headings=[], pages_without_text=[p.number for p in pages])
    doc = with_ocr_pages(doc, {i + 1: f for i, f in enumerate(frames)})
    if not doc.text.strip() or len(doc.pages_without_text) == len(doc.pages):
        raise DocumentError("OCR found no text in the image")
    return doc


def _ocr_whole_pdf(path: Path, sha256: str | None, original: DocumentError, ocr: str = "auto") -> ExtractedDocument:
    from pypdf import PdfReader

    if ocr_mod.available() is None:
        raise DocumentError(f"{original} ({ocr_mod.missing_message()})") from original
    from ..files import file_sha256

    reader = PdfReader(str(path), strict=False)
    n = len(reader.pages)
    try:
        labels = list(reader.page_labels)
    except Exception:  # broken /PageLabels: physical numbers, as extract_pdf does
        labels = []
    if len(labels) != n:
        labels = [str(i + 1) for i in range(n)]
    pages = [Page(i + 1, labels[i], "", 0, False) for i in range(n)]
    doc = ExtractedDocument(path=str(path), sha256=sha256 or file_sha256(path), kind="pdf", title=path.stem,
                            text="", pages=pages, headings=[], pages_without_text=list(range(1, n + 1)))
    todo = list(range(n)) if ocr == "force" else ocr_mod.pages_with_images(path, list(range(n)))
    if not todo:  # no page holds an image: nothing for OCR (the original error says what is wrong)
        raise original
    doc = with_ocr_pages(doc, {i + 1: p for i, p in ocr_mod.pdf_pages(path, todo).items()})
    if len(doc.pages_without_text) == n:
        raise DocumentError(f"{original}; OCR found no text either") from original
    from .structure import detect_headings

    doc.headings = detect_headings(doc.text)
    return doc


def with_ocr_pages(doc: ExtractedDocument, read: dict[int, "ocr_mod.OcrPage"]) -> ExtractedDocument:
    """`doc` with the text of pages `read` ({page number: OcrPage}) replaced by their OCR text:
    offsets and headings shifted, `pages_without_text` and `ocr_pages` updated, a warning per page
    OCR could not read or read with low confidence."""
    texts = {p.number: p.text for p in doc.pages}
    ocr_pages = dict(doc.ocr_pages)
    warnings = list(doc.warnings)
    for n, page in read.items():
        text = normalize(page.text)
        if sum(c.isalnum() for c in text) < MIN_PAGE_CHARS:
            warnings.append(f"page {n}: OCR ({page.engine}) found no readable text")
            continue
        texts[n] = text
        ocr_pages[n] = page.provenance()
        if page.confidence < ocr_mod.MIN_CONFIDENCE:
            warnings.append(f"page {n}: OCR uncertain ({page.engine}, confidence {page.confidence:.0%}); "
                            "check quotes from this page against the paper copy")
    pages, parts, pos, shift = [], [], 0, {}
    for i, p in enumerate(doc.pages):
        if i:
            parts.append(PAGE_SEPARATOR)
            pos += len(PAGE_SEPARATOR)
        t = texts[p.number]
        shift[p.number] = (p.start, pos)
        has = sum(c.isalnum() for c in t) >= MIN_PAGE_CHARS
        pages.append(Page(p.number, p.label, t, pos, has))
        parts.append(t)
        pos += len(t)
    headings = [_shifted(h, doc.pages, shift) for h in doc.headings]
    return replace(doc, text="".join(parts), pages=pages, headings=headings, warnings=warnings,
                   pages_without_text=[p.number for p in pages if not p.has_text], ocr_pages=ocr_pages)


def _shifted(h: Heading, pages: list[Page], shift: dict[int, tuple[int, int]]) -> Heading:
    page = pages[0]
    for p in pages:
        if p.start <= h.offset:
            page = p
    old, new = shift[page.number]
    return replace(h, offset=max(0, h.offset - old + new))


def ocr_citation(record: dict, page_start: int, page_end: int) -> str:
    """"OCR (engine, confidence N%)" when a cited page range holds OCR'd pages of a document whose
    manifest `record` lists them (`ocr_pages`), else ""."""
    pages = record.get("ocr_pages") or {}
    hit = [pages[str(n)] for n in range(page_start, page_end + 1) if str(n) in pages]
    if not hit:
        return ""
    conf = min(h.get("confidence", 0.0) for h in hit)
    return f"text read by OCR ({hit[0].get('engine', '?')}, confidence {conf:.0%})"
