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
one treatment cost" is not answered by "40 mg/kg". The value must sit within `asking.WINDOW` words
of the question's subject, as for the kinds (`asking.states_kind`). Rules chosen on the dev split of
benchmarks/realistic_questions.py (the forms are those of the unit or shape words a question names;
no question text is listed).
"""

from __future__ import annotations

import re

from . import asking

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


def states_form(sentence: str, form: str, subject: set[str], need: int = 1) -> bool:
    """Does the sentence state a value of `form` with `need` subject terms within `asking.WINDOW`
    words of it (as `asking.states_kind`)?"""
    return asking.states_pattern(sentence, FORMS[form][1], subject, need)
