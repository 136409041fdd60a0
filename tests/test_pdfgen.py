"""Sanity checks for the test-PDF generators in tests/support/pdfgen.py."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytest.importorskip("fpdf")
from pypdf import PdfReader  # noqa: E402
from pypdf.errors import PdfReadError  # noqa: E402

from support import pdfgen  # noqa: E402

norm = pdfgen.norm


def _outline_tree(reader: PdfReader, items=None) -> list:
    """Outline as nested [(title, page_1_based, [children])]."""
    items = reader.outline if items is None else items
    out: list = []
    for it in items:
        if isinstance(it, list):
            out[-1][2].extend(_outline_tree(reader, it))
        else:
            out.append((it.title, reader.get_destination_page_number(it) + 1, []))
    return out


@pytest.fixture(scope="module")
def guideline(tmp_path_factory):
    path = tmp_path_factory.mktemp("pdfs") / "guideline.pdf"
    info = pdfgen.make_guideline_pdf(path)
    return path, info, PdfReader(path)


def test_guideline_pages_and_labels(guideline):
    _, info, reader = guideline
    assert len(reader.pages) == info["pages"] == 5
    assert reader.page_labels == info["page_labels"] == ["Cover", "1", "2", "3", "4"]


def test_guideline_outline(guideline):
    _, info, reader = guideline
    tree = _outline_tree(reader)
    assert [(t, p) for t, p, _ in tree] == [
        ("1 Introduction", 2), ("2 Assessment", 3), ("3 Treatment", 4), ("4 Dosing table", 5)
    ]
    assessment = tree[1]
    assert [(t, p) for t, p, _ in assessment[2]] == [("2.1 Vital signs", 3)]
    flat = {t: p for t, p, _ in tree} | {t: p for _, _, kids in tree for t, p, _ in kids}
    assert flat == info["headings"]


def test_guideline_without_outline(tmp_path):
    info = pdfgen.make_guideline_pdf(tmp_path / "g.pdf", outline=False)
    reader = PdfReader(tmp_path / "g.pdf")
    assert reader.outline == []
    assert len(reader.pages) == 5 and info["outline"] is False


def test_guideline_text(guideline):
    _, info, reader = guideline
    texts = [p.extract_text() for p in reader.pages]
    for i, text in enumerate(texts, start=1):
        lines = text.strip().splitlines()
        assert lines[0] == info["header"]
        assert lines[-1] == f"Page {i} of 5"
    for heading, page in info["headings"].items():
        assert heading in texts[page - 1].splitlines()
    for key, (sentence, page) in info["facts"].items():
        if key == "second_line":  # hyphenated across a line break
            continue
        assert norm(sentence) in norm(texts[page - 1]), key
    first, second, page = info["hyphenated"]
    assert f"{first}\n{second}" in texts[page - 1]
    items, page = info["bullets"]
    for item in items:
        assert f"\u2022 {item}" in texts[page - 1]
    table_text = texts[info["table_page"] - 1]
    for row in info["table_rows"]:
        assert " ".join(row) in table_text


def test_guideline_is_deterministic(tmp_path):
    pdfgen.make_guideline_pdf(tmp_path / "a.pdf")
    pdfgen.make_guideline_pdf(tmp_path / "b.pdf")
    assert (tmp_path / "a.pdf").read_bytes() == (tmp_path / "b.pdf").read_bytes()


def test_blank_page(tmp_path):
    info = pdfgen.make_blank_page_pdf(tmp_path / "blank.pdf")
    reader = PdfReader(tmp_path / "blank.pdf")
    assert len(reader.pages) == info["pages"] == 3
    for i, page in enumerate(reader.pages, start=1):
        text = page.extract_text().strip()
        assert (text == "") == (i in info["blank_pages"])


def test_encrypted(tmp_path):
    info = pdfgen.make_encrypted_pdf(tmp_path / "enc.pdf")
    reader = PdfReader(tmp_path / "enc.pdf")
    assert reader.is_encrypted
    assert not reader.decrypt("")  # PasswordType.NOT_DECRYPTED == 0
    with pytest.raises(PdfReadError):
        reader.pages[0].extract_text()
    reader = PdfReader(tmp_path / "enc.pdf")
    assert reader.decrypt(info["user_password"])
    assert len(reader.pages) == info["pages"]
    assert info["text"] in norm(reader.pages[0].extract_text())


def test_encrypted_empty_password(tmp_path):
    info = pdfgen.make_encrypted_empty_password_pdf(tmp_path / "enc0.pdf")
    reader = PdfReader(tmp_path / "enc0.pdf")
    assert reader.is_encrypted
    assert len(reader.pages) == info["pages"]  # opens without a password
    assert info["text"] in norm(reader.pages[0].extract_text())


def test_corrupt(tmp_path):
    pdfgen.make_corrupt_pdf(tmp_path / "bad.pdf")
    assert (tmp_path / "bad.pdf").read_bytes().startswith(b"%PDF-1.7")
    try:
        n_pages = len(PdfReader(tmp_path / "bad.pdf").pages)
    except PdfReadError:  # what pypdf 7 does (PdfStreamError / "EOF marker not found")
        return
    assert n_pages == 0


@pytest.mark.parametrize("maker", [pdfgen.make_not_a_pdf, pdfgen.make_empty_file])
def test_not_pdf_and_empty(tmp_path, maker):
    path = tmp_path / "x.pdf"
    info = maker(path)
    assert path.stat().st_size == info["size"]
    with pytest.raises(PdfReadError):
        PdfReader(path)


def test_sample_pdf_script(tmp_path):
    root = Path(__file__).resolve().parent.parent
    script = root / "scripts" / "make_sample_pdf.py"
    src = root / "scripts" / "sample_source" / "demo-clinic-hypertension-protocol.md"
    assert script.exists() and src.exists()
    spec = importlib.util.spec_from_file_location("make_sample_pdf", script)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = mod.build(src, tmp_path / "sample.pdf")
    reader = PdfReader(out)
    assert 4 <= len(reader.pages) <= 6
    assert reader.page_labels[0] == "i"
    assert reader.page_labels[1:] == [str(i) for i in range(1, len(reader.pages))]
    assert reader.outline
    assert "Patients should rest seated for 5 minutes" in reader.pages[1].extract_text()
