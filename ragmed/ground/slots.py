"""Which value fills the claim's slot? Aligns a claim with its evidence sentence word by word and
reports a number or a named entity of the claim that stands where the evidence has another one
(issue 19, "another number / another entity of the same passage").

    slot_mismatch("intake includes 160 g of grains and 160 g of meat",
                  "intake includes 180 g of grains and 160 g of meat")
    -> ("180", "160")    # the passage says 180 g (of grains), not 160

Why: a passage often states several values of the same kind ("180 g of grains, and 160 g of
meat"; "59.3% ... than ... 40.7%"). A claim that moves one of them into another's slot still finds
every one of its numbers in the passage, and the words around the number (ground/meaning.py's
context test) can tie when both slots sit in one list. The sequence alignment decides by position:
difflib's `SequenceMatcher` (Ratcliff/Obershelp, Python standard library) over lower-cased word and
number tokens; a short `replace` block (at most `MAX_BLOCK` tokens a side) that is anchored by equal
tokens on both sides (or by `MIN_ANCHOR` equal tokens on one side at the claim's edge) and swaps a
number for a different number (when the evidence side is longer, its words next to an anchor of
`MIN_ANCHOR` tokens: "includes 160 g of grains" against "includes 2 cups of fruit, ... 180 g of
grains"), or a named entity for a different one of the same family, is a
mismatch. Numbers compare by value ("1,000" = "1000", "two" = "2") and, with the unit after them,
by amount ("1 mg" = "1000 µg", ground/quantities.py), so a paraphrase that only rewrites a number
keeps its ✓. Rules chosen on the dev split of benchmarks/adversarial_claims.py.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher
from functools import lru_cache

from ..tokenize import STOPWORDS, UNITS
from .cues import analyse
from .quantities import _UNITS, quantities

MAX_BLOCK = 3  # longest replaced span (tokens, each side) read as "one slot"
MIN_ANCHOR = 2  # equal tokens needed on the one anchored side at a claim's start or end

_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+(?:[-'][^\W\d_]+)*")
_WORDS = {w: float(i) for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve".split())}


def _value(tok: str) -> float | None:
    if tok in _WORDS:
        return _WORDS[tok]
    if not tok[:1].isdigit():
        return None
    t = re.sub(r",(?=\d{3}\b)", "", tok).replace(",", ".")
    try:
        return float(t)
    except ValueError:
        return None


@lru_cache(maxsize=16384)
def _tokens(text: str) -> tuple[str, ...]:
    return tuple(m.group(0).lower() for m in _TOKEN.finditer(text))


def _named(tokens: tuple[str, ...]) -> dict[str, str]:
    """entity family ("drug", "form", "route", "pop") -> the value named in `tokens` (cues.py)."""
    return {c.family: c.value for c in analyse(" ".join(tokens)).cues
            if c.family in ("drug", "form", "route", "pop")}


def _same_amount(mine: tuple[str, ...], theirs: tuple[str, ...]) -> bool:
    """Do the two slots (with the word after each, its unit) state one amount in other units
    ("1 mg" and "1000 µg")? ground/quantities.py converts."""
    qa, qb = quantities(" ".join(mine)), quantities(" ".join(theirs))
    return any(q.same_as(e) for q in qa for e in qb)


CONTEXT_MAX = 4  # words on each side of a number matched as its context


@lru_cache(maxsize=1)
def _unit_words() -> frozenset[str]:
    return frozenset(UNITS) | frozenset(w for alias in _UNITS for w in alias.split())


def _is_word(tok: str) -> bool:
    """A content word that says what a number is about: not a stopword, not a unit ("g", "mg")."""
    return tok[:1].isalpha() and tok not in STOPWORDS and tok not in _unit_words()


def bound_number(claim: str, evidence: str) -> tuple[str, str] | None:
    """(evidence value, claim value) when a number of the claim sits in the evidence's words for
    another number: the longest run of words next to the claim's number (up to `CONTEXT_MAX` on
    either side, at least one a content word that is not a unit) that the evidence also has next to a number
    holds another value there, and never this one ("includes 160 g of grains" against "180 g of
    grains and 160 g of meat": "g of grains" follows 180, not 160). Each side is read on its own;
    the number is bound when either side's longest match holds it. None when bound or unknown."""
    a, b = _tokens(claim), _tokens(evidence)
    nums_b = [p for p, t in enumerate(b) if _value(t) is not None]
    for i, tok in enumerate(a):
        v = _value(tok)
        if v is None:
            continue
        sides = []  # per side: (longest matched context, the values next to it)
        for side in ("right", "left"):
            best, values = 0, set()
            for m in range(1, CONTEXT_MAX + 1):
                ctx = a[i + 1:i + 1 + m] if side == "right" else a[max(0, i - m):i]
                if len(ctx) < m:
                    break
                if not any(map(_is_word, ctx)):
                    continue
                if side == "right":
                    found = {_value(b[p]) for p in nums_b if b[p + 1:p + 1 + m] == ctx}
                else:
                    found = {_value(b[p]) for p in nums_b if p >= m and b[p - m:p] == ctx}
                if found:
                    best, values = m, found
            if best:
                sides.append((best, values))
        if sides and all(v not in values for _, values in sides):
            values = sides[0][1]  # the right side first: the unit and what is measured follow a number
            return next(t for t in b if _value(t) in values), tok
    return None


def slot_mismatch(claim: str, evidence: str) -> tuple[str, str, str] | None:
    """(kind, evidence value, claim value) for the first slot the claim fills with another value
    than the evidence; kind is "number" or "entity". None when no aligned slot differs."""
    a, b = _tokens(claim), _tokens(evidence)
    if not a or not b:
        return None
    ops = SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    for k, (tag, i1, i2, j1, j2) in enumerate(ops):
        if tag != "replace" or i2 - i1 > MAX_BLOCK:
            continue
        before = ops[k - 1] if k else None
        after = ops[k + 1] if k + 1 < len(ops) else None
        left = before[2] - before[1] if before and before[0] == "equal" else 0
        right = after[2] - after[1] if after and after[0] == "equal" else 0
        if j2 - j1 > MAX_BLOCK:  # the evidence says more there: read the words next to the anchor
            if right >= MIN_ANCHOR:
                j1 = j2 - (i2 - i1)
            elif left >= MIN_ANCHOR:
                j2 = j1 + (i2 - i1)
            else:
                continue
        else:
            at_edge = i1 == 0 or i2 == len(a)
            if not ((left and right) or (at_edge and max(left, right) >= MIN_ANCHOR)):
                continue
        cv = [v for v in map(_value, a[i1:i2]) if v is not None]
        ev = [v for v in map(_value, b[j1:j2]) if v is not None]
        if cv and ev and not set(cv) <= set(ev) and not _same_amount(a[i1:i2 + 2], b[j1:j2 + 2]):
            shown = next(t for t in b[j1:j2] if _value(t) is not None)
            mine = next(t for t in a[i1:i2] if _value(t) is not None and _value(t) not in ev)
            return ("number", shown, mine)
        mine, theirs = _named(a[i1:i2]), _named(b[j1:j2])
        for fam, value in mine.items():
            if fam in theirs and theirs[fam] != value:
                return ("entity", theirs[fam], value)
    return None
