"""Evaluation.

- retrieval quality on BEIR-format judgements (`ragmed eval retrieval`, eval/retrieval.py);
- grounded vs ungrounded answers on medical QA sets (`ragmed compare`, `ragmed.eval.compare(...)`,
  eval/comparison.py with qa.py, parse.py, stats.py, report.py);
- the trust benchmarks' data (eval/trust.py).
"""

from __future__ import annotations


def compare(*args, **kwargs):
    """Grounded vs ungrounded answers; returns a `CompareResult` (records, summary, header).
    See `ragmed.eval.comparison.compare` for the arguments."""
    from .comparison import compare as _compare

    return _compare(*args, **kwargs)


__all__ = ["compare"]
