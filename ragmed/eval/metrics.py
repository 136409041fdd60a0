"""Ranking metrics with the usual (trec_eval / BEIR) definitions, graded relevance allowed.

nDCG@k: sum over the top k of grade / log2(rank + 1), divided by the same sum for the
        ideal ordering of all judged passages (linear gain, as BEIR's pytrec_eval "ndcg_cut").
Recall@k: relevant passages in the top k / all relevant passages of the query.
MRR@k:  1 / rank of the first relevant passage in the top k (0 if none).
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence


def ndcg_at(ranked: Sequence[str], qrels: Mapping[str, int], k: int = 10) -> float:
    gains = [max(0, qrels.get(pid, 0)) for pid in ranked[:k]]
    dcg = sum(g / math.log2(i + 2) for i, g in enumerate(gains))
    ideal = sorted((g for g in qrels.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def recall_at(ranked: Sequence[str], qrels: Mapping[str, int], k: int) -> float:
    relevant = {pid for pid, g in qrels.items() if g > 0}
    if not relevant:
        return 0.0
    return len(relevant.intersection(ranked[:k])) / len(relevant)


def mrr_at(ranked: Sequence[str], qrels: Mapping[str, int], k: int = 10) -> float:
    for i, pid in enumerate(ranked[:k]):
        if qrels.get(pid, 0) > 0:
            return 1.0 / (i + 1)
    return 0.0


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (numpy's default), q in [0, 100]."""
    if not values:
        return float("nan")
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)
