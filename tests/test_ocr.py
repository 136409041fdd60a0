"""OCR of scanned pages and image files (ingest/ocr.py, ingest/formats.py).

Skipped, with the reason, when no OCR engine is installed (`make setup` installs Debian's
tesseract-ocr when it runs as root with apt; otherwise `sudo apt-get install tesseract-ocr`)."""

from __future__ import annotations

import pytest
from support import pdfgen

from ragmed import RagMed
from ragmed.ingest import ocr

pytestmark = pytest.mark.skipif(
    ocr.available() is None, reason="no OCR engine: install tesseract-ocr (sudo apt-get install tesseract-ocr)")

DOSE = "Give adrenaline 0.5 mg intramuscularly into the outer thigh for anaphylaxis."


def _scan_of(tmp_path, sentences):
    """A page image rendered from a generated text PDF (what a scanner gives), 200 dpi."""
    src = pdfgen.make_text_pdf(tmp_path / "src.pdf", [sentences])
    image = ocr.render_pdf_page(src, 0, 200)
    image.save(tmp_path / "scan.png")
    return tmp_path / "scan.png"


def _scanned_pdf(tmp_path):
    """Page 1 has a text layer; page 2 is only an image of text."""
    from fpdf import FPDF

    scan = _scan_of(tmp_path, [DOSE, "Repeat after 5 minutes if there is no improvement."])
    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    pdf.add_page()
    pdf.multi_cell(0, 8, "Emergency drugs sheet. Page 2 lists the anaphylaxis treatment.")
    pdf.add_page()
    pdf.image(str(scan), x=0, y=0, w=210)
    path = tmp_path / "emergency.pdf"
    pdf.output(str(path))
    return path


def test_a_scanned_page_is_read_and_marked(tmp_path):
    path = _scanned_pdf(tmp_path)
    rag = RagMed(collection="scans", index_dir=tmp_path / "idx")
    [rep] = rag.ingest([path]).documents
    assert rep.status == "added" and rep.ocr_pages == [2] and rep.page_issues == []
    [top] = rag.search("adrenaline dose for anaphylaxis", k=1)
    assert "adrenaline 0.5 mg" in top.text and top.page_end == 2
    entry = rag.index.manifest().documents[str(path)]
    assert entry["ocr_pages"]["2"]["engine"].split()[0] in ("tesseract", "rapidocr")
    assert 0.5 <= entry["ocr_pages"]["2"]["confidence"] <= 1.0
    from ragmed.types import Citation

    [cite] = rag.with_currency([Citation(1, top.id, top.source, 2, "2", "", "q")])
    assert cite.ocr.startswith("text read by OCR (")


def test_ocr_off_keeps_the_unreadable_page_notice(tmp_path):
    path = _scanned_pdf(tmp_path)
    rag = RagMed(collection="scans-off", index_dir=tmp_path / "idx")
    [rep] = rag.ingest([path], ocr="off").documents
    assert [i.page for i in rep.page_issues] == [2] and "likely scanned" in rep.page_issues[0].problem
    assert rep.ocr_pages == []


def test_an_image_file_is_ingested_by_ocr(tmp_path):
    scan = _scan_of(tmp_path, ["Paracetamol 15 mg/kg every 6 hours, at most 60 mg/kg a day."])
    rag = RagMed(collection="images", index_dir=tmp_path / "idx")
    [rep] = rag.ingest([scan]).documents
    assert rep.status == "added" and rep.ocr_pages == [1]
    [top] = rag.search("paracetamol dose", k=1)
    assert "15 mg/kg every 6 hours" in top.text and "60 mg/kg" in top.text
