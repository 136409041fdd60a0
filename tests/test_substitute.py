"""An elliptical follow-up naming another drug asks the same question of it (ground/substitute.py):
"and for ramipril?" after "What is the starting dose of amlodipine?" searches "What is the starting
dose of ramipril?", not "... of amlodipine for ramipril?" (a newcomer got amlodipine's dose first)."""

from __future__ import annotations

import itertools

from ragmed.ground.substitute import substituted
from ragmed.retrieve.followup import resolve

DRUGS = ["amlodipine", "ramipril", "losartan", "metformin", "naloxone", "praziquantel"]
FIRST = ["What is the starting dose of {d}?", "How long is {d} given for?", "When should {d} be stopped?"]
FOLLOW = ["and for {d}?", "what about {d}?", "And {d}?"]


def test_the_earlier_drug_is_replaced_by_the_follow_ups():
    for a, b in itertools.permutations(DRUGS, 2):
        for first, follow in itertools.product(FIRST, FOLLOW):
            r = substituted(resolve(follow.format(d=b), [first.format(d=a)]))
            assert r.kind == "elliptical" and r.query == first.format(d=b), (first, follow, r)


def test_other_follow_ups_are_left_as_resolved():
    first = "What is the starting dose of amlodipine?"
    for follow in ("and in children?", "and for amlodipine in pregnancy?", "How is it given?"):
        r = resolve(follow, [first])
        assert substituted(r) == r, follow
    two = "Can amlodipine be given with ramipril?"  # two earlier drugs: which one is meant is a guess
    r = resolve("and losartan?", [two])
    assert substituted(r) == r


def test_the_pipeline_searches_the_substituted_question(demo_rag):
    from ragmed import Turn

    a = demo_rag.evidence("and for ramipril?", history=[Turn(question="What is the starting dose of amlodipine?")])
    assert a.search_query == "What is the starting dose of ramipril?"
    assert "ramipril" in a.evidence[0].text.lower() and "2.5 mg" in a.evidence[0].text, a.evidence[0]
