"""Generate small, deterministic test PDFs for ragmed's ingestion tests.

Part of the ``support`` package: ``from support import pdfgen`` in the tests (pytest puts
``tests/`` on ``sys.path``), ``from tests.support import pdfgen`` from the project root (benchmarks).

Every ``make_*`` function writes one file at ``path`` and returns a dict of the
facts a test can assert against.  Only fpdf2 and pypdf are used.  Output is
byte-for-byte deterministic, except for the encrypted files: pypdf draws random
salts/IVs when encrypting.

All text is original and about an invented condition ("fictional fever"); it is
not medical advice.

Notes on how pypdf (7.x) extracts these files, useful when writing assertions:

* Text comes back line by line as laid out, so a sentence that wraps is split
  by ``"\\n"``; compare with whitespace collapsed (see :func:`norm`).
* The running header and the ``Page N of 5`` footer are ordinary text lines at
  the top and bottom of every page's ``extract_text()``.
* Table rows come out as one line per row with the cells joined by single
  spaces (no separators), e.g. ``"Ibuprofen 10 mg/kg every 8 hours"``.
* Bullets are drawn as the WinAnsi bullet glyph and extract as ``"\\u2022 "``.
* The forced hyphenation survives extraction as ``"treat-\\nment"``.
"""

from __future__ import annotations

import io
import random
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from fpdf import FPDF
from pypdf import PdfReader, PdfWriter
from pypdf.constants import PageLabelStyle, UserAccessPermissions

FIXED_DATE = datetime(2026, 1, 1, tzinfo=timezone.utc)
FONT = "Helvetica"
BULLET = "\x95"  # WinAnsi (cp1252) bullet; pypdf extracts it as U+2022

GUIDELINE_HEADER = "Fictional Fever Guideline - Test Edition"
DEFAULT_TITLE = "Test Guideline on Fictional Fever"


def norm(text: str) -> str:
    """Collapse all whitespace runs to single spaces (for text comparisons)."""
    return re.sub(r"\s+", " ", text).strip()


# --------------------------------------------------------------- helpers ----

class _DocPDF(FPDF):
    """FPDF with an optional running header and ``Page N of M`` footer."""

    def __init__(self, header_text: str | None = None, footer: bool = True) -> None:
        super().__init__(format="A4", unit="mm")
        self.header_text = header_text
        self.show_footer = footer
        self.set_creation_date(FIXED_DATE)
        self.set_margins(20, 18, 20)
        self.set_auto_page_break(True, margin=20)
        self.set_producer("fpdf2 (ragmed tests/pdfgen.py)")

    def header(self) -> None:
        if not self.header_text:
            return
        self.set_font(FONT, "I", 8)
        self.cell(0, 5, self.header_text, align="C", new_x="LMARGIN", new_y="NEXT")
        self.ln(6)

    def footer(self) -> None:
        if not self.show_footer:
            return
        self.set_y(-14)
        self.set_font(FONT, "", 8)
        self.cell(0, 5, f"Page {self.page_no()} of {{nb}}", align="C")


def _heading(pdf: FPDF, text: str, level: int, outline: bool) -> None:
    if outline:
        pdf.start_section(text, level=level)
    pdf.ln(2 if level else 0)
    pdf.set_font(FONT, "B", 15 if level == 0 else 12)
    pdf.multi_cell(0, 8 if level == 0 else 6.5, text, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)


def _para(pdf: FPDF, text: str) -> None:
    pdf.set_font(FONT, "", 10)
    pdf.multi_cell(0, 5.2, text, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)


def _bullets(pdf: FPDF, items: list[str]) -> None:
    pdf.set_font(FONT, "", 10)
    for item in items:
        pdf.set_x(pdf.l_margin + 2)
        pdf.cell(5, 5.2, BULLET)
        pdf.multi_cell(0, 5.2, item, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
    pdf.ln(2)


def _write(path: str | Path, data: bytes) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _labelled(pdf_bytes: bytes, *, cover_prefix: str = "Cover") -> bytes:
    """Label page 1 with a prefix-only label and pages 2.. as 1, 2, 3..."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_bytes)))
    n = len(writer.pages)
    writer.set_page_label(0, 0, prefix=cover_prefix)
    if n > 1:
        writer.set_page_label(1, n - 1, style=PageLabelStyle.DECIMAL, start=1)
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


# ------------------------------------------------------- guideline PDF -------

# Facts: key -> (sentence exactly as written in the PDF, physical 1-based page).
_INTRO_FACTS = {
    "incidence": "Fictional fever affects about 1 in 400 children each winter.",
    "cause": "The condition is caused by the imaginary Marrow Valley virus, which spreads through shared drinking cups.",
}
_ASSESS_FACTS = {
    "fever_definition": "Suspect fictional fever in a child with a temperature above 38.5 C for 3 days.",
    "respiratory_rate": "Count the respiratory rate over a full 60 seconds while the child is calm.",
}
_TREAT_FACTS = {
    "paracetamol_dose": "Give paracetamol 15 mg/kg every 6 hours.",
    "paracetamol_max": "Do not give more than 4 doses of paracetamol in 24 hours.",
}

_LONG_PARAGRAPH = (
    "Most children with fictional fever recover at home within a week, and the purpose of this "
    "test guideline is to help clinicians recognise the small group who need closer observation. "
    "The guideline was written for software testing only, so its recommendations are invented, its "
    "numbers are arbitrary, and nothing in it should be applied to a real patient. It deliberately "
    "contains long paragraphs like this one so that the text wraps across several lines of the page, "
    "which lets an ingestion pipeline demonstrate that it joins wrapped lines back into sentences "
    "without losing or duplicating any words along the way."
)

# Explicit line breaks force a hyphenated word ("treat-" / "ment") at a line end.
_HYPHEN_LINES = [
    "If the temperature has not settled after 48 hours of regular paracetamol, consider second-line treat-",
    "ment with ibuprofen at the dose shown in the dosing table, provided the child is drinking well and has",
    "no history of kidney disease.",
]
HYPHENATED_SENTENCE = (
    "If the temperature has not settled after 48 hours of regular paracetamol, consider second-line "
    "treatment with ibuprofen at the dose shown in the dosing table, provided the child is drinking "
    "well and has no history of kidney disease."
)

_RED_FLAGS = [
    "a rash that does not fade under pressure",
    "breathing faster than 50 breaths per minute",
    "no wet nappy or urine for 12 hours",
    "unusual drowsiness or a weak, high-pitched cry",
]

_TABLE = [
    ("Drug", "Dose", "Interval"),
    ("Ibuprofen", "10 mg/kg", "every 8 hours"),
    ("Valofen (fictional)", "2 mg/kg", "once daily"),
    ("Oral rehydration solution", "50 ml/kg", "over 4 hours"),
    ("Zinc sulfate", "10 mg", "once daily for 10 days"),
    ("Thermacil (fictional)", "250 mg", "every 12 hours"),
]


def make_guideline_pdf(
    path: str | Path, *, outline: bool = True, title: str = DEFAULT_TITLE
) -> dict[str, Any]:
    """Write a 5-page guideline-like PDF and return the facts it contains.

    Page 1 is a cover (label ``"Cover"``); pages 2-5 are labelled ``"1"``-``"4"``.
    Headings are bold and larger than body text; with ``outline=True`` each
    heading also gets a bookmark ("2.1 Vital signs" is a child of "2 Assessment").
    Every page carries the running header :data:`GUIDELINE_HEADER` and the
    footer ``"Page N of 5"`` (N = physical page).
    """
    pdf = _DocPDF(header_text=GUIDELINE_HEADER)
    pdf.set_title(title)
    pdf.set_author("ragmed test suite")
    pdf.set_subject("Fictional test document - not medical advice")
    headings: dict[str, int] = {}
    facts: dict[str, tuple[str, int]] = {}

    def heading(text: str, level: int) -> None:
        _heading(pdf, text, level, outline)
        headings[text] = pdf.page_no()

    def fact_paras(fs: dict[str, str]) -> None:
        for key, sentence in fs.items():
            _para(pdf, sentence)
            facts[key] = (sentence, pdf.page_no())

    # Page 1: cover
    pdf.add_page()
    pdf.ln(45)
    pdf.set_font(FONT, "B", 22)
    pdf.multi_cell(0, 10, title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font(FONT, "", 12)
    pdf.multi_cell(0, 6, "Test edition - fictional content for software tests, not medical advice",
                   align="C", new_x="LMARGIN", new_y="NEXT")

    # Page 2: 1 Introduction
    pdf.add_page()
    heading("1 Introduction", 0)
    fact_paras(_INTRO_FACTS)
    _para(pdf, _LONG_PARAGRAPH)
    facts["long_paragraph"] = (_LONG_PARAGRAPH, pdf.page_no())

    # Page 3: 2 Assessment + 2.1 Vital signs
    pdf.add_page()
    heading("2 Assessment", 0)
    _para(pdf, "Assess every child with a raised temperature for the following red flags:")
    _bullets(pdf, _RED_FLAGS)
    bullets_page = pdf.page_no()
    heading("2.1 Vital signs", 1)
    fact_paras(_ASSESS_FACTS)

    # Page 4: 3 Treatment (includes the forced hyphenation)
    pdf.add_page()
    heading("3 Treatment", 0)
    fact_paras(_TREAT_FACTS)
    _para(pdf, "\n".join(_HYPHEN_LINES))
    facts["second_line"] = (HYPHENATED_SENTENCE, pdf.page_no())
    hyphen_page = pdf.page_no()

    # Page 5: 4 Dosing table
    pdf.add_page()
    heading("4 Dosing table", 0)
    _para(pdf, "The table below lists the fictional doses used in this test guideline.")
    pdf.set_font(FONT, "", 10)
    with pdf.table(col_widths=(60, 40, 60), text_align="LEFT", line_height=6,
                   first_row_as_headings=True) as table:
        for row in _TABLE:
            r = table.row()
            for cell in row:
                r.cell(cell)
    table_page = pdf.page_no()
    pdf.ln(4)
    _para(pdf, "Doses in this table are invented and must never be used for real patients.")

    data = _labelled(bytes(pdf.output()))
    _write(path, data)
    pages = 5
    assert PdfReader(io.BytesIO(data)).get_num_pages() == pages
    assert all(p <= pages for p in headings.values())
    return {
        "pages": pages,
        "page_labels": ["Cover", "1", "2", "3", "4"],
        "title": title,
        "headings": headings,
        "heading_levels": {h: (1 if h == "2.1 Vital signs" else 0) for h in headings},
        "outline": outline,
        "facts": facts,
        "header": GUIDELINE_HEADER,
        "footers": [f"Page {i} of {pages}" for i in range(1, pages + 1)],
        "bullets": (list(_RED_FLAGS), bullets_page),
        "hyphenated": ("treat-", "ment", hyphen_page),
        "table_page": table_page,
        "table_rows": [list(r) for r in _TABLE],
    }


# -------------------------------------------------------- other fixtures -----

_PROSE = [
    "Fictional fever clinics keep a paper log of every child seen on a weekend.",
    "The log is reviewed by the duty nurse every Monday morning before the first appointment.",
    "Children who were seen twice in one weekend are telephoned by the nurse within 2 days.",
]


def _simple_pdf_bytes(pages: list[list[str]]) -> bytes:
    """A plain PDF (no header/footer) with the given paragraphs per page."""
    pdf = _DocPDF(header_text=None, footer=False)
    for paras in pages:
        pdf.add_page()
        for p in paras:
            _para(pdf, p)
    return bytes(pdf.output())


def make_blank_page_pdf(path: str | Path) -> dict[str, Any]:
    """3 pages; page 2 has only vector shapes (no text operators at all)."""
    pdf = _DocPDF(header_text=None, footer=False)
    pdf.add_page()
    _para(pdf, "This first page has ordinary prose about fictional fever. " + _PROSE[0])
    pdf.add_page()  # page 2: drawings only, like a scanned/figure page without text
    pdf.set_draw_color(40, 40, 40)
    pdf.set_fill_color(200, 200, 200)
    pdf.rect(30, 40, 150, 100, style="DF")
    pdf.ellipse(60, 170, 90, 50, style="D")
    pdf.line(20, 250, 190, 250)
    pdf.add_page()
    _para(pdf, "This third page has prose again after the figure page. " + _PROSE[1])
    _write(path, bytes(pdf.output()))
    return {"pages": 3, "blank_pages": [2], "text_pages": [1, 3]}


def make_encrypted_pdf(
    path: str | Path, user_password: str = "secret", owner_password: str = "owner"
) -> dict[str, Any]:
    """A 2-page text PDF encrypted with AES-256 (needs ``cryptography``).

    It cannot be opened without ``user_password`` (the empty password fails).
    """
    src = PdfReader(io.BytesIO(_simple_pdf_bytes([_PROSE[:2], _PROSE[2:]])))
    writer = PdfWriter(clone_from=src)
    writer.encrypt(user_password=user_password, owner_password=owner_password,
                   algorithm="AES-256")
    buf = io.BytesIO()
    writer.write(buf)
    _write(path, buf.getvalue())
    return {"pages": 2, "user_password": user_password, "owner_password": owner_password,
            "text": _PROSE[0]}


def make_encrypted_empty_password_pdf(path: str | Path) -> dict[str, Any]:
    """Encrypted with an EMPTY user password plus an owner password.

    Opens without a password (pypdf decrypts it with "" automatically) but the
    permission flags allow printing only (no copy/modify) - like many publisher
    PDFs.  pypdf does not enforce permission flags, so text is extractable.
    """
    src = PdfReader(io.BytesIO(_simple_pdf_bytes([_PROSE])))
    writer = PdfWriter(clone_from=src)
    writer.encrypt(user_password="", owner_password="owner-only",
                   permissions_flag=UserAccessPermissions.PRINT, algorithm="AES-128")
    buf = io.BytesIO()
    writer.write(buf)
    _write(path, buf.getvalue())
    return {"pages": 1, "text": _PROSE[0], "owner_password": "owner-only"}


def make_corrupt_pdf(path: str | Path) -> dict[str, Any]:
    """``%PDF-1.7`` header, the first 300 bytes of a real PDF, then junk.

    There is no xref table, no trailer and no complete page object, so pypdf
    raises (``PdfReadError``/``PdfStreamError``) or reports zero pages.
    """
    real = _simple_pdf_bytes([_PROSE])
    head = real[:300]
    first_nl = head.index(b"\n")
    head = b"%PDF-1.7" + head[first_nl:]
    junk = random.Random(20260101).randbytes(2000)
    # Make sure the junk can never be mistaken for PDF structure.
    for token in (b"obj", b"xref", b"trailer", b"startxref", b"%%EOF", b"/Page", b"/Root"):
        junk = junk.replace(token, b"\x00" * len(token))
    _write(path, head + junk)
    return {"pages": None, "size": len(head) + len(junk)}


def make_not_a_pdf(path: str | Path) -> dict[str, Any]:
    """Plain text bytes saved under a ``.pdf`` name."""
    data = (
        "This is not a PDF file.\n"
        "It is a plain text note about fictional fever that was saved with a .pdf extension.\n"
    ).encode("ascii")
    _write(path, data)
    return {"size": len(data)}


def make_empty_file(path: str | Path) -> dict[str, Any]:
    """A zero-byte file."""
    _write(path, b"")
    return {"size": 0}


__all__ = [
    "GUIDELINE_HEADER",
    "HYPHENATED_SENTENCE",
    "make_blank_page_pdf",
    "make_corrupt_pdf",
    "make_empty_file",
    "make_encrypted_empty_password_pdf",
    "make_encrypted_pdf",
    "make_guideline_pdf",
    "make_not_a_pdf",
    "norm",
]


def make_text_pdf(path: str | Path, pages: list[list[str]]) -> Path:
    """A plain PDF whose pages hold the given paragraphs (for content-specific tests)."""
    return _write(path, _simple_pdf_bytes(pages))
