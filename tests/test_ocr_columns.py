"""OCR reading order (ingest/reading_order.py): a two-column scan is read column by column.

The page is generated: a title across the page, two columns whose lines sit at the same heights
(the layout Tesseract's own order reads line by line across both columns), a footer across the
page; rendered to an image-only PNG, then OCR'd by the installed engine. The reading-order unit
tests use word boxes directly and run without an engine."""

from __future__ import annotations

import pytest

from ragmed.ingest import ocr, reading_order
from ragmed.ingest.reading_order import Word

TITLE = "Anaphylaxis treatment in adults"
LEFT = ["Give adrenaline 0.5 mg intramuscularly into the outer thigh as soon as anaphylaxis is suspected.",
        "Repeat the dose after 5 minutes when breathing or circulation does not improve.",
        "Lay the patient flat and raise the legs unless breathing is difficult."]
RIGHT = ["Start oxygen at 15 litres per minute through a mask with a reservoir bag.",
         "Give a fluid bolus of 500 mL of crystalloid when the blood pressure stays low.",
         "Observe every patient for at least 6 hours after the symptoms have settled."]
FOOTER = "Emergency drugs sheet, revised March 2026"


def _flat(text: str) -> str:
    return " ".join(text.split())


def _two_column_scan(tmp_path):
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.set_font("helvetica", "B", size=16)
    pdf.set_xy(15, 20)
    pdf.cell(180, 10, TITLE)
    pdf.set_font("helvetica", size=12)
    for x, sentences in ((15, LEFT), (110, RIGHT)):
        pdf.set_xy(x, 40)
        for sentence in sentences:
            pdf.set_x(x)
            pdf.multi_cell(85, 7, sentence)
            pdf.ln(4)
    pdf.set_xy(15, 150)
    pdf.cell(180, 8, FOOTER)
    src = tmp_path / "columns.pdf"
    pdf.output(str(src))
    image = ocr.render_pdf_page(src, 0, ocr.DPI)
    image.save(tmp_path / "columns.png")  # image only: no text layer
    return tmp_path / "columns.png"


@pytest.mark.skipif(ocr.available() is None,
                    reason="no OCR engine: install tesseract-ocr (sudo apt-get install tesseract-ocr)")
def test_a_two_column_scan_is_read_column_by_column(tmp_path):
    [page] = ocr.image_file(_two_column_scan(tmp_path))
    text = _flat(page.text)
    positions = []
    for sentence in [TITLE, *LEFT, *RIGHT, FOOTER]:
        assert sentence in text, f"{sentence!r} not read whole from the scan:\n{page.text}"
        positions.append(text.index(sentence))
    assert positions == sorted(positions), page.text  # title, left column, right column, footer


def _words(line: str, left: int, top: int, height: int = 20) -> list[Word]:
    """Boxes for the words of one typeset line (10 px a character, 5 px spaces)."""
    out, x = [], left
    for w in line.split():
        out.append(Word(w, x, top, x + 10 * len(w), top + height))
        x += 10 * len(w) + 5
    return out


def test_aligned_columns_are_read_one_after_the_other():
    left = ["alpha one two", "alpha three four", "alpha five six", "alpha seven", "alpha eight"]
    right = ["beta one two", "beta three four", "beta five six", "beta seven", "beta eight"]
    words = _words("A title across both columns of the page", 0, 0)
    for i, (a, b) in enumerate(zip(left, right)):
        words += _words(a, 0, 40 + 25 * i) + _words(b, 300, 40 + 25 * i)
    lines = [line.text for line in reading_order.order(words)]
    assert lines == ["A title across both columns of the page", *left, *right]
    text = reading_order.text(words)
    assert text.index("alpha eight") < text.index("beta one") and "\n\nbeta one two" in text


def test_table_rows_standing_apart_are_read_row_by_row():
    # a label column and a value column; rows 60 px apart (3 word heights, over ROW_GAP's 2)
    rows = [("Population:", "Adults with severe malaria"), ("Intervention:", "Artesunate 2.4 mg/kg"),
            ("Comparator:", "Quinine")]
    words = []
    for i, (label, value) in enumerate(rows):
        words += _words(label, 0, 80 * i) + _words(value, 200, 80 * i)
    assert [line.text for line in reading_order.order(words)] == [cell for row in rows for cell in row]


def test_a_column_of_bullets_stays_with_its_items():
    items = ["chicken", "beef", "fish", "tofu", "pork", "lamb"]
    words = []
    for i, item in enumerate(items):  # the marks 40 px (2 word heights) left of the items: a gutter
        words += [Word("•", 0, 25 * i + 5, 10, 25 * i + 15)] + _words(item, 50, 25 * i)
    assert [line.text for line in reading_order.order(words)] == [f"• {item}" for item in items]


def test_a_wide_space_in_two_justified_lines_is_not_a_gutter():
    # two lines whose inter-word spaces line up, 12 px wide: above GUTTER (0.5 x 20 px word height)
    # but under WIDE_GUTTER, and two lines are too few for a column: read line by line
    words = [Word("Give", 0, 0, 40, 20), Word("0.5 mg", 52, 0, 110, 20),
             Word("then", 0, 25, 40, 20 + 25), Word("repeat", 52, 25, 110, 45)]
    assert reading_order.text(words) == "Give 0.5 mg\nthen repeat"


def test_a_line_with_a_raised_footnote_stays_one_line():
    words = [Word("below", 0, 10, 50, 30), Word("30", 55, 10, 75, 30), Word("1", 77, 4, 83, 16),
             Word("mL/min", 90, 10, 150, 30)]
    assert reading_order.text(words) == "below 30 1 mL/min"


def test_no_words_no_text():
    assert reading_order.text([Word(" ", 0, 0, 5, 5)]) == "" and reading_order.order([]) == []


def test_the_engine_order_is_kept_on_request():
    read = ([(Word("b", 100, 0, 110, 10), (1, 1, 1)), (Word("a", 0, 0, 10, 10), (1, 1, 1)),
             (Word("c", 0, 50, 110, 60), (2, 1, 1))], "tesseract 5", [0.9, 0.8, 0.7])
    assert ocr.compose(read, "engine").text == "b a\n\nc"
    assert ocr.compose(read, "columns").text == "a\n\nb\n\nc"  # a 90 px gutter splits the first line
    assert ocr.compose(read).confidence == pytest.approx(0.8)
    with pytest.raises(ValueError, match="columns"):
        ocr.compose(read, "rows")
