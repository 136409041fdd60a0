"""Evidence mode: no generation; the sentences of the retrieved passages that best answer the
question, ranked, each with its citation. Always grounded, instant, and useful without a capable model.

A sentence's score is its cosine similarity to the question (the collection's embedder) plus
`TERM_WEIGHT` times the share of the question's terms (ragmed's medical tokenizer) it contains.
Headings and fragments (under `MIN_CHARS`) are skipped; a sentence repeated across passages is
kept once, with the first (highest-ranked) passage's citation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..ingest.sentences import split_sentences
from ..retrieve.tokenize import tokenize
from ..types import Passage

TERM_WEIGHT = 0.3
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

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _sentences(p: Passage) -> list[str]:
    text = p.body
    out = []
    for s, e in split_sentences(text, 0, len(text)):
        sent = " ".join(text[s:e].split())
        if len(sent) >= MIN_CHARS and any(c.isalpha() for c in sent):
            out.append(sent)
    return out


def best_sentences(question: str, passages: list[Passage], embedder, limit: int = 5) -> list[EvidenceSentence]:
    """The `limit` sentences of `passages` that best answer `question`, best first."""
    cands: list[tuple[int, Passage, str]] = []
    seen: set[str] = set()
    for n, p in enumerate(passages, 1):
        for sent in _sentences(p):
            key = sent.lower()
            if key not in seen:
                seen.add(key)
                cands.append((n, p, sent))
    if not cands:
        return []
    vecs = embedder.embed([question] + [c[2] for c in cands])
    cos = np.asarray(vecs[1:]) @ np.asarray(vecs[0])
    q_terms = set(tokenize(question))
    scored = []
    for (n, p, sent), c in zip(cands, cos.tolist()):
        overlap = len(q_terms & set(tokenize(sent))) / len(q_terms) if q_terms else 0.0
        scored.append(EvidenceSentence(n, sent, round(c + TERM_WEIGHT * overlap, 4), p.id, p.source, p.page,
                                       p.page_label, p.section_path))
    scored.sort(key=lambda e: (-e.score, e.n))
    return scored[:limit]
