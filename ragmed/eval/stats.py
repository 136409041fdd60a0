"""Summary statistics of a grounded-vs-ungrounded comparison.

- accuracy per arm = correct / all questions; unparseable answers are not correct, and are
  reported as their own rate (plus the accuracy over parseable answers only);
- 95% intervals by the percentile bootstrap (2,000 resamples of the questions, seeded);
- the paired difference (grounded - ungrounded) with its paired bootstrap interval, and McNemar's
  exact test on the discordant pairs (two-sided binomial test, p = 0.5).
"""

from __future__ import annotations

from math import comb

import numpy as np

BOOTSTRAP = 2000
ARMS = ("grounded", "ungrounded")


def bootstrap_ci(values, seed: int = 0, n: int = BOOTSTRAP) -> tuple[float, float]:
    """95% percentile-bootstrap interval of the mean of `values` (0/1 or real)."""
    x = np.asarray(values, dtype=float)
    if len(x) == 0:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, len(x), size=(n, len(x)))].mean(axis=1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return (round(float(lo), 4), round(float(hi), 4))


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value for b and c discordant pairs."""
    n = b + c
    if n == 0:
        return 1.0
    tail = sum(comb(n, i) for i in range(min(b, c) + 1)) / 2 ** n
    return round(min(1.0, 2 * tail), 6)


def _median(xs):
    return round(float(np.median(xs)), 4) if len(xs) else None


def _mean(xs):
    return round(float(np.mean(xs)), 4) if len(xs) else None


def arm_summary(records: list[dict], arm: str, seed: int) -> dict:
    rs = [r[arm] for r in records]
    n = len(rs)
    correct = [1.0 if r["correct"] else 0.0 for r in rs]
    parsed = [r for r in rs if r["parsed"]]
    out = {
        "questions": n,
        "correct": int(sum(correct)),
        "accuracy": round(sum(correct) / n, 4) if n else None,
        "accuracy_ci95": bootstrap_ci(correct, seed),
        "unparseable": n - len(parsed),
        "unparseable_rate": round((n - len(parsed)) / n, 4) if n else None,
        "accuracy_parseable": round(sum(r["correct"] for r in parsed) / len(parsed), 4) if parsed else None,
        "prompt_tokens_mean": _mean([r["prompt_tokens"] for r in rs]),
        "completion_tokens_mean": _mean([r["completion_tokens"] for r in rs]),
        "latency_s_median": _median([r["latency_s"] for r in rs]),
        "latency_s_mean": _mean([r["latency_s"] for r in rs]),
        "ttft_s_median": _median([r["ttft_s"] for r in rs if r.get("ttft_s") is not None]),
    }
    if arm == "grounded" and n:
        out["model_abstained_rate"] = round(sum(bool(r.get("model_abstained")) for r in rs) / n, 4)
        sup = [r["support"] for r in rs if r.get("support") and r["support"]["claims"]]
        out["answers_with_claims"] = len(sup)
        out["supported_share_mean"] = _mean([s["supported_share"] for s in sup])
        out["citation_precision_mean"] = _mean([s["citation_precision"] for s in sup])
        out["citation_recall_mean"] = _mean([s["citation_recall"] for s in sup])
    return out


def paired_summary(records: list[dict], seed: int) -> dict:
    g = np.array([1.0 if r["grounded"]["correct"] else 0.0 for r in records])
    u = np.array([1.0 if r["ungrounded"]["correct"] else 0.0 for r in records])
    wins = int(((g == 1) & (u == 0)).sum())
    losses = int(((g == 0) & (u == 1)).sum())
    return {
        "wins": wins, "losses": losses,
        "ties_both_correct": int(((g == 1) & (u == 1)).sum()),
        "ties_both_wrong": int(((g == 0) & (u == 0)).sum()),
        "difference": round(float(g.mean() - u.mean()), 4) if len(g) else None,
        "difference_ci95": bootstrap_ci(g - u, seed),
        "mcnemar_p": mcnemar_exact(wins, losses),
    }


def summarise(records: list[dict], seed: int = 0) -> dict:
    """The whole summary, and the same per subset when the run mixes several (MIRAGE)."""
    out = {"questions": len(records), "arms": {a: arm_summary(records, a, seed) for a in ARMS},
           "paired": paired_summary(records, seed)}
    if records:
        out["gate_would_abstain_rate"] = round(sum(not r["gate"]["answerable"] for r in records) / len(records), 4)
        own = [r.get("own_context_rank") for r in records]
        if any(x is not None for x in own):
            out["own_context_retrieved_rate"] = round(sum(x is not None for x in own) / len(own), 4)
    subsets = sorted({r.get("subset", "") for r in records})
    if len(subsets) > 1:
        out["by_subset"] = {
            s: {"questions": len(rs), "arms": {a: arm_summary(rs, a, seed) for a in ARMS},
                "paired": paired_summary(rs, seed)}
            for s in subsets for rs in [[r for r in records if r.get("subset", "") == s]]
        }
    return out
