"""Text helpers shared by every stage (a leaf module: imports nothing of ragmed).

`split_sentences`: sentence boundaries in guideline prose (regex rules with a medical abbreviation
list), used by the chunker, the claim checks, evidence sentences and citations alike.
"""

from __future__ import annotations

import re

_ABBREV = {
    "e.g", "i.e", "etc", "vs", "dr", "mr", "mrs", "ms", "prof", "fig", "figs", "no", "nos", "vol",
    "approx", "al", "ca", "cf", "st", "min", "max", "resp", "incl", "dept", "inc", "ltd", "co",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "p", "pp",
    "ref", "refs", "tab", "eq", "sec", "ch", "u.s", "u.k", "mg", "ml", "kg", "h", "hr", "hrs", "wk",
}
_SENT_END = re.compile(r"[.!?][\"'\u201d\u2019)\]]*(?=\s+[\"'\u201c\u2018(\[]?[A-Z0-9])")


def split_sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """(start, end) spans of the sentences in text[start:end]."""
    spans = []
    s = start
    seg = text[start:end]
    for m in _SENT_END.finditer(seg):
        cut = start + m.end()
        word = re.search(r"([A-Za-z.]+)\.?[\"'\u201d\u2019)\]]*$", text[s:cut])
        if word and word.group(1).lower().rstrip(".") in _ABBREV:
            continue
        if re.search(r"\b[A-Z]\.$", text[s:cut]):  # initials: "J. Smith"
            continue
        if cut - s < 2:
            continue
        spans.append((s, cut))
        s = cut
        while s < end and text[s].isspace():
            s += 1
    if s < end and text[s:end].strip():
        spans.append((s, end))
    return spans
