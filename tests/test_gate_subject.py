"""The gate reads drug names as people type them and checks that the question's subject is in the
passages (ground/drugnames.py, ground/subject.py, ground/shortforms.py's word families), on
leaflets written here from guideline wording.

Real components: the drug dictionary of drug-named-entity-recognition, the real MiniLM embedder,
real Chroma and BM25, the gate calibrated with `RagMed.calibrate` on questions of its own (none of
them asked below).
"""

from __future__ import annotations

import pytest
from support.collections import calibrated

from ragmed.ground import asking, drugnames, forms, gate, shortforms, subject
from ragmed.tokenize import tokenize
from ragmed.types import Passage

OPIOIDS = """# Opioids for pain: safety

## Benzodiazepines

Clinicians should use particular caution when prescribing opioid pain medication and
benzodiazepines concurrently. Taking opioids with benzodiazepines increases the risk of fatal
overdose, because both drugs cause sedation and suppress breathing.

## Naloxone

Clinicians should offer naloxone when prescribing opioids to patients at increased risk of overdose.

## Kidney stones

For acute kidney stone pain, NSAIDs are at least as effective as opioids. Give ibuprofen 400 mg
every 6 hours for 3 days.
"""

WORMS = """# Schistosomiasis

## Treatment

Schistosomiasis is treated with praziquantel given once, at 40 mg/kg of body weight. Children from
2 years of age are treated in school campaigns.

## Animals

Cattle, dogs and rodents can carry Schistosoma japonicum, so control programmes also look at
animal reservoirs near rice fields.
"""


@pytest.fixture(scope="module")
def rag(tmp_path_factory):
    return calibrated(tmp_path_factory, "subject", {"opioids.md": OPIOIDS, "worms.md": WORMS},
                      ["Can opioids be given with benzodiazepines?", "Who should be offered naloxone?",
                       "What treats kidney stone pain?", "How is schistosomiasis treated?",
                       "Which animals carry schistosomes?"])


def _passage(text: str) -> Passage:
    return Passage(id="a", text=text, source="x.pdf", file_sha256="", page_start=1, page_end=1,
                   page_labels=("1",), section=(), start=0, end=len(text), score=1.0, rank=1)


# -- drug names ---------------------------------------------------------------------------------------

def test_brand_names_read_as_generic_and_class():
    d = drugnames.drug("Xanax")
    assert d is not None and d.generic == ("alprazolam",) and "benzodiazepines" in d.classes
    assert drugnames.drug("narcan").generic == ("naloxone",)
    assert drugnames.drug("caps") is None and drugnames.drug("water") is None  # everyday words
    assert drugnames.drug("schistosomiasis") is None  # a disease, not a drug


def test_a_brand_the_collection_lacks_is_written_as_what_it_uses():
    terms = set(tokenize(OPIOIDS))
    assert drugnames.written_out("xanax and opioids together", terms) == {"xanax": "benzodiazepines"}
    assert drugnames.written_out("narcan for overdose", terms) == {"narcan": "naloxone"}
    assert drugnames.written_out("naloxone for overdose", terms) == {}  # a word the collection has stays
    assert drugnames.written_out("warfarin dose", terms) == {}  # nothing the collection holds: as typed


def test_a_drug_the_passages_do_not_name_is_unmentioned():
    stones = set(tokenize("For acute kidney stone pain, NSAIDs are at least as effective as opioids."))
    assert drugnames.unmentioned("how much morphine for kidney stone pain", stones) == "morphine"
    assert drugnames.unmentioned("how much ibuprofen for kidney stone pain", stones | {"ibuprofen"}) == ""
    # a brand name is mentioned through its generic name
    assert drugnames.unmentioned("oxycontin and kidney stones", set(tokenize("oxycodone for stones"))) == ""


# -- the subject of a question asking for a kind of answer ---------------------------------------------

def test_a_rare_subject_word_must_be_in_the_passages():
    vocab = asking.Vocabulary(frozenset(tokenize(WORMS)))
    seen = subject.passage_terms([_passage("Schistosomiasis is treated with praziquantel given once, "
                                           "at 40 mg/kg of body weight.")])
    for q, missing in (("praziquantel dose for cattle", "cattle"), ("praziquantel dose for children", ""),
                       ("is praziquantel given to cattle", "")):  # yes/no: left to the score
        terms = asking.key_terms(q, gate.QUESTION_FILLER, vocab)
        assert subject.missing_subject(asking.asked_kind(q) or "", terms, seen) == missing, q
    # a word the collection lacks ("moo") is the dense match's to judge, not this check's
    terms = asking.key_terms("praziquantel dose moo", gate.QUESTION_FILLER, vocab)
    assert subject.missing_subject("dose", terms, seen) == ""


def test_near_miss_on_another_subject_is_refused():
    # the passage the question's topic finds in a large collection, which holds "cattle" elsewhere:
    # the gate's answer-kind check (what `assess` applies to a question the score lets through)
    treatment = _passage("Schistosomiasis is treated with praziquantel given once, at 40 mg/kg of body "
                         "weight. Children from 2 years of age are treated in school campaigns.")
    vocab = asking.Vocabulary(frozenset(tokenize(WORMS)))
    for q, refused in (("praziquantel dose for cattle", True), ("praziquantel dose for children", False)):
        why = gate.unstated("dose", asking.key_terms(q, gate.QUESTION_FILLER, vocab), [treatment], q)
        assert bool(why) == refused and (not why or "'cattle'" in why), (q, why)


def test_near_miss_on_another_drug_is_refused(rag):
    d = rag.answerability("how much morphine for kidney stone pain")
    assert not d.answerable and "morphine" in d.explanation, d
    ok = rag.answerability("how much ibuprofen for kidney stone pain")
    assert ok.answerable and ok.reason == "covered", ok


def test_brand_name_question_is_answered(rag):
    d = rag.answerability("xanax and opioids together")
    assert d.answerable, d
    assert "benzodiazepines" in d.query and d.corrected.get("xanax") == "benzodiazepines", d


# -- clipped words: a family of completions -----------------------------------------------------------

def test_a_clipped_word_completes_when_one_word_family_dominates():
    # document frequencies of the guideline collection's "schisto-" terms (stems)
    df = {"schistosomiasi": 266, "schistosoma": 237, "schistosom": 33, "schistosomula": 1}
    assert shortforms.completion("schisto", list(df), lambda t: df.get(t, 0)) == "schistosomiasi"
    df2 = {"hypoglycaemia": 12, "hypoglycemia": 2, "hypotens": 3, "hypothes": 2}
    assert shortforms.completion("hypo", list(df2), lambda t: df2.get(t, 0)) == "hypoglycaemia"
    df3 = {"hypoglycaemia": 3, "hypotens": 3}  # two families as common: left as typed
    assert shortforms.completion("hypo", list(df3), lambda t: df3.get(t, 0)) is None


# -- a question asking for a norm (target, limit, threshold) ------------------------------------------

def test_a_norm_is_answered_by_a_sentence_that_sets_one():
    assert forms.asks_norm("hand hygiene compliance target percent") and forms.asks_norm("daily salt limit")
    assert not forms.asks_norm("how many minutes to rub hands")  # a unit, not a norm
    measured = _passage("A significant increase in hand hygiene compliance was observed from 26% for ICUs "
                        "and 36% for non-ICUs to 37% and 51%, respectively.")
    salt = _passage("Keeping salt intake to less than 5 g per day helps prevent hypertension.")
    vocab = asking.Vocabulary(frozenset(tokenize(measured.text + " " + salt.text)))
    cases = (("hand hygiene compliance target percent", measured, True),  # a measured value: no target
             ("hand hygiene compliance in ICUs percent", measured, False),  # no norm asked: the value answers
             ("daily salt limit adults", salt, False))
    for q, p, refused in cases:
        why = gate.unstated(asking.asked_kind(q) or "", asking.key_terms(q, gate.QUESTION_FILLER, vocab), [p], q)
        assert bool(why) == refused, (q, why)
