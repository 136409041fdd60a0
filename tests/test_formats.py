"""Word, web-page and image files, folder skips listed, the upload's formats (ingest/formats.py)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from ragmed import RagMed


def make_docx(path, *, title="Asthma protocol"):
    import docx

    d = docx.Document()
    d.core_properties.title = title
    d.add_heading("Asthma protocol", level=1)
    d.add_heading("Stepping up", level=2)
    d.add_paragraph("Step up to an inhaled corticosteroid when reliever use exceeds 3 times a week.")
    d.add_paragraph("Check inhaler technique", style="List Bullet")
    d.add_paragraph("Review in 4 weeks", style="List Bullet")
    d.add_heading("Doses", level=2)
    t = d.add_table(rows=3, cols=2)
    for r, (a, b) in enumerate([("Weight band", "Dose"), ("10-14 kg", "250 mg"), ("15-19 kg", "375 mg")]):
        t.cell(r, 0).text, t.cell(r, 1).text = a, b
    d.save(path)
    return path


HTML = """<html><head><title>Antibiotic course length</title></head><body>
<nav><a href="/">Home</a> | <a href="/about">About us</a> | Cookie settings</nav>
<article><h1>Antibiotic course length</h1><h2>Cystitis</h2>
<p>Uncomplicated cystitis in non-pregnant women is treated for 3 days with nitrofurantoin 100 mg twice daily.</p>
<h2>Pneumonia</h2><p>Community-acquired pneumonia of low severity is treated for 5 days.</p>
<ol><li>Reassess at 48 hours</li><li>Stop when afebrile for 48 hours</li></ol></article>
<footer>Copyright 2026 Example Health Trust. All rights reserved.</footer></body></html>"""


def test_docx_headings_lists_and_table_rows(tmp_path):
    from ragmed.ingest.formats import extract_file

    doc = extract_file(make_docx(tmp_path / "asthma.docx"))
    assert doc.kind == "docx" and doc.title == "Asthma protocol"
    assert [(h.title, h.level) for h in doc.headings] == [("Asthma protocol", 0), ("Stepping up", 1), ("Doses", 1)]
    lines = doc.text.split("\n")
    assert "\u2022 Check inhaler technique" in lines
    assert "Weight band: 10-14 kg | Dose: 250 mg" in lines and "Weight band: 15-19 kg | Dose: 375 mg" in lines
    for h in doc.headings:
        assert doc.text[h.offset:].startswith(h.title)


def test_html_main_content_without_navigation(tmp_path):
    from ragmed.ingest.formats import extract_file

    (tmp_path / "page.html").write_text(HTML)
    doc = extract_file(tmp_path / "page.html")
    assert doc.kind == "html" and doc.title == "Antibiotic course length"
    assert "treated for 3 days with nitrofurantoin 100 mg twice daily" in doc.text
    assert "Cookie settings" not in doc.text and "All rights reserved" not in doc.text
    assert [h.title for h in doc.headings] == ["Antibiotic course length", "Cystitis", "Pneumonia"]
    assert "2. Stop when afebrile for 48 hours" in doc.text.split("\n")


def test_folder_ingest_reads_docx_html_and_lists_every_skip(tmp_path):
    from ragmed.cli import cli as main

    d = tmp_path / "guidelines"
    d.mkdir()
    make_docx(d / "asthma.docx")
    (d / "antibiotics.htm").write_text(HTML)
    (d / "budget.xlsx").write_bytes(b"PK\x03\x04 not read")
    (d / "old.doc").write_bytes(b"\xd0\xcf\x11\xe0")
    (d / ".DS_Store").write_bytes(b"\x00")
    idx = str(tmp_path / "idx")
    runner = CliRunner()
    human = runner.invoke(main, ["ingest", str(d), "--index-dir", idx, "-c", "clinic", "-q"])
    assert human.exit_code == 0, human.output
    assert f"skipped    {d / 'budget.xlsx'}: unsupported file type .xlsx" in human.output
    assert "old.doc: unsupported file type .doc: legacy Word .doc is not read: save it as .docx" in human.output
    assert ".DS_Store: hidden file" in human.output
    assert "added      " in human.output and "asthma.docx" in human.output and "antibiotics.htm" in human.output
    data = json.loads(runner.invoke(main, ["ingest", str(d), "--index-dir", idx, "-c", "clinic", "-q", "--json"]).output)
    skipped = {r["path"].rsplit("/", 1)[-1]: r["error"] for r in data["documents"] if r["status"] == "skipped"}
    assert set(skipped) == {"budget.xlsx", "old.doc", ".DS_Store"} and data["ok"]
    found = RagMed(collection="clinic", index_dir=idx).search("weight band dose for a 15 kg child", k=3)
    assert any("15-19 kg | Dose: 375 mg" in p.text for p in found)
    found = RagMed(collection="clinic", index_dir=idx).search("how long is cystitis treated", k=1)
    assert found[0].source.endswith("antibiotics.htm") and found[0].section == ("Antibiotic course length", "Cystitis")


def test_unsupported_file_named_directly_fails(tmp_path):
    rag = RagMed(collection="xfiles", index_dir=tmp_path / "idx")
    (tmp_path / "sheet.xlsx").write_bytes(b"PK")
    (tmp_path / "broken.docx").write_text("not a zip")
    report = rag.ingest([tmp_path / "sheet.xlsx", tmp_path / "broken.docx"])
    errors = {d.path.rsplit("/", 1)[-1]: d.error for d in report.documents}
    assert not report.ok
    assert "unsupported file type .xlsx" in errors["sheet.xlsx"]
    assert "not a readable Word .docx file" in errors["broken.docx"]


@pytest.mark.parametrize("name", ["protocol.pdf", "asthma.docx", "page.html", "notes.txt", "notes.md", "scan.png"])
def test_upload_accepts_every_ingest_format(name):
    from ragmed.server.security import safe_upload_name

    assert safe_upload_name(name) == name


def test_upload_refuses_other_formats():
    from ragmed.errors import InputError
    from ragmed.server.security import safe_upload_name

    with pytest.raises(InputError, match="cannot be uploaded"):
        safe_upload_name("budget.xlsx")
