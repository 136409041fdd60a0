"""Evidence mode: no generation; the sentences of the retrieved passages that best answer the
question, ranked, each with its citation. Always grounded, instant, and useful without a capable model.

Sentences come from `ground/relevance.py` (shared with prompt compression). Headings, boilerplate
and fragments (under `MIN_CHARS`) are skipped; a sentence repeated across passages is kept once,
with the first (highest-ranked) passage's citation. A sentence's score (`answer_scores`):

- cosine similarity to the question, the sentence read under its section path (relevance.py);
- plus `TERM_WEIGHT` x the share of the question's key terms it holds (with its section path),
  each term weighted by its rarity in everyday English (ground/asking.py: "opioid" counts more than
  "use"; question filler such as "how", "often", "guideline" counts nothing);
- plus `KIND_BONUS` when the question asks for a kind of answer (how long, how often, a dose, an
  amount) and the sentence states one of that kind next to the question's subject
  (`asking.states_kind`, the gate's own check): "What is the blood pressure target?" is answered
  by the sentence giving "below 140/90 mmHg", not by one that only names the target.

Weights chosen on the dev split of benchmarks/evidence_ranking.py (results in
benchmarks/results/evidence_ranking.md, with the test split).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..tokenize import tokenize
from ..types import Passage
from .relevance import CONTENT, cosines, passage_sentences

MIN_CHARS = 25
TERM_WEIGHT = 0.4
KIND_BONUS = 0.15


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
    date: str = ""  # the document's date and `version` tag, as its citation gives them (`dated`)
    version: str = ""

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def answer_scores(question: str, sentences, passages: list[Passage], embedder) -> list[float]:
    """How well each sentence answers `question` (see the module docstring)."""
    from . import asking
    from .gate import QUESTION_FILLER

    if not sentences:
        return []
    cos = cosines(question, sentences, passages, embedder).tolist()
    terms = asking.key_terms(question, QUESTION_FILLER)
    total = sum(t.weight for t in terms)
    kind = asking.asked_kind(question)
    subject = asking.subject_terms(terms)
    out = []
    for s, c in zip(sentences, cos):
        p = passages[s.n - 1]
        bag = set(tokenize(f"{p.section_path} {getattr(s, 'heading', '')} {s.text}"))
        share = sum(t.weight for t in terms if t.term in bag) / total if total else 0.0
        score = c + TERM_WEIGHT * share
        if kind and asking.states_kind(s.text, kind, subject & bag, min(asking.NEED[kind], len(subject & bag))):
            score += KIND_BONUS
        out.append(score)
    return out


def dated(found: list[EvidenceSentence], citations) -> list[EvidenceSentence]:
    """`found` with each sentence's document date and version taken from the citation of its [n]
    (`Citation.date`, `.version`), so its source line reads like a citation's in every mode."""
    from dataclasses import replace

    by_n = {c.n: c for c in citations}
    return [replace(e, date=by_n[e.n].date, version=by_n[e.n].version) if e.n in by_n else e for e in found]


def best_sentences(question: str, passages: list[Passage], embedder, limit: int = 5) -> list[EvidenceSentence]:
    """The `limit` sentences of `passages` that best answer `question`, best first."""
    from .passage_units import section_of

    cands = [s for s in passage_sentences(passages, units=True) if s.kind == CONTENT and len(s.text) >= MIN_CHARS]
    scored = []
    for s, score in zip(cands, answer_scores(question, cands, passages, embedder)):
        p = passages[s.n - 1]
        page, label = p.page_of(s.text)  # the sentence's own page, when the passage spans two
        scored.append(EvidenceSentence(s.n, s.text, round(score, 4), p.id, p.source, page, label, section_of(p, s.text)))
    scored.sort(key=lambda e: (-e.score, e.n))
    return scored[:limit]
