#!/usr/bin/env python3
"""Render the demo hypertension protocol (markdown) into a small, realistic PDF.

The PDF exercises the parts of ragmed's PDF ingestion that real guidelines need:
several pages, a cover page labelled "i" followed by pages labelled 1, 2, 3...,
a PDF outline (bookmarks) for the ``##``/``###`` headings, bold larger headings,
a real table, bulleted lists, and a running header and "Page N" footer on every
page (which ingestion should strip).  The printed footer number follows the
page label ("Page i" on the cover, "Page 1" on the second physical page).

Usage (from the repo root)::

    .venv/bin/python scripts/make_sample_pdf.py [--src MD] [--out PDF]

Needs fpdf2 and pypdf only.  The output is deterministic: rerunning the script
produces byte-identical files.
"""

from __future__ import annotations

import argparse
import io
import re
import sys
from datetime import datetime, timezone
from pathlib import Path

from fpdf import FPDF
from pypdf import PdfReader, PdfWriter
from pypdf.constants import PageLabelStyle

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "scripts" / "sample_source" / "demo-clinic-hypertension-protocol.md"
OUT = ROOT / "corpora" / "sample" / "demo-clinic-hypertension-protocol.pdf"

HEADER_TEXT = "Demo Clinic - Hypertension Protocol (DEMO, not medical advice)"
FIXED_DATE = datetime(2026, 1, 1, tzinfo=timezone.utc)

# Start a new page before these level-2 sections (the title page is page 1).
PAGE_BREAK_BEFORE = {
    "Scope",
    "Thresholds and follow-up",
    "Medication doses",
    "Follow-up intervals",
}

FONT = "Helvetica"
BODY_SIZE = 10.5
LINE_H = 5.4

# Core fonts only encode a Latin-1-like charset: map the rest to ASCII.
_REPLACEMENTS = {
    "\u2014": "-",  # em dash
    "\u2013": "-",  # en dash
    "\u2212": "-",  # minus sign
    "\u2018": "'",
    "\u2019": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u2026": "...",
    "\u2022": "-",
    "\u00a0": " ",
    "\u2264": "<=",
    "\u2265": ">=",
}


def clean(text: str) -> str:
    for bad, good in _REPLACEMENTS.items():
        text = text.replace(bad, good)
    # Anything still outside Latin-1 would make the core font fail.
    return text.encode("latin-1", "replace").decode("latin-1")


class ProtocolPDF(FPDF):
    def header(self) -> None:
        self.set_font(FONT, "I", 8)
        self.set_text_color(110, 110, 110)
        self.cell(0, 5, HEADER_TEXT, align="C", new_x="LMARGIN", new_y="NEXT")
        self.set_draw_color(180, 180, 180)
        self.line(self.l_margin, self.get_y() + 1, self.w - self.r_margin, self.get_y() + 1)
        self.ln(6)
        self.set_text_color(0, 0, 0)

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font(FONT, "", 8)
        self.set_text_color(110, 110, 110)
        # Printed numbers follow the page labels set later: cover "i", then 1, 2, 3...
        n = self.page_no()
        self.cell(0, 5, "Page i" if n == 1 else f"Page {n - 1}", align="C")
        self.set_text_color(0, 0, 0)


# ---------------------------------------------------------------- markdown ---

def parse_markdown(md: str) -> list[tuple]:
    """Very small markdown subset -> list of blocks.

    Blocks: ("h1", text) ("h2", text) ("h3", text) ("p", text)
            ("ul", [items]) ("table", [[cells], ...])
    """
    blocks: list[tuple] = []
    para: list[str] = []
    bullets: list[str] = []
    rows: list[list[str]] = []

    def flush() -> None:
        nonlocal para, bullets, rows
        if para:
            blocks.append(("p", " ".join(para)))
        if bullets:
            blocks.append(("ul", bullets))
        if rows:
            blocks.append(("table", rows))
        para, bullets, rows = [], [], []

    for raw in md.splitlines():
        line = raw.rstrip()
        if not line.strip():
            flush()
            continue
        m = re.match(r"^(#{1,3})\s+(.*)$", line)
        if m:
            flush()
            blocks.append((f"h{len(m.group(1))}", m.group(2).strip()))
        elif line.lstrip().startswith(("- ", "* ")):
            if para or rows:
                flush()
            bullets.append(line.lstrip()[2:].strip())
        elif line.lstrip().startswith("|"):
            if para or bullets:
                flush()
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if all(re.fullmatch(r":?-{2,}:?", c) for c in cells):
                continue  # separator row
            rows.append(cells)
        else:
            if bullets or rows:
                flush()
            para.append(line.strip())
    flush()
    return blocks


# ---------------------------------------------------------------- rendering --

def render(blocks: list[tuple]) -> bytes:
    pdf = ProtocolPDF(format="A4", unit="mm")
    pdf.set_creation_date(FIXED_DATE)
    pdf.set_margins(20, 18, 20)
    pdf.set_auto_page_break(True, margin=20)
    pdf.set_title("Demo Clinic Hypertension Protocol (fictional demo)")
    pdf.set_author("ragmed test corpus")
    pdf.set_subject("Fictional demo document for testing ragmed - NOT medical advice")
    pdf.set_creator("ragmed scripts/make_sample_pdf.py")
    pdf.set_producer("fpdf2")
    pdf.add_page()

    for kind, content in blocks:
        if kind == "h1":
            # Title page
            pdf.ln(40)
            pdf.set_font(FONT, "B", 22)
            title = clean(content)
            # Split "Title - subtitle" onto two lines for the cover.
            main, _, sub = title.partition(" - ")
            pdf.multi_cell(0, 10, main, align="C", new_x="LMARGIN", new_y="NEXT")
            if sub:
                pdf.ln(4)
                pdf.set_font(FONT, "B", 13)
                pdf.multi_cell(0, 7, sub, align="C", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(14)
        elif kind == "h2":
            name = clean(content)
            if content in PAGE_BREAK_BEFORE:
                pdf.add_page()
            elif pdf.get_y() > pdf.h - 60:  # don't strand a heading at the bottom
                pdf.add_page()
            else:
                pdf.ln(4)
            pdf.start_section(name, level=0)
            pdf.set_font(FONT, "B", 15)
            pdf.multi_cell(0, 8, name, align="L", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2)
        elif kind == "h3":
            name = clean(content)
            if pdf.get_y() > pdf.h - 50:
                pdf.add_page()
            else:
                pdf.ln(2)
            pdf.start_section(name, level=1)
            pdf.set_font(FONT, "B", 12)
            pdf.multi_cell(0, 6.5, name, align="L", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1)
        elif kind == "p":
            pdf.set_font(FONT, "", BODY_SIZE)
            pdf.multi_cell(0, LINE_H, clean(content), align="L", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2.5)
        elif kind == "ul":
            pdf.set_font(FONT, "", BODY_SIZE)
            indent = 6
            for item in content:
                x0 = pdf.l_margin
                pdf.set_x(x0 + 2)
                pdf.cell(indent - 2, LINE_H, "\x95")  # cp1252 bullet glyph
                pdf.multi_cell(0, LINE_H, clean(item), align="L", new_x="LMARGIN", new_y="NEXT")
                pdf.ln(1)
            pdf.ln(1.5)
        elif kind == "table":
            pdf.set_font(FONT, "", BODY_SIZE - 1)
            pdf.ln(1)
            with pdf.table(
                col_widths=(28, 32, 32, 58),
                text_align="LEFT",
                line_height=6,
                first_row_as_headings=True,
            ) as table:
                for row in content:
                    r = table.row()
                    for cell in row:
                        r.cell(clean(cell))
            pdf.ln(4)
        else:  # pragma: no cover
            raise ValueError(kind)
    return bytes(pdf.output())


def add_page_labels(pdf_bytes: bytes) -> bytes:
    reader = PdfReader(io.BytesIO(pdf_bytes))
    writer = PdfWriter(clone_from=reader)
    n = len(writer.pages)
    writer.set_page_label(0, 0, style=PageLabelStyle.LOWERCASE_ROMAN, start=1)
    if n > 1:
        writer.set_page_label(1, n - 1, style=PageLabelStyle.DECIMAL, start=1)
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def build(src: Path = SRC, out: Path = OUT) -> Path:
    blocks = parse_markdown(src.read_text(encoding="utf-8"))
    data = add_page_labels(render(blocks))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    return out


def _outline_titles(reader: PdfReader, items=None, depth=0) -> list[str]:
    items = reader.outline if items is None else items
    lines = []
    for it in items:
        if isinstance(it, list):
            lines += _outline_titles(reader, it, depth + 1)
        else:
            lines.append("  " * depth + f"{it.title}  (page {reader.get_destination_page_number(it) + 1})")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", type=Path, default=SRC)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("-q", "--quiet", action="store_true")
    args = ap.parse_args(argv)
    out = build(args.src, args.out)
    if not args.quiet:
        r = PdfReader(out)
        print(f"wrote {out} ({out.stat().st_size} bytes, {len(r.pages)} pages)")
        print("page labels:", r.page_labels)
        print("outline:")
        for line in _outline_titles(r):
            print("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
