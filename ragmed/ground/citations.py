"""Citation markers: parse [n] from an answer and resolve them to the passages in the prompt.

Accepted forms: [1], [1, 3], [1-3], [1][2]. Numbers that name no passage are reported as invalid
(never silently dropped). Each citation carries a short quote: the sentence of the cited passage
that shares the most words with the answer sentences that cite it.
"""

from __future__ import annotations

import re

from ..text import split_sentences
from ..types import Citation, Passage
from .claims import sentences
from .marks import _MARK, cited_numbers  # noqa: F401 (re-exported: verify, release, tests)

_WORD = re.compile(r"[a-z0-9]+(?:[.,/][0-9]+)?")
_STOP = set(
    "the a an and or of to in on for with by at from is are be was were as that this it its "
    "should may can not no if when than then there their which who what how into per".split()
)
QUOTE_CHARS = 240


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP}


def _citing_text(answer: str, n: int) -> str:
    """The first answer sentence that cites [n] (its quote is chosen for it: the evidence lines come
    best first), a marker after a full stop ("... daily. [1]") belonging to the sentence before it,
    as in the claim checks (claims.sentences)."""
    return next((s.text for s in sentences(answer) if n in s.cites), answer)


def _segments(passage_text: str) -> list[str]:
    """Passage lines regrouped into prose segments; heading-like short lines stand alone."""
    segs: list[list[str]] = [[]]
    for line in passage_text.split("\n"):
        line = line.strip()
        if not line:
            continue
        heading_like = len(line.split()) <= 6 and not re.search(r"[.!?:;,]$", line)
        if heading_like or line[:1] in "\u2022-*":
            segs.append([line])
            segs.append([])
        else:
            segs[-1].append(line)
            if re.search(r"[.!?]$", line):
                segs.append([])
    return [" ".join(s) for s in segs if s]


def best_quote(passage_text: str, context: str) -> str:
    candidates = [
        seg[s:e] for seg in _segments(passage_text) for s, e in (split_sentences(seg, 0, len(seg)) or [(0, len(seg))])
    ] or [" ".join(passage_text.split())]
    want = _words(context)
    quote = max(candidates, key=lambda q: len(want & _words(q)) - 0.5 * (len(q.split()) <= 6)).strip()
    return quote if len(quote) <= QUOTE_CHARS else quote[: QUOTE_CHARS - 1].rstrip() + "\u2026"


def resolve(answer: str, passages: list[Passage]) -> tuple[list[Citation], list[int]]:
    """(citations of the [n] in `answer`, numbers naming no passage). A citation's section is the
    passage's section path, plus the heading line above the quote when extraction left it in the
    text (ground/passage_units.py)."""
    from .passage_units import section_of

    citations, invalid = [], []
    for n in cited_numbers(answer):
        if 1 <= n <= len(passages):
            p = passages[n - 1]
            quote = best_quote(p.text, _citing_text(answer, n))
            page, label = p.page_of(quote.rstrip("\u2026"))  # the quoted sentence's page
            citations.append(
                Citation(
                    n=n, passage_id=p.id, source=p.source, page=page, page_label=label,
                    section=section_of(p, quote.rstrip("\u2026")), quote=quote, title=p.title,
                )
            )
        else:
            invalid.append(n)
    return sorted(citations, key=lambda c: c.n), invalid
