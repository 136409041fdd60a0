"""The gate reads the form of the asked answer and short forms the documents never write
(ground/forms.py, ground/shortforms.py), on a collection of leaflets written here.

Real components: the real MiniLM embedder, real Chroma and BM25, calibrated with `RagMed.calibrate`
on questions of its own (none of them asked below).
"""

from __future__ import annotations

import re

import pytest
from support.collections import calibrated

from ragmed.ground import asking, forms, gate, shortforms
from ragmed.tokenize import STOPWORDS

VIALS = """# Injection safety in the clinic

## Multi-dose vials

Date multi-dose vials when they are first opened. Discard opened multi-dose vials within 28 days,
unless the manufacturer gives a shorter time. Keep multi-dose vials away from the patient treatment
area.

## Single-dose vials

Single-dose vials are for one patient and one procedure only. Never combine the leftover contents of
single-dose vials.

## Cleaning

Clean the medication preparation area every day. Use one sterile needle and one sterile syringe for
each injection.
"""

WORMS = """# Schistosomiasis in children

## Treatment

Schistosomiasis is treated with praziquantel given once, at 40 mg/kg of body weight. Children from
2 years of age are treated in school campaigns.

## Prevention

Schistosomiasis spreads in fresh water. Schistosomiasis control needs safe water and sanitation, and
regular treatment of school-age children where schistosomiasis is common.
"""


@pytest.fixture(scope="module")
def rag(tmp_path_factory):
    return calibrated(tmp_path_factory, "forms", {"vials.md": VIALS, "worms.md": WORMS},
                      ["When should multi-dose vials be discarded?", "Who can use a single-dose vial?",
                       "How is schistosomiasis treated?", "How does schistosomiasis spread?",
                       "How often is the preparation area cleaned?"])


# -- the form of the asked answer ----------------------------------------------------------------

@pytest.mark.parametrize("question,form", [
    ("how many hours can an opened vial be kept", "hours"),
    ("how long in days until opened vials are discarded", "days"),
    ("hand hygiene compliance target percent", "percent"),
    ("price of one praziquantel treatment", "money"),
    ("bleach dilution for cleaning", "ratio"),
    ("how long does praziquantel take to work", ""),  # a duration in any unit
    ("is praziquantel safe", ""),  # yes or no: no form
])
def test_the_form_a_question_names(question, form):
    assert forms.asked_form(question) == form


def test_a_value_of_another_form_does_not_answer():
    subject = {"vial", "open"}
    days = "Discard opened multi-dose vials within 28 days."
    assert forms.states_form(days, "days", subject, 2)
    assert not forms.states_form(days, "hours", subject, 2)  # 28 days is not a number of hours
    assert forms.states_form("Use opened vials within 24 h.", "hours", subject, 2)
    assert forms.states_form("Compliance rose to 80% on the ward.", "percent", {"complianc"})
    assert not forms.states_form("Compliance was audited 4 times.", "percent", {"complianc"})
    assert forms.states_form("One treatment costs US$ 0.08 per tablet.", "money", {"treatment"})
    assert not forms.states_form("One treatment is 40 mg/kg.", "money", {"treatment"})
    assert forms.states_form("Dilute bleach 1:100 in water.", "ratio", {"bleach"})


def test_a_value_the_question_names_must_be_stated():
    sents = ["Children from 2 years of age are treated.", "Discard opened vials within 28 days."]
    assert forms.unstated_value("treatment under 2 yrs", sents) == ""  # 2 yrs = 2 years
    assert forms.unstated_value("vials 4 weeks", sents) == ""  # 4 weeks are 28 days (pint converts)
    assert forms.unstated_value("vials 6 weeks", sents) == "6 weeks"
    assert forms.unstated_value("can it come back after 10 years", sents) == "10 years"
    assert forms.unstated_value("sugar over 240", sents) == ""  # a bare number is not checked


def test_a_subject_word_in_the_heading_counts_near_the_value():
    text = "Check your blood glucose every 4 hours."
    assert not asking.states_kind(text, "frequency", {"sick", "glucos"}, 2)
    assert asking.states_kind(text, "frequency", {"sick", "glucos"}, 2, given={"sick"})
    # the heading alone does not do: the sentence itself must name the subject
    assert not asking.states_kind("Rest every 4 hours.", "frequency", {"sick", "glucos"}, 2, given={"sick"})


def test_near_miss_asking_another_unit_is_refused(rag):
    d = rag.answerability("how many hours can an opened single-dose vial be kept")
    assert not d.answerable and d.reason == "no_answer_of_kind", d
    assert "hours" in d.explanation and not re.search(r"\d\.\d", d.explanation), d.explanation  # no raw scores
    ok = rag.answerability("how many days can an opened multi-dose vial be used")
    assert ok.answerable and ok.reason == "covered", ok


def test_near_miss_asking_a_price_is_refused(rag):
    d = rag.answerability("what is the price of one praziquantel treatment")
    assert not d.answerable and d.reason in ("no_answer_of_kind", "not_covered"), d
    assert forms.asked_form("what is the price of one praziquantel treatment") == "money"


# -- short forms ----------------------------------------------------------------------------------

def test_clipped_word_completes_to_the_collections_most_used_term():
    df = {"schistosomiasi": 40, "schistosoma": 9, "hypotens": 3, "hypoglycemia": 3}.get
    terms = ["schistosomiasi", "schistosoma", "hypotens", "hypoglycemia"]
    assert shortforms.completion("schisto", terms, lambda t: df(t, 0)) == "schistosomiasi"
    assert shortforms.completion("hypo", terms, lambda t: df(t, 0)) is None  # no clear winner: as typed
    assert shortforms.completion("sch", terms, lambda t: df(t, 0)) is None  # too short to read as a clipping


def test_initialisms_of_the_collections_phrases():
    texts = [VIALS, WORMS, "A focus group study was held. Another focus group study followed."]
    table = shortforms.initialisms(texts, STOPWORDS, asking.rarity)
    assert table["mdv"] == "multi-dose vials"  # hyphenated parts count as words
    assert table["sdv"] == "single-dose vials"
    assert "fgs" in table and table["fgs"] == "focus group study"  # only phrase with these initials


def test_undefined_initialism_and_clipped_word_are_answered(rag):
    d = rag.answerability("mdv discard when")
    assert d.answerable and d.reason == "covered", d
    assert "multi-dose vials" in d.query, d
    d = rag.answerability("schisto treatment kids")
    assert d.answerable, d
    assert d.corrected.get("schisto", "").startswith("schistosomiasi"), d.corrected


def test_words_the_collection_has_are_not_rewritten(rag):
    snap = rag.index.lexical_snapshot()
    vocab = gate.vocabulary_of(snap)
    assert vocab.match("vial") == "vial"  # an index term stays as it is
    q, used = gate.searched_question("single-dose vial", {}, rag.index, snap)
    assert q == "" and used == {}


def test_coverage_does_not_depend_on_another_document_holding_the_typed_form():
    from ragmed.types import Passage

    text = "If your blood glucose is low, drink juice, then check your blood glucose again after 15 minutes."
    p = Passage(id="a", text=text, source="x.pdf", file_sha256="", page_start=1, page_end=1,
                page_labels=("1",), section=(), start=0, end=len(text), score=1.0, rank=1)
    q = "recheck sugar after juice"
    without = asking.Vocabulary(frozenset({"check", "sugar", "juic", "glucos", "blood"}))
    with_it = asking.Vocabulary(without.terms | {"recheck"})  # an unrelated protocol adds "recheck"
    a = gate.features(q, [p], without, asking.key_terms(q, gate.QUESTION_FILLER, without))
    b = gate.features(q, [p], with_it, asking.key_terms(q, gate.QUESTION_FILLER, with_it))
    assert a == b
    names = gate.FEATURES
    assert b[names.index("coverage")] == pytest.approx(a[names.index("coverage")]) and a[names.index("coverage")] > 0.5
    # an everyday word is not bent to a passage's word ("crush" is not "brush")
    terms = gate.in_passages(asking.key_terms("crush tablets", gate.QUESTION_FILLER, None), {"brush", "tablet"})
    assert [t.term for t in terms] == ["crush", "tablet"]
