"""Rank fusion and near-duplicate suppression (pure functions over ids, no I/O)."""

from __future__ import annotations

from typing import Mapping, Sequence


def rrf(rankings: Mapping[str, Sequence[str]], weights: Mapping[str, float], k: float = 60.0,
        depth: int | None = None) -> list[tuple[str, float]]:
    """Weighted reciprocal rank fusion: score(d) = sum_r w_r / (k + rank_r(d)), ranks 1-based.

    Ties are broken by the best single-list rank, then by id, so the order is deterministic.
    """
    score: dict[str, float] = {}
    best: dict[str, int] = {}
    for name, ranked in rankings.items():
        w = weights.get(name, 1.0)
        if w == 0:
            continue
        for r, pid in enumerate(ranked[:depth] if depth else ranked, 1):
            score[pid] = score.get(pid, 0.0) + w / (k + r)
            best[pid] = min(best.get(pid, r), r)
    return sorted(score.items(), key=lambda kv: (-kv[1], best[kv[0]], kv[0]))


def score_fusion(
    dense: Mapping[str, float], lexical: Mapping[str, float], dense_max: float, lexical_max: float,
    dense_weight: float,
) -> dict[str, float]:
    """Convex combination of max-normalised scores ("relative score fusion").

    fused(d) = w * dense(d) / dense_max + (1 - w) * lexical(d) / lexical_max, over every candidate
    either ranker returned; a candidate missing from a ranker scores 0 there. The maxima are those of
    each ranker's own top list, so a score of 1 means "as good as that ranker's best".
    """
    out: dict[str, float] = {}
    dm = dense_max if dense_max > 0 else 1.0
    lm = lexical_max if lexical_max > 0 else 1.0
    for pid in set(dense) | set(lexical):
        out[pid] = dense_weight * dense.get(pid, 0.0) / dm + (1 - dense_weight) * lexical.get(pid, 0.0) / lm
    return out


def ranked(scores: Mapping[str, float]) -> list[tuple[str, float]]:
    """Items by descending score, ties by id (deterministic)."""
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))


def containment(later: set[str], earlier: set[str]) -> float:
    """Share of `later`'s terms that `earlier` already has (1.0: it adds nothing new)."""
    if not later:
        return 1.0
    return len(later & earlier) / len(later)


def suppress_near_duplicates(
    ranked: Sequence[str], terms: Mapping[str, Sequence[str]], threshold: float, keep: int
) -> tuple[list[str], dict[str, str]]:
    """Walk the ranking; drop an item whose terms are >= `threshold` contained in one kept earlier.

    A passage that repeats a higher-ranked one (the same statement in another edition or section)
    adds nothing to a prompt with room for a few passages. Stops once `keep` items are kept; items
    without terms are never dropped. Returns the kept ranking and {dropped id: the id it repeats}.
    """
    kept: list[str] = []
    kept_sets: list[set[str]] = []
    dropped: dict[str, str] = {}
    for pid in ranked:
        if len(kept) >= keep:
            break
        s = set(terms.get(pid) or ())
        dup = next((kid for kid, ks in zip(kept, kept_sets) if s and containment(s, ks) >= threshold), None)
        if dup is not None:
            dropped[pid] = dup
            continue
        kept.append(pid)
        kept_sets.append(s)
    return kept, dropped
