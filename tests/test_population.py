"""Who the guidance is for (ground/population.py): a question about a child, a pregnancy or renal
impairment gets a notice when the passages speak only of others, or when a sentence of their
documents excludes that population ("It does not cover pregnancy, children ..."): a ✓ under an
adult dose must not pass for an answer about a child. Generated phrasings, real text end to end."""

from __future__ import annotations

import itertools

import pytest

from ragmed.ground.population import exclusions, population_notices, question_populations
from ragmed.types import Passage
from support import pdfgen

# how each population is written in a question, and in a document
ASKED = {"children": ["a child", "children", "my baby", "a toddler", "paediatric patients", "kids"],
         "pregnancy": ["a pregnant woman", "pregnancy", "pregnant patients"],
         "renal impairment": ["renal impairment", "kidney disease", "renal insufficiency"],
         "older adults": ["elderly patients", "older adults", "the elderly"]}
WRITTEN = {"children": "children", "pregnancy": "pregnant women", "renal impairment": "patients with kidney disease",
           "older adults": "older adults"}
EXCLUDING = ["This protocol does not cover {p}.", "It is not intended for use in {p}.",
             "The guidance excludes {p}, who are referred to the specialist team.",
             "{P} are excluded from this protocol.", "It does not apply to {p} or to patients on a ward.",
             "This protocol covers adults seen in clinic; it does not cover {p}."]
MENTIONING = ["{P} need a dose adjusted to their weight.", "In {p}, check the blood pressure at every visit.",
              "Offer {p} the same follow-up appointment.", "The dose for {p} is given in table 2."]


def passage(text: str, n: int = 1, source: str = "protocol.pdf", page: int = 1) -> Passage:
    return Passage(id=f"p{n}-{hash(text)}", text=text, source=source, file_sha256="0" * 64, page_start=page,
                   page_end=page, page_labels=(str(page),), section=(), start=0, end=len(text), score=1.0,
                   rank=n)


@pytest.mark.parametrize("pop", sorted(ASKED))
def test_the_questions_population_is_found_however_it_is_written(pop):
    for who, frame in itertools.product(ASKED[pop], ["What is the dose of amlodipine for {}?",
                                                     "{} - how much paracetamol?", "Can {} take ramipril"]):
        assert pop in question_populations(frame.format(who)), frame.format(who)


def test_ages_written_in_the_question():
    for age in range(0, 18):
        for frame in ("dose for a {}-year-old", "my son is {} years old, what dose", "child aged {} dose"):
            assert "children" in question_populations(frame.format(age)), frame.format(age)
    for age in (18, 30, 64):
        assert question_populations(f"dose for a {age} year old man") == set(), age
    for age in (65, 72, 90):
        assert "older adults" in question_populations(f"dose for a {age}-year-old"), age
    assert "children" in question_populations("fever in a 6 month old")
    assert question_populations("What is the maximum dose of amlodipine?") == set()


@pytest.mark.parametrize("pop", sorted(WRITTEN))
def test_sentences_that_exclude_a_population_are_found_and_mentions_are_not_exclusions(pop):
    p = WRITTEN[pop]
    for frame in EXCLUDING:
        text = frame.format(p=p, P=p[:1].upper() + p[1:])
        assert exclusions([passage(text)], pop) == [(1, text)], text
    for frame in MENTIONING:
        text = frame.format(p=p, P=p[:1].upper() + p[1:])
        assert exclusions([passage(text)], pop) == [], text


def test_notices_say_which_population_is_missing_and_quote_the_exclusion():
    dose = passage("Start amlodipine 5 mg once daily in adults. Increase to a maximum of 10 mg once daily.", 1)
    scope = passage("Scope. It covers adults aged 18 years and older. It does not cover pregnancy, children or "
                    "patients admitted to a ward.", 2, page=1)
    # quoted with its source and page (a refusal lists only some passages' sources, so never as [n])
    notes = population_notices("Amlodipine dose for a 6 year old?", [dose, scope])
    assert notes == ['Your question is about children; protocol.pdf, page 1 says: "It does not cover pregnancy, '
                     'children or patients admitted to a ward."'], notes
    # found only by the scope search: named by its source and page
    notes = population_notices("Amlodipine dose for a 6 year old?", [dose], scope=[scope])
    assert notes == ['Your question is about children; protocol.pdf, page 1 says: "It does not cover pregnancy, '
                     'children or patients admitted to a ward."'], notes
    # no passage speaks of the population: said, with whom they do speak of
    notes = population_notices("amlodipine in renal impairment", [dose])
    assert len(notes) == 1 and "none of the passages found mentions renal impairment" in notes[0]
    assert "(they speak of adults)" in notes[0]
    # the passages speak of the population without excluding it, or the question names none: nothing
    kids = passage("Children need a dose of 0.1 mg/kg once daily.", 1)
    assert population_notices("amlodipine dose for children", [kids]) == []
    # ... or its document's title does ("Paracetamol dosing chart for children"), though its rows do not
    from dataclasses import replace

    row = replace(passage("16 kg | 240 mg every 6 hours", 1), title="Paracetamol dosing chart for children")
    assert population_notices("paracetamol dose for a child weighing 16 kg", [row]) == []
    assert population_notices("maximum dose of amlodipine", [dose, scope]) == []


def test_the_pipeline_shows_the_notice_on_real_text(tmp_path):
    """A generated protocol whose scope excludes children and whose dose page does not mention
    them: asking for a child's dose gets the notice quoting the scope sentence (in evidence mode
    and in the answer's notices), asking the adult question does not."""
    from ragmed import RagMed

    pdf = pdfgen.make_text_pdf(tmp_path / "docs" / "lisinopril-protocol.pdf", [
        ["Lisinopril protocol. Scope.", "This protocol covers adults aged 18 years and older attending the clinic.",
         "It does not cover pregnancy, children or patients admitted to a ward."],
        ["Dosing.", "Start lisinopril at 10 mg once daily.", "Increase the lisinopril dose to a maximum of 40 mg "
         "once daily if the target blood pressure is not reached after four weeks."],
    ])
    rag = RagMed(collection="pop", index_dir=tmp_path / "idx", abstain=False)
    assert rag.ingest([pdf], progress=False).ok
    child = rag.evidence("What is the lisinopril starting dose for a 7-year-old?")
    said = [n for n in child.notices if n.startswith("Your question is about children")]
    assert len(said) == 1 and "It does not cover pregnancy, children" in said[0], child.notices
    adult = rag.evidence("What is the lisinopril starting dose?")
    assert not [n for n in adult.notices if n.startswith("Your question is about")], adult.notices
    assert child.to_dict()["notices"] == child.notices  # the JSON front ends carry it too
