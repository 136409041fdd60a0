"""Evidence mode: no generation; the sentences of the retrieved passages that best answer the
question, ranked, each with its citation. Always grounded, instant, and useful without a capable model.

Sentences and their scores come from `ground/relevance.py` (shared with prompt compression):
cosine similarity to the question plus a share of its terms, each sentence read under its section
path. Headings, boilerplate and fragments (under `MIN_CHARS`) are skipped; a sentence repeated
across passages is kept once, with the first (highest-ranked) passage's citation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..types import Passage
from .relevance import CONTENT, passage_sentences, scores

MIN_CHARS = 25


@dataclass(frozen=True)
class EvidenceSentence:
    n: int  # the passage's number (1-based, retrieval order): cite as [n]
    text: str
    score: float
    passage_id: str
    source: str
    page: int
    page_label: str
    section: str
    superseded: str = ""  # from a superseded edition: "superseded by the edition of DATE (FILE)"

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def best_sentences(question: str, passages: list[Passage], embedder, limit: int = 5) -> list[EvidenceSentence]:
    """The `limit` sentences of `passages` that best answer `question`, best first."""
    cands = [s for s in passage_sentences(passages) if s.kind == CONTENT and len(s.text) >= MIN_CHARS]
    scored = []
    for s, score in zip(cands, scores(question, cands, passages, embedder)):
        p = passages[s.n - 1]
        scored.append(EvidenceSentence(s.n, s.text, round(score, 4), p.id, p.source, p.page, p.page_label,
                                       p.section_path))
    scored.sort(key=lambda e: (-e.score, e.n))
    return scored[:limit]
