"""A bound the passage puts on a number, dropped by the claim (issue 19: "at least/at most").

"Increase to a maximum of 10 mg" does not back "Give amlodipine 10 mg"; "keep blood pressure below
130/80" does not back "the target is 130/80"; "at least 80 percent" does not back "80 percent".
The claim states the passage's number, so the quantity check passes; it states no bound of its own,
so the bound/direction checks (which compare a claim's cue with the passage's) have nothing to
compare. This check reads the words right next to each of the passage's numbers that the claim
states:

- the passage qualifies a number when a comparator stands just before it ("at least", "no more
  than", "up to", "a maximum of", "maximum daily dose of", "not to exceed", "below", "above",
  "under", "less than", "more than", "within", "≥", "<" ...), just after it ("or more", "or less",
  "or above", "at most", "maximum", "+"), or when a bound word stands up to `WINDOW` words before
  it in the same clause ("the maximum dose of amlodipine is 10 mg");
- the claim keeps the bound when its own number is qualified the same way, or when a change or limit
  verb leads to it ("increase to 10 mg", "limit salt to 5 g": they say where the dose stops); a
  direction word elsewhere ("higher dosages (e.g., 50 MME/day)") or a bound on another number of
  the claim does not count;
- the claim drops it when every one of the passage's occurrences of that amount is qualified and
  the claim's is not: the passage says "a maximum of 10 mg", not just 10 mg.

"over"/"under" before a time ("taper over 2 weeks") say how long, not a bound, and are not read as
comparators there. Shape: `dropped_bound(claim, evidence) -> (passage phrase, claim amount) | None`.
The comparator lists are the bound and direction words of ground/cues.py written as phrases that
sit next to a number; the rule was checked on the dev split of benchmarks/adversarial_claims.py
("bound" kind and its equivalent-bound controls) and benchmarks/checker_accuracy.py.
"""

from __future__ import annotations

import re

from .quantities import Quantity, cached

_CMP = (r"at\s+(?:least|most|the\s+(?:least|most))|no\s+(?:more|less|fewer|greater|higher|lower|longer|later)\s+than"
        r"|not\s+(?:more|less|fewer|greater|higher|lower|longer|later)\s+than"
        r"|(?:more|less|fewer|greater|higher|lower|longer|shorter|larger|smaller)\s+than|up\s+to|as\s+(?:much|many)\s+as"
        r"|(?:not\s+(?:to\s+)?)?exceed(?:s|ed|ing)?|not\s+above|not\s+below|below|above|under|over|beyond|within"
        r"|(?:a|the)?\s*(?:maximum|minimum|max\.?|min\.?|maximal|minimal|ceiling|cap|limit)"
        r"(?:\s+(?:total\s+|daily\s+|single\s+|recommended\s+)*(?:dose|dosage|amount|intake|of))*(?:\s+(?:of|is|:))?"
        r"|[<>≤≥]=?")
_BEFORE = re.compile(r"(?:^|[^\w])(?P<cmp>" + _CMP + r")\s*$", re.IGNORECASE)
_AFTER = re.compile(r"^\s*(?P<cmp>or\s+(?:more|less|fewer|greater|higher|lower|above|below|over|under|longer|shorter"
                    r"|later|earlier)|(?:a\s+day\s+|daily\s+|per\s+day\s+)?(?:at\s+(?:the\s+)?(?:most|least)"
                    r"|maximum|max\b|minimum|min\b)|\+)", re.IGNORECASE)
_TIME = {"minute", "hour", "day", "week", "month", "year"}
WINDOW = 6  # words before a number that may hold its bound word ("the maximum dose of amlodipine is 10 mg")
_BOUND_WORDS = re.compile(r"\b(?:at\s+(?:least|most)|maximum|minimum|maximal|minimal|no\s+more\s+than"
                          r"|no\s+less\s+than|not\s+(?:to\s+)?exceed\w*|up\s+to|limit(?:ed)?\s+to)\b|[≤≥]",
                          re.IGNORECASE)
CHANGE_TO = re.compile(r"\b(?:increas|decreas|reduc|rais|lower|titrat|taper|escalat|limit|keep|kept|restrict|cap)"
                        r"\w*\s+(?:[\w-]+\s+){0,5}to\s+$", re.IGNORECASE)


def _window(text: str, qs: tuple[Quantity, ...], i: int) -> int:
    """Where the up to `WINDOW` words before quantity i begin, cut at the previous quantity and at a
    sentence or clause end (". ", "; ")."""
    start = qs[i - 1].end if i else 0
    ends = [m.end() for m in re.finditer(r"[.;:]\s", text[start:qs[i].start])]
    start += ends[-1] if ends else 0
    words = list(re.finditer(r"\S+", text[start:qs[i].start]))[-WINDOW:]
    return start + words[0].start() if words else qs[i].start


def _comparator(text: str, qs: tuple[Quantity, ...], i: int, loose: bool) -> tuple[int, int] | None:
    """The span of the comparator next to quantity i of `text` together with the amount ("at least
    80 percent", "10 mg or more"), or None. `loose`: also a bound word (not a direction word)
    within `WINDOW` words before it ("maximum dose of amlodipine is 10 mg")."""
    q = qs[i]
    lo = max(0, q.start - 48)
    m = _BEFORE.search(text[lo:q.start])
    if m and not (m.group("cmp").lower() in ("over", "under") and q.unit in _TIME):  # "taper over 2 weeks"
        return lo + m.start("cmp"), q.end
    a = _AFTER.match(text[q.end:q.end + 30])
    if a:
        return q.start, q.end + a.end("cmp")
    if loose:
        w = _window(text, qs, i)
        b = _BOUND_WORDS.search(text[w:q.start])
        if b:
            return w + b.start(), q.end
    return None


def _claim_bounded(claim: str, qs: tuple[Quantity, ...], i: int) -> bool:
    """Does the claim keep a bound on its quantity i: a comparator or bound word of its own, or a
    change or limit that stops there ("increase to 10 mg", "limit salt to 5 g")?"""
    q = qs[i]
    return bool(_comparator(claim, qs, i, loose=True) or CHANGE_TO.search(claim[max(0, q.start - 60):q.start]))


def _shown(text: str, a: int, b: int) -> str:
    """text[a:b] as a reason quotes it; a blood pressure keeps its second number ("130" -> "130/80 mmHg")."""
    tail = re.match(r"/\d+(?:\s*mm\s*hg)?", text[b:], re.IGNORECASE)
    return " ".join(text[a:b + (tail.end() if tail else 0)].split())


def dropped_bound(claim: str, evidence: str) -> tuple[str, str] | None:
    """(the passage's bound, as written with its amount; the claim's amount) when the claim states
    an amount that the evidence gives only with a bound, and states it without one; else None."""
    eq = cached(evidence)
    if not eq:
        return None
    cq = cached(claim)
    for i, q in enumerate(cq):
        same = [j for j, e in enumerate(eq) if q.same_as(e)]
        if not same or _claim_bounded(claim, cq, i):
            continue
        spans = [_comparator(evidence, eq, j, loose=True) for j in same]
        if all(spans):
            a, b = spans[0]
            return _shown(evidence, a, b), _shown(claim, q.start, q.end)
    return None
