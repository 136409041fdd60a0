"""Generated documents of each text-fidelity kind, with their true text (fpdf2, core fonts).

Each maker writes one file and returns a `Truth`: the lines a reader sees (what ragmed's text
should hold, modulo whitespace and " | " cell separators), the numbers/units that must survive
exactly, and the table rows. Used by tests/test_fidelity.py and benchmarks/fidelity.py.
All content is fictional.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from fpdf import FPDF


@dataclass
class Truth:
    kind: str
    path: Path
    lines: list[str]  # the true text, line by line (furniture excluded)
    numbers: list[str] = field(default_factory=list)  # strings that must appear exactly
    rows: list[str] = field(default_factory=list)  # table rows (cells joined by single spaces)
    furniture: list[str] = field(default_factory=list)  # lines that must NOT appear (running lines)
    pages: dict[str, int] = field(default_factory=dict)  # row -> page (1-based)
    breaks: list[tuple[str, str]] = field(default_factory=list)  # (end, start) of blocks kept apart
    title: str = ""  # the title the document should be shown by


def _pdf(title: str | None = None) -> FPDF:
    pdf = FPDF(unit="pt", format="A4")
    pdf.set_auto_page_break(False)
    if title:
        pdf.set_title(title)
    return pdf


def _raw_pdf(path: Path, content: str, title: str) -> None:
    """A one-page PDF (A4, Helvetica as /F1, WinAnsi) whose page content is `content` verbatim."""
    objs = ["<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
            "/Resources << /Font << /F1 5 0 R >> >> >>",
            f"<< /Length {len(content)} >>\nstream\n{content}\nendstream",
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
            f"<< /Title ({title}) >>"]
    out, offsets = b"%PDF-1.4\n", []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{o:010d} 00000 n \n" for o in offsets).encode()
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R /Info 6 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    path.write_bytes(out)


def dose_table(path: Path, first: int = 5, last: int = 40, per_page: int = 12, drug: str = "paracetamol",
               mg_per_kg: int = 15) -> Truth:
    """A weight-band chart over several pages, a running header and a "Page N of M" footer."""
    pdf = _pdf(f"Riverside {drug} chart (fictional)")
    weights = list(range(first, last + 1))
    n_pages = (len(weights) + per_page - 1) // per_page
    lines, rows, pages = [f"Table 1. Oral {drug} {mg_per_kg} mg/kg by body weight"], [], {}
    header = ["Body weight", "Single dose", "Interval"]
    for p in range(n_pages):
        pdf.add_page()
        pdf.set_font("Helvetica", size=9)
        pdf.text(50, 32, f"Riverside Clinic - oral {drug} for children (fictional test chart)")
        y = 70
        if p == 0:
            pdf.set_font("Helvetica", "B", 12)
            pdf.text(50, y, lines[0])
            y += 22
        pdf.set_font("Helvetica", "B", 10)
        for x, cell in zip((50, 200, 330), header):
            pdf.text(x, y, cell)
        lines.append(" ".join(header))
        y += 16
        pdf.set_font("Helvetica", size=10)
        for w in weights[p * per_page:(p + 1) * per_page]:
            dose = int(round(w * mg_per_kg / 5.0) * 5)
            cells = [f"{w} kg", f"{dose} mg", "every 6 h"]
            for x, cell in zip((50, 200, 330), cells):
                pdf.text(x, y, cell)
            row = " ".join(cells)
            rows.append(row)
            lines.append(row)
            pages[row] = p + 1
            y += 15
        pdf.set_font("Helvetica", size=9)
        pdf.text(50, 810, f"Page {p + 1} of {n_pages}")
    pdf.output(str(path))
    numbers = [f"{w} kg" for w in weights] + [f"{int(round(w * mg_per_kg / 5.0) * 5)} mg" for w in weights]
    furniture = [f"Page {p + 1} of {n_pages}" for p in range(n_pages)]
    return Truth("pdf-table", path, lines, numbers, rows, furniture, pages)


def superscripts(path: Path) -> Truth:
    """Footnote markers after thresholds: a superscript glyph (U+00B9) and a raised small digit."""
    pdf = _pdf("Metformin and kidney function (fictional)")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 13)
    pdf.text(72, 60, "Metformin and kidney function (fictional test note)")
    pdf.set_font("Helvetica", size=11)
    pdf.text(72, 90, "Stop metformin when the eGFR is below 30\u00b9 mL/min/1.73 m\u00b2.")
    pdf.set_xy(72, 100)
    pdf.write(14, "Halve the dose when the eGFR is between 30 and 45")
    pdf.char_vpos = "SUP"
    pdf.write(14, "2")
    pdf.char_vpos = "LINE"
    pdf.write(14, " mL/min/1.73 m2.")
    pdf.set_font("Helvetica", size=8)
    pdf.text(72, 760, "\u00b9 Use the CKD-EPI equation.")
    pdf.text(72, 772, "2 Recheck the eGFR within 3 months.")
    pdf.output(str(path))
    lines = ["Metformin and kidney function (fictional test note)",
             "Stop metformin when the eGFR is below 30 [1] mL/min/1.73 m2.",
             "Halve the dose when the eGFR is between 30 and 45 [2] mL/min/1.73 m2.",
             "1 Use the CKD-EPI equation.", "2 Recheck the eGFR within 3 months."]
    return Truth("pdf-superscript", path, lines, ["below 30 [1]", "and 45 [2]", "1.73 m2"])


def glued(path: Path) -> Truth:
    """A page set word by word in a condensed font (80% horizontal scaling), no space glyphs."""
    pdf = _pdf("Amiodarone protocol (fictional)")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.text(72, 60, "2. Dosing")
    pdf.set_font("Helvetica", size=11)
    lines = ["The loading dose of intravenous amiodarone is 300 mg over 20 minutes",
             "through a central line, followed by 900 mg over the next 24 hours.",
             "Check the QT interval and serum potassium before the infusion starts."]
    ops, y = ["BT /F1 14 Tf 1 0 0 1 72 752 Tm (2. Dosing) Tj /F1 11 Tf 80 Tz"], 722
    for line in lines:  # one Tm per word, no space glyphs, as some layout tools write
        x = 72.0
        for w in line.split():
            ops.append(f"1 0 0 1 {x:.2f} {y} Tm ({w}) Tj")
            x += pdf.get_string_width(w) * 0.8 + 2.0
        y -= 15
    ops.append("ET")
    _raw_pdf(path, " ".join(ops), "Amiodarone protocol (fictional)")
    return Truth("pdf-glued", path, ["2. Dosing"] + lines, ["300 mg", "20 minutes", "900 mg", "24 hours"])


def micro_units(path: Path) -> Truth:
    """Micro-sign doses, with and without a space before the unit."""
    pdf = _pdf("Thyroid and B12 note (fictional)")
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    lines = ["Levothyroxine: start at 25\u00b5g once a day in adults over 65.",
             "Hydroxocobalamin: give 1000 \u00b5g intramuscularly every 3 months.",
             "Vitamin D: give 20 \u00b5g (800 units) a day for maintenance."]
    for i, line in enumerate(lines):
        pdf.text(72, 60 + 17 * i, line)
    pdf.output(str(path))
    true = [ln.replace("\u00b5", "\u03bc") for ln in lines]  # NFKC: micro sign -> Greek mu
    return Truth("pdf-micro", path, true, ["25\u03bcg", "1000 \u03bcg", "20 \u03bcg", "800 units"])


def columns(path: Path) -> Truth:
    """Two prose columns drawn line by line across the page (left line, right line, ...)."""
    pdf = _pdf("Two-column bulletin (fictional)")
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    left = ["Adults with fever above 38.5 C are seen", "within 2 hours of arrival at the clinic",
            "and given 1 g of paracetamol by mouth", "unless they took a dose in the last 4 hours."]
    right = ["Children under 5 years with a cough are", "checked for fast breathing first, then",
             "weighed so that the dose of amoxicillin", "can be read from the weight-band chart."]
    for i, (a, b) in enumerate(zip(left, right)):
        pdf.text(50, 80 + 14 * i, a)
        pdf.text(310, 80 + 14 * i, b)
    pdf.output(str(path))
    return Truth("pdf-columns", path, left + right, ["38.5 C", "2 hours", "1 g", "4 hours", "5 years"])


def footer_block(path: Path) -> Truth:
    """A symptom list with a small publisher block at the page foot (not repeated: 1 page)."""
    pdf = _pdf("TB fact sheet (fictional)")
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    lines = ["Symptoms of active TB disease include:", "Chest pain Fever Chills",
             "Night sweats Loss of appetite Weight loss"]
    for i, line in enumerate(lines):
        pdf.text(72, 80 + 15 * i, line)
    pdf.set_font("Helvetica", size=6)
    foot = ["Riverside Department of Health", "Centers for Fictional Control", "301332 | October 2023"]
    for i, line in enumerate(foot):
        pdf.text(420, 790 + 7 * i, line)
    pdf.output(str(path))
    return Truth("pdf-footer", path, lines + foot, ["301332"], breaks=[("Weight loss", "Riverside Department")])


def untitled(path: Path) -> Truth:
    """No title in the metadata; the first line is the document's heading."""
    pdf = _pdf(None)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.text(72, 60, "HAND HYGIENE PROTOCOL")
    pdf.set_font("Helvetica", size=11)
    pdf.text(72, 90, "Staff clean their hands for 20 seconds before each patient.")
    pdf.output(str(path))
    return Truth("pdf-untitled", path, ["HAND HYGIENE PROTOCOL",
                                        "Staff clean their hands for 20 seconds before each patient."], ["20 seconds"],
                 title="HAND HYGIENE PROTOCOL")


def markdown_superscripts(path: Path) -> Truth:
    """Markdown with powers of ten, a footnote superscript and micro units."""
    body = ["# Methotrexate monitoring (fictional test note)", "",
            "Withhold methotrexate if the neutrophil count is below 1.5 \u00d7 10\u2079/L or the "
            "platelet count is below 100 \u00d7 10\u2079/L.", "",
            "Stop if the eGFR falls below 30\u00b9 mL/min.", "",
            "Folic acid 5 mg weekly; vitamin B12 1000 \u00b5g every 3 months."]
    path.write_text("\n".join(body) + "\n", encoding="utf-8")
    lines = ["# Methotrexate monitoring (fictional test note)",
             "Withhold methotrexate if the neutrophil count is below 1.5 \u00d7 10^9/L or the "
             "platelet count is below 100 \u00d7 10^9/L.", "Stop if the eGFR falls below 30 [1] mL/min.",
             "Folic acid 5 mg weekly; vitamin B12 1000 \u03bcg every 3 months."]
    return Truth("text-markdown", path, lines, ["1.5 \u00d7 10^9/L", "100 \u00d7 10^9/L", "30 [1]", "1000 \u03bcg"])


def text_bullets(path: Path) -> Truth:
    """Plain text exported from Word: Symbol-font bullets in the private-use area (U+F0B7)."""
    body = ["Scope of this fictional guideline", "\uf0b7 acute pain (duration of <1 month),",
            "\uf0b7 subacute pain (duration of 1\u20133 months), or", "\uf0b7 chronic pain (duration of >3 months)."]
    path.write_text("\n".join(body) + "\n", encoding="utf-8")
    lines = [body[0]] + ["\u2022 " + b[2:] for b in body[1:]]
    return Truth("text-bullets", path, lines, ["<1 month", "1\u20133 months", ">3 months"])


PDF_KINDS = (dose_table, superscripts, glued, micro_units, columns, footer_block, untitled)
TEXT_KINDS = ((markdown_superscripts, ".md"), (text_bullets, ".txt"))
