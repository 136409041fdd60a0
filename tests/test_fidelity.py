"""Text fidelity by kind (issue 20): each test generates its input and asserts the right text."""

from __future__ import annotations

import re

import pytest

pytest.importorskip("fpdf")
from conftest import GUIDELINES, SAMPLE_PDF, need_eval  # noqa: E402
from support import fidelity_docs as F  # noqa: E402

from ragmed.ingest.chunker import chunk_document  # noqa: E402
from ragmed.ingest.extract import extract  # noqa: E402
from ragmed.ingest.layout import read_page  # noqa: E402
from ragmed.ingest.structure import detect_headings  # noqa: E402
from ragmed.ingest.text import normalize, strip_running_lines  # noqa: E402
from ragmed.tokenize import tokenize  # noqa: E402


def flat(text: str) -> str:
    """Whitespace collapsed and table cell separators read as spaces."""
    return re.sub(r"\s+", " ", text.replace(" | ", " ")).strip()


KINDS = [(mk, ".pdf") for mk in F.PDF_KINDS] + list(F.TEXT_KINDS)


@pytest.mark.parametrize("maker,suffix", KINDS, ids=[mk.__name__ for mk, _ in KINDS])
def test_every_line_number_and_row_kept(tmp_path, maker, suffix):
    truth = maker(tmp_path / f"{maker.__name__}{suffix}")
    doc = extract(truth.path)
    text = flat(doc.text)
    for line in truth.lines:
        assert flat(line) in text, f"{truth.kind}: missing {line!r}"
    for number in truth.numbers:
        assert flat(number) in text, f"{truth.kind}: number/unit lost: {number!r}"
    for row in truth.rows:
        assert row in text, f"{truth.kind}: table row lost: {row!r}"
    for line in truth.furniture:
        assert line not in doc.text, f"{truth.kind}: page furniture kept: {line!r}"


def test_footnote_digits_are_not_glued_to_thresholds(tmp_path):
    doc = extract(F.superscripts(tmp_path / "s.pdf").path)
    assert "below 30 [1] mL" in doc.text and "301" not in doc.text
    assert "between 30 and 45 [2] mL" in doc.text and "452" not in doc.text
    assert normalize("1.5 × 10⁹/L and 100 × 10⁹/L; 10⁻³") == "1.5 × 10^9/L and 100 × 10^9/L; 10^-3"
    assert normalize("1.73 m² and 5 cm³; SpO₂") == "1.73 m2 and 5 cm3; SpO2"


def test_running_lines_only_when_they_truly_repeat():
    pages = [f"Clinic chart\nBody weight | Dose\n{5 + 3 * i} kg | {75 + 45 * i} mg\nmiddle {i}\n"
             f"{6 + 3 * i} kg | {90 + 45 * i} mg\n{7 + 3 * i} kg 105 mg every 6 h\nPage {i + 1} of 4" for i in range(4)]
    cleaned, removed = strip_running_lines(pages)
    assert removed == 8  # "Clinic chart" and "Page N of 4" on each page
    for i, page in enumerate(cleaned):
        assert "Clinic chart" not in page and "Page" not in page
        assert f"{7 + 3 * i} kg 105 mg every 6 h" in page  # same shape, other numbers: a row, kept
        assert "Body weight | Dose" in page  # a repeated header row is a table row: kept


def test_glued_page_reread_in_layout_mode_else_warned(tmp_path):
    doc = extract(F.glued(tmp_path / "g.pdf").path)
    assert "The loading dose of intravenous amiodarone is 300 mg over 20 minutes" in doc.text
    assert "Check the QT interval and serum potassium" in doc.text

    class Glued:  # a page whose layout mode is glued too: nothing to fix, so a page warning
        def extract_text(self, **kw):
            return "Theloadingdoseofintravenousamiodarone is given over twenty minutes through a central line " * 3

    page = read_page(Glued(), 7)
    assert page.warnings and page.warnings[0].startswith("page 7: words run together")


def test_interleaved_columns_reread_and_warned(tmp_path):
    truth = F.columns(tmp_path / "c.pdf")
    doc = extract(truth.path)
    left, right = " ".join(truth.lines[:4]), " ".join(truth.lines[4:])
    assert left in flat(doc.text) and right in flat(doc.text)
    assert any(w.startswith("page 1: two columns were interleaved") for w in doc.warnings)


def test_page_foot_block_not_glued_to_the_list(tmp_path):
    doc = extract(F.footer_block(tmp_path / "f.pdf").path)
    assert "Weight loss\n\nRiverside Department of Health" in doc.text


def test_micro_units_one_token():
    want = {"25mcg"}
    for spelling in ("25µg", "25 µg", "25 μg", "25 mcg", "25 ug", "25 micrograms", "25 microgrammes"):
        assert want <= set(tokenize(f"start at {spelling} daily")), spelling
    assert "5mg" in tokenize("5 mg") and "5mg" in tokenize("5mg")
    assert "10umol" in tokenize("10 µmol/L") and "10umol" in tokenize("10 micromol/L")


def test_bullet_glyphs_mapped():
    assert normalize(" ï acute pain (duration of <1 month),") == "◦ acute pain (duration of <1 month),"
    assert normalize("\uf0b7 chronic pain") == "• chronic pain"
    assert normalize("a naïve patient") == "a naïve patient"


def test_sentence_case_numbered_headings_are_sections():
    text = ("1. Objectif tensionnel\n\nChez l'adulte, l'objectif est inférieur à 140/90 mmHg.\n"
            "Les patients stables sont revus tous les 6 mois.\n\n2. Traitement initial\n\n"
            "Commencer par le ramipril 2,5 mg une fois par jour.\n")
    assert [h.title for h in detect_headings(text)] == ["1. Objectif tensionnel", "2. Traitement initial"]
    steps = "Steps:\n1. Give oral fluids now\n2. Check the pulse\n3. Call for help\n"
    assert detect_headings(steps) == []  # a numbered list on adjacent lines stays a list


def test_title_from_first_heading_and_its_source(tmp_path):
    doc = extract(F.untitled(tmp_path / "scan_0042.pdf").path)
    assert (doc.title, doc.title_source) == ("HAND HYGIENE PROTOCOL", "first heading")
    doc = extract(SAMPLE_PDF)
    assert doc.title_source == "metadata"


def test_table_rows_chunked_with_header_and_page(tmp_path, embedder):
    truth = F.dose_table(tmp_path / "chart.pdf")
    doc = extract(truth.path)
    chunks, _ = chunk_document(doc, embedder, 200, "chart")
    rows = [c for c in chunks if "kg | " in c.text]
    head = "Table 1. Oral paracetamol 15 mg/kg by body weight\nBody weight | Single dose | Interval\n"
    assert all(c.text.startswith(head) for c in rows)  # caption and header row in every group
    found = {}
    for c in rows:
        assert c.page_start == c.page_end  # a row group never crosses a page
        for line in c.text.split("\n")[2:]:
            found[line.replace(" | ", " ")] = c.page_start
    assert found == truth.pages  # all 36 rows, each with its own page


def test_dose_question_retrieves_and_cites_the_row(tmp_path):
    from ragmed import RagMed

    truth = F.dose_table(tmp_path / "paediatric-chart.pdf")
    rag = RagMed(collection="chart", index_dir=tmp_path / "idx")
    micro = F.micro_units(tmp_path / "thyroid-note.pdf")
    report = rag.ingest([truth.path, micro.path, SAMPLE_PDF])
    assert report.ok, report.to_dict()
    for weight, dose, page in ((16, 240, 1), (22, 330, 2), (39, 585, 3)):
        top = rag.search(f"What is the paracetamol dose for a child weighing {weight} kg?", k=3)
        hits = [p for p in top if f"{weight} kg | {dose} mg | every 6 h" in p.text]
        assert hits, [p.text[:80] for p in top]
        assert hits[0].page_start == page and hits[0].text.startswith("Table 1. Oral paracetamol")
    for spelling in ("25µg", "25 mcg", "25 micrograms", "25 ug"):  # one unit spelling to BM25
        top = rag.search(spelling, k=1, mode="lexical")
        assert top and "Levothyroxine: start at 25μg" in top[0].text, spelling


def test_real_guidelines_bullets_and_footer():
    need_eval("guidelines")
    doc = extract(GUIDELINES / "cdc-2022-opioid-prescribing-guideline.pdf")
    page9 = doc.pages[8].text
    assert "◦ acute pain (duration of <1 month)" in page9
    assert not re.search(r"(?m)^ï ", doc.text)
    tb = extract(GUIDELINES / "cdc-2023-what-you-need-to-know-about-tb.pdf")
    assert re.search(r"Weight loss\n\nU\.S\. Department of", tb.text)
