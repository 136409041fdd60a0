"""Word documents (.docx) -> `ExtractedDocument`, read with python-docx.

The body is walked in document order (paragraphs and tables interleaved):
- a paragraph styled "Title" or "Heading N" becomes a heading (level N-1, "Title" level 0), so
  chunks carry the same section paths as a PDF's outline gives;
- a list paragraph (a numbering property, or a "List ..." style) is written as "• text", or
  "N. text" for a numbered style ("List Number"), one item per line;
- a table is written row by row, each cell prefixed by its column header
  ("Weight band: 10-14 kg | Dose: 250 mg"), so a row read alone keeps its meaning.
A .docx has no fixed pages: the document is one page (page 1). Legacy binary .doc files are not
read (python-docx reads only the Office Open XML format); their report says to save as .docx.

Source: python-docx 1.x (https://python-docx.readthedocs.io), `Document.element.body` children.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import DocumentError
from ..types import ExtractedDocument, Heading, Page
from .structure import Lines

_HEADING = re.compile(r"^heading\s*(\d)$", re.I)


def extract_docx(path: Path, sha256: str) -> ExtractedDocument:
    """Raises DocumentError for a file that is not a readable .docx (zip with word/document.xml)."""
    try:
        import docx
        from docx.table import Table
        from docx.text.paragraph import Paragraph
    except ImportError as exc:  # pragma: no cover - a dependency of ragmed
        raise DocumentError("reading .docx needs python-docx: pip install python-docx") from exc
    try:
        document = docx.Document(str(path))
    except Exception as exc:  # zipfile.BadZipFile, KeyError (no document part), lxml errors
        raise DocumentError(f"not a readable Word .docx file ({type(exc).__name__}); "
                            "save it again from Word as .docx") from exc

    out = Lines("docx")
    lines, headings, add = out.lines, out.headings, out.add
    numbers: dict[str, int] = {}
    titled = False  # a "Title" paragraph is level 0; "Heading N" then sits at level N

    body = document.element.body
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            para = Paragraph(child, document)
            style = (para.style.name if para.style is not None else "") or ""
            text = para.text
            m = _HEADING.match(style.strip())
            if style.strip().lower() == "title":
                add(text, 0)
                titled = True
            elif m:
                add(text, max(0, int(m.group(1)) - 1) + (1 if titled else 0))
            elif _is_list(para, style):
                if "number" in style.lower():
                    numbers[style] = numbers.get(style, 0) + 1
                    add(f"{numbers[style]}. {text}")
                else:
                    add(f"\u2022 {text}")
            else:
                numbers.clear()
                add(text)
        elif tag == "tbl":
            numbers.clear()
            for row in table_rows(Table(child, document)):
                add(row)
    text = "\n".join(lines)
    if not any(c.isalnum() for c in text):
        raise DocumentError("the Word document has no text")
    title = _title(document, headings, path)
    return ExtractedDocument(
        path=str(path), sha256=sha256, kind="docx", title=title, text=text,
        pages=[Page(1, "1", text, 0, True)], headings=headings, date=_date(document),
    )


def table_rows(table) -> list[str]:
    """Each body row as "Header: value | Header: value"; the first row is the header. Merged
    cells repeated by python-docx are written once per row."""
    rows = []
    for r in table.rows:
        cells, seen = [], set()
        for c in r.cells:
            if id(c._tc) in seen:
                continue
            seen.add(id(c._tc))
            cells.append(" ".join(c.text.split()))
        rows.append(cells)
    if not rows:
        return []
    header, out = rows[0], []
    if len(rows) == 1:
        return [" | ".join(x for x in header if x)]
    out.append(" | ".join(x for x in header if x))
    for cells in rows[1:]:
        parts = []
        for i, value in enumerate(cells):
            if not value:
                continue
            name = header[i] if i < len(header) and header[i] and header[i] != value else ""
            parts.append(f"{name}: {value}" if name else value)
        if parts:
            out.append(" | ".join(parts))
    return out


def _is_list(para, style: str) -> bool:
    ppr = para._p.pPr
    return (ppr is not None and ppr.numPr is not None) or style.lower().startswith("list")


def _title(document, headings: list[Heading], path: Path) -> str:
    core = (document.core_properties.title or "").strip()
    if core:
        return " ".join(core.split())
    return headings[0].title if headings else path.stem


_TEMPLATE_DATE = "2013-12-23"  # python-docx's default template's created/modified date: not the document's


def _date(document) -> str:
    try:
        when = document.core_properties.created or document.core_properties.modified
        day = when.date().isoformat() if when else ""
        return "" if day == _TEMPLATE_DATE else day
    except Exception:  # malformed dates in docProps/core.xml: the file date is used instead
        return ""
