"""A claim that adds a condition, drug or test its cited passage never mentions is not ✓
(ground/absent.py): "amlodipine 5 mg once daily is the recommended dose for anaphylaxis" does not
rest on "Start amlodipine 5 mg once daily" (a newcomer found it shown as ✓). Generated claims on
generated passages, the real checker (MiniLM, tokenizer, wordfreq)."""

from __future__ import annotations

import itertools

import pytest

from ragmed.ground.absent import absent_rare_words
from ragmed.ground.verify import SupportChecker

PASSAGES = {  # drug: the passage that states its dose
    "amlodipine": "Start amlodipine 5 mg once daily and review the blood pressure in 4 weeks.",
    "metformin": "Start metformin 500 mg twice daily with meals and check kidney function every year.",
    "levothyroxine": "Start levothyroxine 25 micrograms once daily in adults over 65 and recheck TSH in 6 weeks.",
}
ADDED = ["anaphylaxis", "epilepsy", "tuberculosis", "schizophrenia", "pancreatitis", "malaria", "asthma"]
CLAIMS = ["{d} is started at {dose} for {c} [1].", "The passage [1] states that {d} {dose} is the dose for {c}.",
          "In {c}, give {d} {dose} [1]."]
DOSE = {"amlodipine": "5 mg once daily", "metformin": "500 mg twice daily", "levothyroxine": "25 micrograms once daily"}


@pytest.fixture(scope="module")
def checker(embedder):
    return SupportChecker(embedder)


def test_an_added_condition_is_named_as_not_mentioned(checker):
    for (drug, passage), cond, frame in itertools.product(PASSAGES.items(), ADDED, CLAIMS):
        claim = frame.format(d=drug, dose=DOSE[drug], c=cond)
        v = checker.check(claim, [passage])
        assert not v.supported, claim
        assert v.reason == f"the cited passage does not mention {cond}", (claim, v.reason)


def test_restating_the_passage_in_everyday_words_keeps_its_tick(checker):
    for drug, passage in PASSAGES.items():
        for frame in ("Start {d} at {dose} [1].", "The starting dose of {d} is {dose} [1].",
                      "Patients begin {d} {dose} [1]."):
            claim = frame.format(d=drug, dose=DOSE[drug])
            assert absent_rare_words(claim, passage) == [], claim
            assert checker.check(claim, [passage]).supported, claim


def test_words_are_mentioned_by_their_stem_or_as_written():
    assert absent_rare_words("Reduce the doses of opioids.", "Reduce the opioid dose.") == []
    assert absent_rare_words("Avoid co-trimoxazole here.", "Do not give co-trimoxazole.") == []
    assert absent_rare_words("Give naloxone for anaphylaxis.", "Give naloxone.") == ["anaphylaxis"]
    assert absent_rare_words("Review the medicines.", "Review the medications.") == []  # same first letters
