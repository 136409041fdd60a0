"""Extractive prompt compression: spend prompt tokens only on evidence.

On-device models spend most of the time to first token reading the prompt (README, "Measured":
about 20 s per 1,000 passage tokens on a laptop CPU), so `compress` gives the model only the
sentences of the retrieved passages that bear on the question, under a budget of passage tokens
counted with the model's own tokenizer.

- Sentences and scores are those of evidence mode (ground/relevance.py: cosine to the question plus
  a share of its terms, each sentence read under its section path). When the question asks for a quantity (how many/much/often/long, a dose, a
  unit, a duration...), sentences holding a number get `NUMBER_BONUS`: clinical answers are numbers.
- A sentence is kept whole or dropped, never cut, so numbers, doses and units stay intact.
- Repeated sentences (the copy in the highest-ranked passage is kept) and boilerplate (page
  headers/footers, bare links, fragments without letters or too short) are dropped and counted.
- Greedy by score: a sentence is kept if the passages' text still fits the budget with it; the best
  sentence is always kept, even alone over the budget.
- A passage's text becomes its kept sentences in document order, " … " marking a gap; its
  neighbour context is dropped, its provenance (id, source, pages, section) kept. A passage with
  no kept sentence is left out; the rest stay in rank order, so [n] in the prompt is passages[n-1].
- Budget 0, or passages that already fit: returned unchanged, nothing embedded.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace

from ..errors import InputError
from ..ground.relevance import (
    BOILERPLATE,
    CONTENT,
    DUPLICATE,
    Sentence,
    passage_sentences,
    scores,
)
from ..types import Compression, Passage

NUMBER_BONUS = 0.1
GAP = " \u2026 "
_QUANTITY = re.compile(
    r"\bhow\s+(?:many|much|often|long|frequently|soon|high|low)\b|%|\b(?:doses?|dosages?|dosing|mg|mcg|µg|ml|"
    r"units?|iu|mmhg|kg|seconds?|minutes?|hours?|days?|weeks?|months?|years?|times?|intervals?|frequency|"
    r"duration|threshold|targets?|cut-?offs?|limits?|maximum|minimum|percent(?:age)?|rates?|number|amount|age)\b",
    re.IGNORECASE,
)
_DIGIT = re.compile(r"\d")


def asks_quantity(question: str) -> bool:
    """Whether the question asks for a number (a dose, a count, a frequency, a duration...)."""
    return bool(_QUANTITY.search(question))


def prompt_text(p: Passage) -> str:
    """A passage's text as the prompt shows it (neighbour context included)."""
    return " ".join(x for x in (p.context_before, p.text, p.context_after) if x)


def _assemble(sentences: list[Sentence], kept: set[int]) -> str:
    """The kept sentences of one passage in document order; GAP where sentences were left out."""
    out, last = "", None
    for s in sentences:
        if s.i in kept:
            out += ("" if last is None else " " if s.i == last + 1 else GAP) + s.text
            last = s.i
    return out


def ranked(question: str, sentences: list[Sentence], passages: Sequence[Passage], embedder) -> list[tuple[float, Sentence]]:
    """(score, sentence) best first: the evidence score, plus NUMBER_BONUS for a sentence with a
    number when the question asks for a quantity."""
    bonus = NUMBER_BONUS if asks_quantity(question) else 0.0
    scored = [(score + (bonus if _DIGIT.search(s.text) else 0.0), s)
              for s, score in zip(sentences, scores(question, sentences, passages, embedder))]
    return sorted(scored, key=lambda x: (-x[0], x[1].n, x[1].i))


def compress(
    question: str,
    passages: Sequence[Passage],
    embedder,
    count_tokens: Callable[[str], int],
    budget: int,
) -> Compression:
    """The sentences of `passages` (rank order) that best answer `question`, within `budget`
    passage tokens (`count_tokens`: the model's tokenizer); see the module docstring."""
    if budget < 0:
        raise InputError(f"The compression budget is {budget}; use 0 (off) or a number of passage tokens.")
    passages = list(passages)
    before = sum(count_tokens(prompt_text(p)) for p in passages)
    unchanged = Compression(passages, budget, False, tokens_before=before, tokens_after=before,
                            passages_before=len(passages))
    if budget == 0 or before <= budget:
        return unchanged
    sents = passage_sentences(passages)
    content = [s for s in sents if s.kind == CONTENT]
    if not content:  # nothing but boilerplate: leave the passages to the prompt's own budget
        return unchanged
    by_passage = {n: [s for s in sents if s.n == n and s.i >= 0] for n in range(1, len(passages) + 1)}
    kept: dict[int, set[int]] = {}
    cost: dict[int, int] = {}
    for _, s in ranked(question, content, passages, embedder):
        trial = kept.get(s.n, set()) | {s.i}
        tokens = count_tokens(_assemble(by_passage[s.n], trial))
        if kept and sum(cost.values()) - cost.get(s.n, 0) + tokens > budget:
            continue  # the best sentence (kept empty) is always taken
        kept[s.n], cost[s.n] = trial, tokens
    out = [replace(p, text=_assemble(by_passage[n], kept[n]), context_before="", context_after="")
           for n, p in enumerate(passages, 1) if n in kept]
    return Compression(
        out, budget, True, sentences=len(sents), kept=sum(len(k) for k in kept.values()),
        duplicates=sum(s.kind == DUPLICATE for s in sents), boilerplate=sum(s.kind == BOILERPLATE for s in sents),
        tokens_before=before, tokens_after=sum(cost.values()), passages_before=len(passages),
        passages_dropped=len(passages) - len(out),
    )
