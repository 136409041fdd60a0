"""The question's subject must be in the passages that would answer it: a near-miss question
shares its topic with the collection but asks about something the retrieved passages never name
("praziquantel dose for cattle" against passages on the human dose; "how much morphine for kidney
stone pain" against passages that recommend NSAIDs). Two checks, each giving the reason in words:

- **a drug the question names** (ground/drugnames.py, brand names included) must be named, by one
  of its names or classes, in one of the top passages, whatever the question asks;
- **for a question asking for a kind of answer** (a duration, a frequency, a dose, an amount:
  `asking.asked_kind`), every rare subject word of the question that the collection uses
  (rarity >= `RARE`, in the collection's vocabulary as typed, not a spelling correction) must occur
  in one of the top passages (its heading included; a spelling variant found there counts). The
  value the answer needs is bound to the whole subject: a dose stated for people does not answer
  one asked for cattle. Everyday words ("patient", "staff", "change") are left to the dense match,
  and so is a word the collection lacks (a lay word the documents say another way).

`RARE` was chosen on the dev split of benchmarks/realistic_questions.py: at 0.4 no answerable dev
question asking for a kind of answer lacks a subject word in its passages once its short forms are
written out, while 13 of its near-miss questions do (at 0.3, two answerable ones: "exclusive" and
"nurse").
"""

from __future__ import annotations

from typing import Sequence

from ..tokenize import tokenize
from ..types import Passage
from . import asking

RARE = 0.4


def passage_terms(passages: Sequence[Passage]) -> set[str]:
    """The index terms of the passages, their titles and section paths included."""
    out: set[str] = set()
    for p in passages:
        out |= set(tokenize(" ".join((p.title, p.section_path, p.text))))
    return out


def missing_subject(kind: str, terms: Sequence[asking.Term], seen: set[str]) -> str:
    """The first rare subject word of a question asking for `kind` ("" = none asked: "") that the
    collection uses but none of the passages (`seen`: their `passage_terms`) holds, as typed."""
    if not kind:
        return ""
    local = None
    for t in terms:
        if (t.term in asking.KIND_WORDS or not t.in_vocabulary or t.corrected or t.rare < RARE
                or not t.word.isalpha() or t.term in seen):
            continue
        local = local or asking.Vocabulary(frozenset(seen))
        if local.match(t.term) is None:
            return t.word
    return ""


def unmentioned(kind: str, terms: Sequence[asking.Term], passages: Sequence[Passage], question: str) -> str:
    """Why the passages do not answer the question's subject, in plain words ("" when they do)."""
    from . import drugnames

    if not passages:
        return ""
    seen = passage_terms(passages)
    word = drugnames.unmentioned(question, seen) or missing_subject(kind, terms, seen)
    if word:
        return f"The documents discuss this subject, but none of the retrieved passages mentions {word!r}."
    return ""
