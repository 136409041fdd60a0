"""Saved web pages (.html, .htm) -> `ExtractedDocument`, main content found by trafilatura.

trafilatura removes navigation, footers, cookie banners and comments, and returns the main
content as XML (`<head rend="hN">`, `<p>`, `<list>/<item>`, `<table>/<row>/<cell role="head">`),
which is walked here: headings become section headings (h1 = level 0), list items "• text" lines,
table rows "Header: value | Header: value" lines (as for .docx, `ingest/docx.py`). A page whose
main content trafilatura cannot find (e.g. a very short page) falls back to all of its visible text,
with a warning. One page (page 1). Title: the page's <title>/metadata, else the first heading.

Source: trafilatura 2.x (https://trafilatura.readthedocs.io), `extract(output_format="xml")`;
chosen because it is maintained and scored best on main-content benchmarks in its documentation.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import DocumentError
from ..types import ExtractedDocument, Heading, Page
from .structure import Lines
from .text import normalize


def extract_html(path: Path, sha256: str) -> ExtractedDocument:
    """Raises DocumentError for a page without readable text."""
    import trafilatura
    from lxml import etree

    raw = path.read_bytes()
    if b"\x00" in raw[:4096]:
        raise DocumentError("binary file with an .html extension; expected a saved web page")
    markup = raw.decode("utf-8", errors="replace")
    warnings: list[str] = []
    xml = trafilatura.extract(markup, output_format="xml", include_tables=True, include_comments=False,
                              favor_recall=True, with_metadata=False)
    out = Lines("html")
    if xml:
        root = etree.fromstring(xml.encode("utf-8"))
        main = root.find("main")
        _walk(main if main is not None else root, out.add)
    lines, headings = out.lines, out.headings
    if not any(any(c.isalnum() for c in line) for line in lines):
        text = trafilatura.html2txt(markup) or ""
        lines = [x for x in normalize(text).split("\n") if x.strip()]
        headings = []
        warnings.append("main content not found; all visible text of the page was indexed")
    text = "\n".join(lines)
    if not any(c.isalnum() for c in text):
        raise DocumentError("the web page has no readable text")
    meta = trafilatura.extract_metadata(markup)
    title = " ".join(((meta.title if meta else "") or "").split())
    title = title or (headings[0].title if headings else path.stem)
    date = (meta.date if meta and meta.date else "") or ""
    return ExtractedDocument(
        path=str(path), sha256=sha256, kind="html", title=title, text=text,
        pages=[Page(1, "1", text, 0, True)], headings=headings, warnings=warnings, date=date[:10],
    )


def _walk(node, add) -> None:
    """Add the main content's headings, list items, table rows and paragraphs in order (`Lines.add`)."""
    for el in node:
        tag = el.tag if isinstance(el.tag, str) else ""
        text = " ".join("".join(el.itertext()).split())
        if tag == "head":
            rend = (el.get("rend") or "h2").lower()
            level = int(rend[1]) - 1 if len(rend) == 2 and rend[1].isdigit() else 1
            add(text, max(0, level))
        elif tag == "list":
            numbered = (el.get("rend") or "") == "ol"
            for n, item in enumerate(el.findall("item"), 1):
                add(("%d. " % n if numbered else "\u2022 ") + " ".join("".join(item.itertext()).split()))
        elif tag == "table":
            for row in table_rows(el):
                add(row)
        elif tag in ("p", "quote", "code"):
            add(text)
        elif len(el):  # a container (e.g. <div>): its children in order
            _walk(el, add)
        else:
            add(text)


def table_rows(table) -> list[str]:
    """Body rows as "Header: value | ..." (header cells: role="head", else the first row)."""
    rows = [[" ".join("".join(c.itertext()).split()) for c in r.findall("cell")] for r in table.findall("row")]
    rows = [r for r in rows if any(r)]
    if not rows:
        return []
    header = rows[0]
    out = [" | ".join(x for x in header if x)]
    for cells in rows[1:]:
        parts = [f"{header[i]}: {v}" if i < len(header) and header[i] and header[i] != v else v
                 for i, v in enumerate(cells) if v]
        out.append(" | ".join(parts))
    return out
