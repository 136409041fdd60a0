"""Ingest the 8 real guideline PDFs of ../shared/eval into a fresh index and record the figures.

    .venv/bin/python -m benchmarks.ingest_guidelines     (or: make bench)

Writes benchmarks/results/ingest_guidelines.json and .md. Also re-runs the ingestion to time the
no-change path, and measures page attribution on the CDC opioid gold set.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parent.parent
EVAL = Path(os.environ.get("RAGMED_EVAL_DIR", ROOT.parent / "shared" / "eval"))
OUT = ROOT / "benchmarks" / "results"


def main() -> int:
    pdfs = sorted((EVAL / "guidelines").glob("*.pdf"))
    if not pdfs:
        print(f"skipped: {EVAL / 'guidelines'} not found (third-party data is not present)")
        return 0
    from ragmed import RagMed, __version__

    with tempfile.TemporaryDirectory() as tmp:
        rag = RagMed(collection="bench", index_dir=tmp)
        t0 = time.perf_counter()
        _ = rag.embedder.dimension  # model load, timed separately
        load_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        report = rag.ingest(pdfs)
        ingest_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        again = rag.ingest(pdfs)
        noop_s = time.perf_counter() - t0
        pages = sum(d.pages for d in report.documents)
        chunks = sum(d.chunks for d in report.documents)
        size = sum(f.stat().st_size for f in Path(tmp).rglob("*") if f.is_file())
        from test_guidelines import OPIOID, _alnum, _gold_statements

        col = rag.index.chroma()
        got = col.get(where={"source": str(EVAL / "guidelines" / OPIOID)}, include=["documents", "metadatas"])
        bodies = [(_alnum(d), m["page_start"], m["page_end"]) for d, m in zip(got["documents"], got["metadatas"])]
        gold = _gold_statements()
        found = sum(any(_alnum(t) in b and a <= p <= e for b, a, e in bodies) for _, p, t in gold)
    result = {
        "ragmed_version": __version__,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d"),
        "files": len(pdfs), "pages": pages, "chunks": chunks, "failed": len(report.failed),
        "embedder_load_s": round(load_s, 2), "ingest_s": round(ingest_s, 1),
        "pages_per_s": round(pages / ingest_s, 2), "chunks_per_s": round(chunks / ingest_s, 2),
        "reingest_unchanged_s": round(noop_s, 2), "reingest_embedded": again.embedded,
        "index_bytes": size, "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "page_attribution": {"found": found, "total": len(gold), "share": round(found / len(gold), 4)},
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "ingest_guidelines.json").write_text(json.dumps(result, indent=2) + "\n")
    md = ["# Ingestion of the 8 guideline PDFs (904 pages)", "",
          f"Command: `.venv/bin/python -m benchmarks.ingest_guidelines` · {result['machine']} · {result['date']}", "",
          "| metric | value |", "|---|---|"]
    md += [f"| {k} | {v} |" for k, v in result.items() if k not in ("machine", "date")]
    (OUT / "ingest_guidelines.md").write_text("\n".join(md) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
