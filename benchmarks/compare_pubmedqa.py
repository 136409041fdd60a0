"""Grounded vs ungrounded answers of the bundled SmolLM2-135M on 100 PubMedQA dev questions.

PubMedQA* setting (MIRAGE): the 1,000 PQA-L abstracts are the collection; a question's own
abstract is not handed to the model, it has to be retrieved (hybrid, k = 3). Same model, greedy
decoding, seed 0, both arms.

    .venv/bin/python -m benchmarks.compare_pubmedqa        # or: make bench-compare
    # the same, by hand:
    ragmed datasets build pubmedqa --from ../shared/eval/beir/pubmedqa_pqal --index-dir IDX
    ragmed compare --dataset pubmedqa --collection pubmedqa --index-dir IDX --split dev --limit 100 \\
        --out benchmarks/results/compare_pubmedqa

Writes benchmarks/results/compare_pubmedqa/{header.json,summary.json,report.md,report.html,plots/}
(records.jsonl, which holds PubMedQA text, stays out of git). Resumable: rerun to continue.
"""

from __future__ import annotations

import sys

from benchmarks._common import EVAL, EVAL_INDEXES, PUBMEDQA, RESULTS, require

from ragmed.embed.sentence import Embedder
from ragmed.eval.beir import load_corpus
from ragmed.eval.comparison import compare
from ragmed.eval.report import tables
from ragmed.eval.retrieval import build_collection


def main() -> int:
    require(PUBMEDQA, EVAL / "pubmedqa")
    build_collection(load_corpus(PUBMEDQA), EVAL_INDEXES, Embedder(), name="pubmedqa-star",
                     progress=sys.stderr.isatty())
    result = compare("pubmedqa", collection="pubmedqa-star", index_dir=EVAL_INDEXES, split="dev", limit=100,
                     k=3, seed=0, out=RESULTS / "compare_pubmedqa", data_dir=EVAL, progress=sys.stderr.isatty())
    print("\n".join(tables(result.summary)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
