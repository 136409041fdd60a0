"""The abstention gate: can the collection answer this question at all?

Before any generation, the retrieval evidence of the question is summarised in five features:

| feature     | what it measures                                                                  |
|-------------|-----------------------------------------------------------------------------------|
| dense_top   | best cosine similarity between the question and a retrieved passage               |
| lexical_top | best BM25 score, divided by the most the question's terms could score (0-1)        |
| coverage    | IDF-weighted share of the question's key terms found in the top 3 passages         |
| absent      | IDF-weighted share of the question's key terms that occur nowhere in the collection |
| agreement   | share of the top 3 passages ranked in the top 10 by both the dense and lexical side |

A logistic model turns them into an answerability score in 0-1; below the threshold ragmed
abstains. `ragmed calibrate` fits the model and the threshold on the clinic's own answerable and
unanswerable questions and stores them with the collection (store/collection.py keeps the JSON of
`Calibration.to_dict()`; `stored` reads it back); until then `DEFAULT` applies, fitted on the dev
split of the guideline benchmark (benchmarks/abstention.py).
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from typing import Sequence

import numpy as np

from ..tokenize import tokenize
from ..types import Passage
from .claims import FILLER

FEATURES = ("dense_top", "lexical_top", "coverage", "absent", "agreement")
# Words that shape a question but name no topic ("how often", "what kind of"): left out of the terms
# the collection must cover.
QUESTION_FILLER = FILLER | frozenset(tokenize(
    "guideline guidelines tell explain describe know need information often frequently many much long "
    "usual usually typical typically kind type types way possible exactly please hello thanks thank "
    "anyone someone something anything done happen happens happened"))
TOP = 3
AGREE_RANK = 10
BM25_K1 = 0.9  # as the lexical index (store/lexical.py)


@dataclass(frozen=True)
class Calibration:
    """A fitted gate: standardisation, logistic weights and the abstention threshold."""

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    threshold: float
    fitted_on: dict = field(default_factory=dict)  # counts, date, metrics on the fitting data
    source: str = "default"  # "default" or "calibrated"

    def score(self, x: Sequence[float]) -> float:
        z = sum(w * (v - m) / s for w, v, m, s in zip(self.weights, x, self.mean, self.scale)) + self.bias
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def to_dict(self) -> dict:
        d = asdict(self)
        d["features"] = list(FEATURES)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Calibration":
        if tuple(d.get("features", FEATURES)) != FEATURES:
            raise ValueError("calibration was fitted on other gate features; run `ragmed calibrate` again")
        return cls(tuple(d["mean"]), tuple(d["scale"]), tuple(d["weights"]), float(d["bias"]),
                   float(d["threshold"]), dict(d.get("fitted_on", {})), d.get("source", "calibrated"))


# Fitted by `python benchmarks/abstention.py` on the dev split (see benchmarks/results/abstention.md).
DEFAULT = Calibration(
    mean=(0.480407, 0.208475, 0.637318, 0.243967, 0.367205),
    scale=(0.208862, 0.141606, 0.364551, 0.310271, 0.401817),
    weights=(1.578609, 1.343784, 1.259417, -0.549968, 0.339834), bias=-1.023762, threshold=0.570894,
    fitted_on={"answerable": 467, "unanswerable": 586, "data": "benchmarks/abstention.py, dev split"},
    source="default",
)


@dataclass(frozen=True)
class GateDecision:
    answerable: bool
    score: float
    threshold: float
    features: dict[str, float]
    calibrated: bool

    def to_dict(self) -> dict:
        return asdict(self)


def key_terms(question: str) -> list[str]:
    return list(dict.fromkeys(t for t in tokenize(question) if t not in QUESTION_FILLER))


def features(question: str, passages: Sequence[Passage], doc_freq: dict[str, int], n_chunks: int) -> list[float]:
    """The gate's features (see the module docstring) from hybrid-retrieval passages."""
    terms = key_terms(question)
    n = max(n_chunks, 1)
    idf = {t: math.log(1 + (n - doc_freq.get(t, 0) + 0.5) / (doc_freq.get(t, 0) + 0.5)) for t in terms}
    total = sum(idf.values()) or 1.0
    top = list(passages)[:TOP]
    seen: set[str] = set()
    for p in top:
        seen.update(tokenize(" ".join((p.title, p.section_path, p.text))))
    coverage = sum(idf[t] for t in terms if t in seen) / total if terms else 0.0
    absent = sum(idf[t] for t in terms if doc_freq.get(t, 0) == 0) / total if terms else 1.0
    dense_top = max((p.scores.get("dense", 0.0) for p in passages), default=0.0)
    lex_max = sum(idf.values()) * (BM25_K1 + 1)
    lexical_top = max((p.scores.get("lexical", 0.0) for p in passages), default=0.0) / lex_max if lex_max else 0.0
    agree = sum(1 for p in top if p.ranks.get("dense", 99) <= AGREE_RANK and p.ranks.get("lexical", 99) <= AGREE_RANK)
    agreement = agree / len(top) if top else 0.0
    return [round(float(v), 6) for v in (dense_top, min(lexical_top, 1.0), coverage, absent, agreement)]


def decide(x: Sequence[float], calibration: Calibration) -> GateDecision:
    score = calibration.score(x)
    return GateDecision(score >= calibration.threshold, round(score, 4), calibration.threshold,
                        dict(zip(FEATURES, x)), calibration.source == "calibrated")


# -- stored with the collection ----------------------------------------------------------------

def stored(record: dict | None, where: str = "the stored calibration") -> Calibration:
    """The gate of a stored record (`Collection.read_calibration()`), `DEFAULT` when there is none;
    a record of other features or a damaged one is ignored with a warning, never half-used."""
    if record is None:
        return DEFAULT
    try:
        return Calibration.from_dict(record)
    except (ValueError, KeyError, TypeError) as exc:
        import logging

        logging.getLogger(__name__).warning("ignoring %s (%s); using the default gate", where, exc)
        return DEFAULT


# -- fitting ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class GateMetrics:
    """Abstention as a detector of unanswerable questions (abstaining = predicting "unanswerable")."""

    answerable: int
    unanswerable: int
    abstained_unanswerable: float  # recall: share of unanswerable questions abstained
    abstained_answerable: float  # share of answerable questions wrongly abstained
    precision: float  # share of abstentions that were on unanswerable questions

    def to_dict(self) -> dict:
        return asdict(self)


def metrics(pos_scores: Sequence[float], neg_scores: Sequence[float], threshold: float) -> GateMetrics:
    """`pos` = answerable questions' scores, `neg` = unanswerable ones'."""
    abst_pos = sum(s < threshold for s in pos_scores)
    abst_neg = sum(s < threshold for s in neg_scores)
    return GateMetrics(
        len(pos_scores), len(neg_scores),
        round(abst_neg / len(neg_scores), 4) if neg_scores else 0.0,
        round(abst_pos / len(pos_scores), 4) if pos_scores else 0.0,
        round(abst_neg / (abst_neg + abst_pos), 4) if abst_neg + abst_pos else 1.0,
    )


def fit(pos: Sequence[Sequence[float]], neg: Sequence[Sequence[float]], l2: float = 0.01,
        steps: int = 3000) -> Calibration:
    """Logistic regression (answerable = 1) by gradient descent, then the threshold that maximises
    balanced accuracy (ties: the middle of the best interval). Deterministic."""
    if len(pos) < 3 or len(neg) < 3:
        raise ValueError("calibration needs at least 3 answerable and 3 unanswerable questions")
    X = np.asarray(list(pos) + list(neg), dtype=np.float64)
    y = np.asarray([1.0] * len(pos) + [0.0] * len(neg))
    mean, scale = X.mean(0), X.std(0)
    scale[scale < 1e-6] = 1.0
    Z = (X - mean) / scale
    sw = np.where(y == 1, 0.5 / len(pos), 0.5 / len(neg))  # both classes weigh the same
    w, b = np.zeros(Z.shape[1]), 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(Z @ w + b)))
        g = (p - y) * sw
        w -= 1.0 * (Z.T @ g + l2 * w)
        b -= 1.0 * g.sum()
    cal = Calibration(tuple(mean.round(6)), tuple(scale.round(6)), tuple(w.round(6)), round(float(b), 6), 0.5)
    ps = [cal.score(x) for x in pos]
    ns = [cal.score(x) for x in neg]
    cands = sorted(set(ps + ns))
    cuts = [0.0] + [(a + c) / 2 for a, c in zip(cands, cands[1:])] + [1.0]

    def bacc(t):
        m = metrics(ps, ns, t)
        return (m.abstained_unanswerable + 1 - m.abstained_answerable) / 2

    best = max(bacc(t) for t in cuts)
    good = [t for t in cuts if bacc(t) >= best - 1e-12]
    threshold = round(good[len(good) // 2], 6)
    m = metrics(ps, ns, threshold)
    fitted = {"answerable": len(pos), "unanswerable": len(neg), "date": time.strftime("%Y-%m-%d"),
              "metrics": m.to_dict()}
    return Calibration(cal.mean, cal.scale, cal.weights, cal.bias, threshold, fitted, "calibrated")
