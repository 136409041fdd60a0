"""Evidence sentences as a clinician reads them (ground/passage_units.py): each list item apart,
heading lines never glued onto a sentence (the heading is the citation's section instead), and
every source line with its document's date. Generated text, then a generated PDF end to end."""

from __future__ import annotations

from fpdf import FPDF

from ragmed.ground.evidence import EvidenceSentence, dated
from ragmed.ground.passage_units import heading_above, section_of, units
from ragmed.types import Citation, Passage

ITEMS = ["For patients younger than 55 years, start lisinopril 10 mg once daily.",
         "For patients aged 55 years or older, start amlodipine 5 mg once daily.",
         "For patients with diabetes, start lisinopril regardless of age."]
LEAD = "The first medicine depends on age:"


def texts(text: str, titles: tuple[str, ...] = ()) -> list[str]:
    return [u.text(text) for u in units(text, titles)]


def passage(text: str, section: tuple[str, ...] = (), title: str = "") -> Passage:
    return Passage(id="p1", text=text, source="protocol.pdf", file_sha256="0" * 64, page_start=1, page_end=1,
                   page_labels=("1",), section=section, start=0, end=len(text), score=1.0, rank=1, title=title)


def test_each_list_item_is_its_own_sentence_whatever_its_mark():
    for mark in ["\u2022", "-", "*", "\u25aa", "1.", "2)", "(a)"]:
        text = LEAD + "\n" + "\n".join(f"{mark} {it}" for it in ITEMS)
        assert texts(text) == [LEAD, *ITEMS], mark
    # glyph bullets inside one line (the lead-in stays a sentence of its own, marks are dropped)
    assert texts(LEAD + " " + " ".join(f"\u2022 {it}" for it in ITEMS)) == [LEAD, *ITEMS]
    # an item wrapped over two lines is one item; prose after the list is its own sentence again
    wrapped = f"{LEAD}\n\u2022 For patients aged 55 years or older, start a calcium channel\nblocker (amlodipine).\n" \
              f"\u2022 {ITEMS[2]}\nReview every patient after 4 weeks."
    assert texts(wrapped) == [LEAD, "For patients aged 55 years or older, start a calcium channel blocker (amlodipine).",
                              ITEMS[2], "Review every patient after 4 weeks."]
    # an item of two sentences gives two
    assert texts(f"\u2022 {ITEMS[0]} {ITEMS[1]}") == ITEMS[:2]
    # an item that continues its lead-in (lower case) is shown with it
    salt = "You can reduce salt consumption by:\n\u2022 not adding salt during cooking\n\u2022 not having salt on the table"
    assert texts(salt) == ["You can reduce salt consumption by:",
                           "You can reduce salt consumption by: not adding salt during cooking",
                           "You can reduce salt consumption by: not having salt on the table"]


def test_heading_lines_are_not_glued_onto_sentences():
    text = ("Starting dose\n\nAmlodipine 5 mg once daily is the starting dose; review in 4 weeks.\n\n"
            "Monitoring\nCheck potassium two weeks after starting ramipril.")
    got = units(text)
    assert [" ".join(text[u.start:u.end].split()) for u in got] == [
        "Amlodipine 5 mg once daily is the starting dose; review in 4 weeks.",
        "Check potassium two weeks after starting ramipril."]
    assert [u.heading for u in got] == ["Starting dose", "Monitoring"]
    # stacked headings: the nearest one counts
    assert [u.heading for u in units("Hypertension protocol\nStarting dose\nStart amlodipine 5 mg daily.")] == \
        ["Starting dose"]
    # a run-in section title ("Starting doses Start ...") is cut when it is the passage's own
    assert texts("Starting doses Start amlodipine 5 mg once daily.", ("Medication doses", "Starting doses")) == \
        ["Start amlodipine 5 mg once daily."]
    assert texts("Starting doses Start amlodipine 5 mg once daily.") == ["Starting doses Start amlodipine 5 mg once daily."]


def test_prose_table_rows_and_wrapped_lines_are_not_headings():
    wrapped = "Start amlodipine 5 mg once daily and review\nKidney function after 2 weeks in every patient."
    assert texts(wrapped) == [" ".join(wrapped.split())]  # the line above does not end a sentence
    narrow = "Give the first dose with\nFood to avoid nausea."
    assert texts(narrow) == ["Give the first dose with Food to avoid nausea."]  # ends on a function word
    rows = "Drug Dose\nAmlodipine 5 mg\nRamipril 2.5 mg\nLosartan 50 mg"
    assert texts(rows) == ["Amlodipine 5 mg Ramipril 2.5 mg Losartan 50 mg"]  # values are never headings
    assert [u.heading for u in units(rows)] == ["Drug Dose"]
    # a list without marks (three or more short lines, or lines under a lower-case fragment) is no heading
    grid = "Symptoms include:\n\nChest pain\n\nFever\n\nNight sweats\n\nCall the clinic the same day."
    assert {u.heading for u in units(grid)} == {""}
    frag = "Weakness\nor fatigue\n\nChest pain Fever Chills\n\nCall the clinic the same day."
    assert {u.heading for u in units(frag)} == {""}
    assert texts("Stable patients are seen every 6 months. Annual review\nincludes kidney function.") == [
        "Stable patients are seen every 6 months.", "Annual review includes kidney function."]


def test_the_heading_above_a_sentence_is_its_citation_section():
    text = "Starting dose\n\nAmlodipine 5 mg once daily.\n\nMonitoring\n\nCheck potassium after two weeks."
    p = passage(text)
    assert section_of(p, "Amlodipine 5 mg once daily.") == "Starting dose"
    assert section_of(p, "Check potassium after two weeks.") == "Monitoring"
    sub = passage(text, section=("Medication doses",))
    assert section_of(sub, "Check potassium after two weeks.") == "Medication doses > Monitoring"
    # a heading already on the section path (or the title) is not repeated
    same = passage("Starting dose\nAmlodipine 5 mg once daily.", section=("Doses", "Starting dose"))
    assert heading_above(same, "Amlodipine 5 mg once daily.") == "" and section_of(same, "Amlodipine 5 mg") == \
        "Doses > Starting dose"


def test_evidence_sentences_take_their_citations_date():
    e = EvidenceSentence(2, "Start amlodipine 5 mg once daily.", 1.0, "p2", "a.pdf", 1, "1", "Doses")
    c = Citation(n=2, passage_id="p2", source="a.pdf", page=1, page_label="1", section="Doses", quote="x",
                 date="2026-01-01", version="3")
    other = EvidenceSentence(3, "Losartan is started at 50 mg.", 0.5, "p3", "b.pdf", 1, "1", "")
    out = dated([e, other], [c])
    assert (out[0].date, out[0].version) == ("2026-01-01", "3") and (out[1].date, out[1].version) == ("", "")
    assert out[0].to_dict()["date"] == "2026-01-01"


def _list_pdf(path) -> None:
    """A protocol without an outline whose headings are set in the body font (so extraction leaves
    them as lines of the text) and whose first-line choice is a bulleted list."""
    f = FPDF()
    f.add_page()
    f.set_font("helvetica", "", 10)
    for line in ["Starting dose", "", "Amlodipine 5 mg once daily is the starting dose for adults; review in 4 weeks.",
                 "", "Choosing the first medicine", "", LEAD]:
        f.multi_cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
    for it in ITEMS:
        f.cell(5, 5, "-")
        f.multi_cell(0, 5, it, new_x="LMARGIN", new_y="NEXT")
    f.output(str(path))


def test_a_pdf_list_and_plain_headings_end_to_end(tmp_path):
    from ragmed import RagMed

    (tmp_path / "docs").mkdir()
    _list_pdf(tmp_path / "docs" / "first-line.pdf")
    rag = RagMed(collection="layout", index_dir=tmp_path / "idx", abstain=False)
    assert rag.ingest([tmp_path / "docs"], progress=False).ok
    a = rag.evidence("Which medicine is started first for patients aged 55 or older?")
    shown = [e.text for e in a.evidence]
    assert ITEMS[1] in shown, shown  # the item itself, not the whole list in one sentence
    assert not any(s.count("For patients") > 1 for s in shown), shown
    assert not any(s.startswith(("Starting dose", "Choosing the first medicine")) for s in shown), shown
    dose = rag.evidence("What is the starting dose of amlodipine?")
    first = next(e for e in dose.evidence if e.text.startswith("Amlodipine 5 mg once daily"))
    assert first.section.endswith("Starting dose"), first
    assert first.date and first.date == next(c.date for c in dose.citations if c.n == first.n)
    cite = next(c for c in dose.citations if c.n == first.n and c.quote.startswith("Amlodipine"))
    assert cite.section.endswith("Starting dose"), cite
