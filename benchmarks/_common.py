"""Shared set-up of the benchmark scripts: environment, paths, the evaluation data location.

Import it first (`from benchmarks._common import ...`; scripts run as `python -m benchmarks.NAME` from
the project root): it fixes the thread and offline settings before numpy or torch load.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ["HF_HUB_OFFLINE"] = "1"

from ragmed.config import cache_dir, eval_cache_dir  # noqa: E402  (light: no numpy, torch or chromadb)

ROOT = Path(__file__).resolve().parents[1]

EVAL = Path(os.environ.get("RAGMED_EVAL_DIR", ROOT.parent / "shared" / "eval"))
BIOASQ = EVAL / "beir" / "bioasq_7b-11b_snippets"
PUBMEDQA = EVAL / "beir" / "pubmedqa_pqal"
RESULTS = ROOT / "benchmarks" / "results"
CACHE = cache_dir()  # ragmed's cache folder (config.py: $RAGMED_HOME/cache, else ~/.cache/ragmed)
EVAL_INDEXES = eval_cache_dir()  # the BEIR corpora as collections, shared by the scripts and `ragmed eval`


def require(*paths: Path) -> None:
    """Exit with a clear 'skipped' line when the third-party evaluation data is absent."""
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        sys.exit(f"skipped: evaluation data not found ({', '.join(missing)}); it lives in ../shared/eval")

def cpu_name() -> str:
    """The CPU's model name (benchmark results say which machine they come from)."""
    import platform

    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


GUIDELINES = EVAL / "guidelines"
GOLD = EVAL / "guideline_gold_text" / "cdc-2022-opioid"


def guideline_rag(progress: bool = True):
    """The 8 guideline PDFs as a cached collection (ingested on first use, ~5 min; then unchanged
    files are skipped)."""
    from ragmed import RagMed

    require(GUIDELINES)
    from ragmed.errors import IndexMismatchError

    rag = RagMed(collection="guidelines-8", index_dir=EVAL_INDEXES)
    pdfs = sorted(GUIDELINES.glob("*.pdf"))
    try:
        report = rag.ingest(pdfs, progress=progress)
    except IndexMismatchError as exc:  # built by an older chunker: rebuilt once, said so
        print(f"rebuilding the cached guideline collection: {exc}", file=sys.stderr)
        report = rag.ingest(pdfs, progress=progress, rebuild=True)
    if not report.ok:
        sys.exit(f"guideline ingest failed: {[d.to_dict() for d in report.failed]}")
    return rag
