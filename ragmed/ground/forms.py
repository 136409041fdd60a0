"""The form an asked value must take: a question that names the form of its answer is covered only
by a sentence that states a value of that form about the question's subject.

ground/asking.py tells the kind of answer a question asks for (a duration, a frequency, a dose, an
amount). Some questions say more: the unit or the shape of the value. A sentence that states a
value of the kind, but in another form, does not answer them:

| form    | the question                                        | a sentence must state              |
|---------|-----------------------------------------------------|------------------------------------|
| percent | "percent", "percentage", "%"                        | a number with "%" or "per cent"    |
| money   | "price", "cost", "how much does ... cost"           | a currency sign or name by a number|
| ratio   | "dilution", "ratio", "concentration"                 | "1:10", "ppm", "%", "N parts"      |
| hours, minutes, seconds, days, weeks, months, years | "how many hours", "in days" | a number of that unit (or its abbreviation) |

"how many hours can an opened vial be used" is not answered by "discard within 28 days"; "what does
one treatment cost" is not answered by "40 mg/kg". A question asking for a norm (a target, goal,
limit or threshold: `asks_norm`) is answered only by a sentence that sets one (`NORM_STATED`: "less
than", "at least", "should", "<"...), not by a measured value ("compliance rose to 51%").

A question that itself names a value with a unit ("can malaria come back after 10 years", "mdv 28
days") asks about that value: it is covered only when a sentence of the top passages states the
same amount (ground/quantities.py: number and unit, converted, "2 yrs" = "2 years"; `unstated_value`).
A bare number ("sugar over 240") is not checked: without a unit it may be written many ways. The value must sit within `asking.WINDOW` words
of the question's subject, as for the kinds (`asking.states_kind`). Rules chosen on the dev split of
benchmarks/realistic_questions.py (the forms are those of the unit or shape words a question names;
no question text is listed).
"""

from __future__ import annotations

import re
from typing import Sequence

from ..tokenize import tokenize
from ..types import Passage
from . import asking

TOP = 3  # the gate reads the top 3 passages (ground/gate.py)
KIND_WORDS: dict[str, str] = {"frequency": "how often", "duration": "how long (a duration or an age)",
              "dose": "a dose", "quantity": "an amount or a number"}

FORM_WORDS = {"percent": "a percentage", "money": "a price or cost", "ratio": "a dilution or ratio"}
_N = r"(?:\d+(?:[.,]\d+)?|one|two|three|four|five|six|seven|eight|nine|ten|twelve|a few|several)"
_UNIT_WORDS = {
    "seconds": r"seconds?|secs?|s", "minutes": r"minutes?|mins?", "hours": r"hours?|hrs?|h",
    "days": r"days?", "weeks": r"weeks?|wks?", "months": r"months?|mos?", "years": r"years?|yrs?",
}
_TIME_Q = re.compile(r"\bhow many (seconds|minutes|hours|days|weeks|months|years)\b"
                     r"|\bin (seconds|minutes|hours|days|weeks|months|years)\b", re.I)
FORMS: dict[str, tuple[re.Pattern, re.Pattern]] = {
    "percent": (re.compile(r"\bpercent(?:age)?\b|%", re.I), re.compile(r"\d\s*%|\d\s*per ?cent\b", re.I)),
    "money": (re.compile(r"(?<!-)\bprices?\b|(?<!-)\bcosts?\b|\bhow much (?:does|do|is|are|will)\b.*\b(?:cost|charge|pay)\b", re.I),
              re.compile(r"[$€£¥₹]|\bUS\$|\b(?:USD|EUR|GBP|INR|KES)\b|\b(?:dollars?|euros?|cents?|shillings?|rupees?)\b", re.I)),
    "ratio": (re.compile(r"\bdilut\w*|\bratios?\b|\bconcentrations?\b", re.I),
              re.compile(r"\b\d+\s*:\s*\d+\b|\bppm\b|\d\s*%|\b\d+\s*parts?\b|\bparts? per\b", re.I)),
}
for _unit, _words in _UNIT_WORDS.items():
    FORMS[_unit] = (re.compile(rf"\bhow many {_unit}\b|\bin {_unit}\b", re.I),
                    re.compile(rf"\b{_N}\s*(?:[-–—]|to|or)?\s*(?:{_N}\s*)?(?:{_words})\b", re.I))


def asked_form(question: str) -> str:
    """The form the question names for its answer (a key of `FORMS`), "" when none. A yes/no
    question (`asking.asked_kind` is None for it) names none."""
    if asking.asked_kind(question) is None:
        return ""
    m = _TIME_Q.search(question)
    if m:
        return (m.group(1) or m.group(2)).lower()
    for form in ("percent", "money", "ratio"):
        if FORMS[form][0].search(question):
            return form
    return ""


def states_form(sentence: str, form: str, subject: set[str], need: int = 1, given: set[str] = frozenset()) -> bool:
    """Does the sentence state a value of `form` with `need` subject terms within `asking.WINDOW`
    words of it (as `asking.states_kind`)?"""
    return asking.states_pattern(sentence, FORMS[form][1], subject, need, given)


def unstated_value(question: str, sentences: list[str]) -> str:
    """The first value with a unit the question names that no sentence states ("" when all are
    stated or the question names none), as the question writes it."""
    from .quantities import quantities

    named = [q for q in quantities(question) if q.unit and q.unit != "times"]
    if not named:
        return ""
    stated = [q for s in sentences for q in quantities(s) if q.unit]
    for q in named:
        if not any(q.same_as(e) for e in stated):
            return q.text
    return ""


def _sentences(p: Passage) -> list[str]:
    from ..text import split_sentences

    text = p.text
    return [text[s:e] for s, e in split_sentences(text, 0, len(text))] or [text]


def kind_stated(kind: str, terms: list[asking.Term], passages: Sequence[Passage], question: str = "") -> bool:
    """Does a sentence of the top passages state an answer of `kind` about the question's subject
    (and, for "how many X" in `question`, a number of X)?"""
    top = list(passages)[:TOP]
    counted = asking.counted_word(question) if question else ""
    if counted and not any(asking.states_count(s, counted) for p in top for s in _sentences(p)):
        return False
    seen: set[str] = set()
    for p in top:
        seen |= set(tokenize(" ".join((p.title, p.section_path, p.text))))
    subject = asking.subject_terms(terms) & seen
    need = min(asking.NEED[kind], len(subject))
    form = asked_form(question) if question else ""
    norm = bool(question) and asks_norm(question)
    for p in top:  # a subject term in a passage's section heading counts as near each of its sentences' values
        given = set(sorted(set(tokenize(p.section_path)) & subject)[:1])
        for s in _sentences(p):
            if norm and not NORM_STATED.search(s):  # a measured value is not a target (`asks_norm`)
                continue
            if (states_form(s, form, subject, need, given) if form  # "how many hours", "percent": ground/forms.py
                    else asking.states_kind(s, kind, subject, need, given)):
                return True
    return False


# A question asking for a norm — a target, goal, limit or threshold — is answered by a sentence that
# sets one ("less than 5 g", "at least 400 g", "a target of", "should be kept below"), not by one
# that reports a measured value ("compliance rose from 26% to 37%"). Cue words chosen on the dev
# split of benchmarks/realistic_questions.py, from the wording guidelines use for norms.
NORM_ASKED = re.compile(r"\b(?:targets?|goals?|aim(?:ing)?|limits?|thresholds?|max(?:imum)?|minimum|cut-?offs?"
                        r"|upper|at most|at least|no more than)\b", re.I)
NORM_STATED = re.compile(r"\b(?:targets?|goals?|aim(?:s|ed)?|limit(?:s|ed|ing)?|thresholds?|max(?:imum)?|min(?:imum)?"
                         r"|cut-?offs?|at most|at least|no more than|not (?:more|less) than|less than|more than|fewer than"
                         r"|greater than|lower than|higher than|below|above|under|over|exceed\w*|up to|within|should|must"
                         r"|recommend\w*|keep|reduc\w*)\b|[<>≤≥]", re.I)


def asks_norm(question: str) -> bool:
    """Does the question ask for a target, goal, limit or threshold (`NORM_ASKED`)?"""
    return bool(NORM_ASKED.search(question))


def unstated(kind: str, terms: list[asking.Term], passages: Sequence[Passage], question: str) -> str:
    """Why the top passages do not state the answer the question asks for, in plain words ("" when
    they do): the question's drug or subject word (ground/subject.py), a value the question
    names (ground/forms.py `unstated_value`), or an answer of the asked `kind` ("" = any) about its
    subject (`kind_stated`)."""
    from .subject import unmentioned

    top = list(passages)[:TOP]
    missing = unmentioned(kind, terms, top, question)  # the question's drug or subject (ground/subject.py)
    if missing:
        return missing
    value = unstated_value(question, [s for p in top for s in _sentences(p)])
    if value:
        return (f"The documents discuss this subject, but none of the retrieved passages mentions "
                f"{value!r} for what the question asks about.")
    if kind and not kind_stated(kind, terms, passages, question):
        form = asked_form(question)
        what = FORM_WORDS.get(form) or (f"{KIND_WORDS[kind]} in {form}" if form else KIND_WORDS[kind])
        return (f"The documents discuss this subject, but none of the retrieved passages states "
                f"{what} for what the question asks about.")
    return ""
