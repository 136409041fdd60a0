"""More ways people ask, each with the gate's right decision (ground/gate.py, asking.py,
abbreviations.py), and the evidence sentence that answers shown first (ground/evidence.py).

Real components: leaflets written here, the real MiniLM embedder, real Chroma and BM25; the sample
hypertension protocol PDF for evidence ranking.
"""

from __future__ import annotations

import pytest
from support.collections import calibrated

from ragmed.ground import abbreviations, asking, gate

SCHISTO = """# Schistosomiasis: treatment in the clinic

## Treatment

Praziquantel (PZQ) is the medicine used to treat schistosomiasis. The dose is 40 mg/kg of body weight
given once. Pregnant women can be treated with praziquantel after the first trimester; breastfeeding
women can also be treated.

## Side effects

Side effects of praziquantel are usually mild: abdominal pain, headache and dizziness that pass within a
day.
"""

CLINIC = """# Clinic infection control

## Hand hygiene

Clean hands with alcohol-based hand rub before and after touching a patient. Wash hands with soap and
water when they are visibly soiled.

## Visitors

Visitors must clean their hands when they enter and leave the ward. Visitors with a cough or fever
should not visit until they are well.
"""

MALARIA = """# Malaria treatment

## Uncomplicated malaria

Treat uncomplicated falciparum malaria with an artemisinin-based combination therapy (ACT) for 3 days.
Give the first dose under observation.
"""


@pytest.fixture(scope="module")
def clinic(tmp_path_factory):
    return calibrated(tmp_path_factory, "styles",
                      {"schisto.md": SCHISTO, "clinic.md": CLINIC, "malaria.md": MALARIA},
                      ["How is schistosomiasis treated?", "What are the side effects of praziquantel?",
                       "When should hands be washed with soap?", "How is uncomplicated malaria treated?",
                       "Can visitors with a cough visit the ward?"])


def test_abbreviations_are_read_as_the_documents_define_them():
    text = ("Praziquantel (PZQ) is given once. Artemisinin-based combination therapy (ACT) is first line. "
            "Abbreviations: MD: mean difference; PZQ: praziquantel; WHO: World Health Organization.")
    table = abbreviations.definitions([text])
    assert table["pzq"] == "praziquantel" and table["act"] == "artemisinin-based combination therapy"
    assert table["md"] == "mean difference"
    q, used = abbreviations.expand("PZQ in pregnancy", table)
    assert q == "praziquantel (PZQ) in pregnancy" and used == {"PZQ": "praziquantel"}
    # clinical shorthand; an everyday word is taken as typed unless written in capitals
    assert abbreviations.expand("first line tx", {})[0] == "first line treatment (tx)"
    assert abbreviations.expand("the ward", {"ward": "wide area radio dispatch"}, lambda w: True)[1] == {}


def test_abbreviation_the_documents_define_is_answered(clinic):
    d = clinic.answerability("PZQ in pregnancy")
    assert d.answerable and d.reason == "covered", d
    assert d.corrected.get("PZQ") == "praziquantel" and "praziquantel (PZQ)" in d.query


def test_shorthand_question_is_answered(clinic):
    d = clinic.answerability("first line tx uncomplicated falciparum")
    assert d.answerable and d.reason == "covered", d


def test_shorthand_the_documents_never_write_is_not_a_missing_word(demo_rag):
    """The sample protocol writes "blood pressure", never "BP": once written out, "BP" is not counted
    as a word the documents lack (it was, and refused the question)."""
    for q in ("What is the BP target?", "BP target?", "what BP target for stable patients",
              "Is home BP monitoring recommended?"):
        d = demo_rag.answerability(q)
        assert "blood pressure (BP)" in d.query and "'bp'" not in d.explanation.lower(), (q, d)
        spelt = demo_rag.answerability(q.replace("BP", "blood pressure"))
        assert d.answerable == spelt.answerable, (q, d, spelt)  # the same call as the words written out
    assert demo_rag.answerability("What is the BP target?").answerable


def test_typo_and_lay_question_is_answered(clinic):
    for q in ("pzq side efects", "can pregnant women take the worm medicine praziquantel"):
        d = clinic.answerability(q)
        assert d.answerable, (q, d)


def test_near_miss_count_question_is_refused(clinic):
    # every word occurs in the leaflet, but no sentence gives a number of visitors
    d = clinic.answerability("how many visitors per patient are allowed on the ward")
    assert not d.answerable and d.reason == "no_answer_of_kind" and d.asked == "quantity", d
    assert asking.counted_word("how many visitors per patient allowed") == "visitor"
    assert asking.states_count("Two visitors per patient are allowed.", "visitor")
    assert not asking.states_count("Visitors must clean their hands, 2 times.", "visitor")


def test_words_scattered_over_a_passage_cover_less_than_one_sentence():
    from ragmed.types import Passage

    terms = asking.key_terms("can i drink alcohol on tb medicine", gate.QUESTION_FILLER)
    def passage(text):
        return Passage(id="a", text=text, source="x.pdf", file_sha256="", page_start=1, page_end=1,
                       page_labels=("1",), section=(), start=0, end=len(text), score=1.0, rank=1)

    scattered = passage("Avoid alcohol before surgery. Tuberculosis is treated with medicine for months. "
                        "Patients should rest. Eat well.")
    together = passage("Do not drink alcohol while taking TB medicine. Patients should rest.")
    assert gate.sentence_coverage(terms, [together]) == pytest.approx(1.0)
    assert gate.sentence_coverage(terms, [scattered]) < 0.8


@pytest.mark.parametrize("question,language", [
    ("Как долго лечится туберкулез?", "CYRILLIC"),
    ("结核病治疗需要多长时间？", "CJK"),
    ("Berapa lama pengobatan TB?", "id"),
    ("Ile trwa leczenie gruźlicy?", "UNKNOWN"),
])
def test_other_languages_get_a_language_notice_not_not_covered(clinic, question, language):
    d = clinic.answerability(question)
    assert not d.answerable and d.reason == "language" and d.language == language, d
    assert "English" in d.explanation and "do not cover" not in d.explanation


def test_english_questions_are_not_taken_for_another_language():
    vocab = asking.Vocabulary(frozenset({"tuberculosi", "symptom", "schistosomiasi", "kato", "katz"}))
    for q in ("waht are the symtoms of tuberculosys", "kato katz schisto", "TB spread?", "5 a day?"):
        assert asking.detect_language(q) is None and not asking.unread_words(q, vocab), q


def test_evidence_states_the_asked_value_first(demo_rag):
    a = demo_rag.evidence("What is the blood pressure target?")
    assert a.evidence, a
    # the sentence giving the target's value, not one that only mentions blood pressure
    assert "target" in a.evidence[0].text and "130/80" in a.evidence[0].text, [e.text for e in a.evidence]


def _one_edit_typos(word: str) -> list[str]:
    """Deletions and swaps of adjacent letters: the typos people make on a phone."""
    out = {word[:i] + word[i + 1:] for i in range(1, len(word))}
    out |= {word[:i] + word[i + 1] + word[i] + word[i + 2:] for i in range(1, len(word) - 1)}
    return sorted(t for t in out if t != word and len(t) >= 3 and asking.zipf(t) < 3.5)


@pytest.mark.parametrize("form, subject", [("how often", "should the nurse visit after discharge"),
                                           ("how long", "does praziquantel treatment take"),
                                           ("how much", "salt per day for adults"),
                                           ("how many", "tablets of amlodipine per day")])
def test_a_typo_in_the_words_that_say_what_is_asked_reads_as_the_word(form, subject):
    right = f"{form} {subject}"
    kind = asking.asked_kind(right)
    terms = [t.term for t in asking.key_terms(right, gate.QUESTION_FILLER)]
    assert kind is not None
    typos = _one_edit_typos(form.split()[1])
    assert typos, form
    for typo in typos:
        wrong = f"how {typo} {subject}"
        assert asking.asked_kind(wrong) == kind, wrong
        assert [t.term for t in asking.key_terms(wrong, gate.QUESTION_FILLER)] == terms, wrong
    assert asking.form_spelled("keep a log of the want list") == "keep a log of the want list"  # real words stay
