"""Document dates read from the documents (issue 25): the 8 real guideline PDFs, generated PDFs and
text files, `docs list`, and the admin's correction (API and CLI)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ragmed.cli import cli as cli_main
from ragmed.errors import InputError
from ragmed.ingest.dates import checked_date, document_dating, stated_date

from conftest import need_eval

# Each date as the PDF states it on its first pages (looked up by hand in each PDF), the source and
# words ragmed must record. The NIDDK booklet's text layer is unreadable (its fonts map glyphs to
# the wrong letters: page 1 reads "OpblvogpvtgIlpambmg"), so its stated date cannot be read; ragmed
# must fall back to the PDF's creation date (2008-05-06) and say so.
EXPECTED = {
    "cdc-2016-infection-prevention-outpatient-settings.pdf": ("2016-09", "document text", "Version 2.3"),
    "cdc-2022-opioid-prescribing-guideline.pdf": ("2022-11-04", "document text", "vember 4, 2022"),
    "cdc-2023-what-you-need-to-know-about-tb.pdf": ("2023-10", "document text", "October 2023"),
    "niddk-eating-and-diabetes.pdf": ("2008-05-06", "pdf metadata", "creation date"),
    "who-2016-ipc-core-components-guidelines.pdf": ("2016", "document text", "© World Health Organization 2016"),
    "who-2022-schistosomiasis-guideline.pdf": ("2022", "document text", "© World Health Organization 2022"),
    "who-2023-malaria-guidelines.pdf": ("2023-10-16", "document text", "16 October 2023"),
    "who-emro-2019-healthy-diet.pdf": ("2019", "document text", "© World Health Organization 2019"),
}


def test_the_eight_guideline_pdfs_are_dated_as_they_state():
    """Each PDF's pages read as ingestion reads them (pypdf text, normalised; the PDF's metadata date
    as the fallback), only the pages the date rule looks at: ingesting all eight (451 pages of
    malaria guideline embedded) would take minutes. The whole ingest path, `docs list` included, is
    checked on a generated PDF below."""
    from ragmed.ingest.dates import pdf_dating

    folder = need_eval("guidelines")
    assert set(EXPECTED) <= {p.name for p in folder.glob("*.pdf")}
    for name, (date, source, words) in EXPECTED.items():
        d = pdf_dating(folder / name)
        assert (d.value, d.source) == (date, source), (name, d)
        assert words in d.evidence, (name, d.evidence)


def test_a_revision_date_wins_over_the_first_publication_and_the_cover():
    pages = ["Ward protocol: sepsis\nPublished January 2020\nApproved by the board",
             "Contents\nRevised: 12 March 2024\nLast reviewed 2023-06-01",
             "Patients are reviewed in March 2019 audits."]
    assert stated_date(pages)[0] == "2024-03-12"
    # unlabelled: the cover's date, not one in the body; a copyright year when nothing else
    assert stated_date(["Sepsis protocol", "October 2021", "In May 2010 a trial..."])[0] == "2021-10"
    assert stated_date(["Sepsis protocol", "© Example Health Trust 2018. All rights reserved."])[0] == "2018"
    assert stated_date(["Sepsis protocol", "Give 30 mL/kg of fluid within 3 hours."]) == ("", "")


def test_no_stated_date_falls_back_to_metadata_then_file_time_and_says_so():
    d = document_dating(["No date here."], "2019-04-02", 0.0)
    assert (d.value, d.source) == ("2019-04-02", "pdf metadata")
    d = document_dating(["No date here."], "", 86400.0 * 365)
    assert (d.value, d.source) == ("1971-01-01", "file modified") and "states no date" in d.evidence


def test_generated_pdf_and_text_file_dates_through_ingest(tmp_path):
    from fpdf import FPDF

    from ragmed import RagMed

    docs = tmp_path / "docs"
    docs.mkdir()
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    for line in ["Anticoagulation clinic protocol", "Last updated: 5 February 2025",
                 "Check the INR every 4 weeks once it is stable in the target range."]:
        pdf.cell(0, 10, line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(docs / "anticoag.pdf"))
    (docs / "notes.md").write_text("# Ward notes\n\nStaff clean their hands for 20 seconds before each patient.\n")
    rag = RagMed(collection="dated", index_dir=tmp_path / "idx")
    assert rag.ingest([docs]).ok
    infos = {Path(i.path).name: i for i in rag.documents()}
    assert (infos["anticoag.pdf"].date, infos["anticoag.pdf"].date_source) == ("2025-02-05", "document text")
    assert infos["notes.md"].date_source == "file modified"

    # the admin corrects a date: API, then CLI; both recorded as set by admin
    fixed = rag.set_date(docs / "notes.md", "2024-07")
    assert (fixed.date, fixed.date_source) == ("2024-07", "set by admin")
    with pytest.raises(InputError, match="YYYY-MM-DD"):
        rag.set_date(docs / "notes.md", "July 2024")
    with pytest.raises(InputError, match="not in this collection"):
        rag.set_date(docs / "missing.md", "2024-07-01")
    out = CliRunner().invoke(cli_main, ["docs", "date", str(docs / "anticoag.pdf"), "2025-03-01",
                                        "--collection", "dated", "--index-dir", str(tmp_path / "idx")])
    assert out.exit_code == 0, out.output
    assert "dated 2025-03-01 (set by admin)" in out.output
    listed = json.loads(CliRunner().invoke(cli_main, ["docs", "list", "--json", "--collection", "dated",
                                                      "--index-dir", str(tmp_path / "idx")]).output)
    assert {Path(d["path"]).name: d["date_source"] for d in listed} == {"anticoag.pdf": "set by admin",
                                                                         "notes.md": "set by admin"}
    text = CliRunner().invoke(cli_main, ["docs", "list", "--collection", "dated", "--index-dir", str(tmp_path / "idx")])
    assert "dated 2024-07 (set by admin)" in text.output
    again = {Path(i.path).name: i for i in RagMed(collection="dated", index_dir=tmp_path / "idx").documents()}
    assert again["anticoag.pdf"].date == "2025-03-01"


def test_checked_date_refuses_impossible_dates():
    assert checked_date(" 2024-02-29 ") == "2024-02-29"
    for bad in ("2023-02-30", "2024-13", "24-01-01", ""):
        with pytest.raises(ValueError):
            checked_date(bad)
