"""Ingest the 8 real guideline PDFs of ../shared/eval into a fresh index and record the figures.

    .venv/bin/python -m benchmarks.ingest_guidelines     (or: make bench)

Writes benchmarks/results/ingest_guidelines.json and .md. Also re-runs the ingestion to time the
no-change path, and measures page attribution on the CDC opioid gold set.

    nice -n 10 .venv/bin/python -m benchmarks.ingest_guidelines --time-limit 600

On a loaded machine: the PDFs one `ingest` call each, smallest first, no new file started after
the limit; pages/s and chunks/s over the files done, with the load average, written to
ingest_guidelines_partial.{json,md} (the full run's figures are kept).
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


def partial(pdfs: list[Path], limit_s: float) -> int:
    """Ingest the PDFs smallest first, one call each, until `limit_s` has passed; record what was done."""
    from ragmed import RagMed, __version__

    load_start = os.getloadavg()
    done, skipped = [], []
    with tempfile.TemporaryDirectory() as tmp:
        rag = RagMed(collection="bench", index_dir=tmp)
        t0 = time.perf_counter()
        _ = rag.embedder.dimension
        load_s = time.perf_counter() - t0
        start = time.perf_counter()
        for pdf in sorted(pdfs, key=lambda p: p.stat().st_size):
            if time.perf_counter() - start > limit_s:
                skipped.append(pdf.name)
                continue
            t0 = time.perf_counter()
            [doc] = rag.ingest([pdf]).documents
            done.append({"file": pdf.name, "pages": doc.pages, "chunks": doc.chunks, "status": doc.status,
                         "seconds": round(time.perf_counter() - t0, 1)})
            print(done[-1], os.getloadavg(), file=sys.stderr, flush=True)
    seconds = sum(d["seconds"] for d in done)
    pages, chunks = sum(d["pages"] for d in done), sum(d["chunks"] for d in done)
    full = json.loads((OUT / "ingest_guidelines.json").read_text()) if (OUT / "ingest_guidelines.json").exists() else {}
    result = {"ragmed_version": __version__, "command": " ".join(["python -m benchmarks.ingest_guidelines", *sys.argv[1:]]),
              "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
              "date": time.strftime("%Y-%m-%d %H:%M"), "time_limit_s": limit_s,
              "load_average_start": [round(x, 1) for x in load_start],
              "load_average_end": [round(x, 1) for x in os.getloadavg()],
              "embedder_load_s": round(load_s, 1), "files_done": done, "files_not_started": skipped,
              "pages": pages, "chunks": chunks, "ingest_s": round(seconds, 1),
              "pages_per_s": round(pages / seconds, 2) if seconds else None,
              "chunks_per_s": round(chunks / seconds, 2) if seconds else None,
              "full_run_before": {k: full.get(k) for k in ("date", "pages", "chunks", "ingest_s", "pages_per_s", "chunks_per_s")}}
    (OUT / "ingest_guidelines_partial.json").write_text(json.dumps(result, indent=2) + "\n")
    md = ["# Ingestion of the guideline PDFs under a time limit", "",
          (f"Command: `nice -n 10 {result['command']}` · {result['machine']} · {result['date']} · load average "
           f"(1, 5, 15 min) {result['load_average_start']} at the start, {result['load_average_end']} at the end "
           "(2 vCPUs shared with other jobs)"), "",
          "| file | pages | chunks | seconds | pages/s |", "|---|---|---|---|---|"]
    md += [f"| {d['file']} | {d['pages']} | {d['chunks']} | {d['seconds']} | {d['pages'] / d['seconds']:.2f} |" for d in done]
    md += [f"| **total** | {pages} | {chunks} | {result['ingest_s']} | {result['pages_per_s']} |", "",
           (f"Not started (time limit {limit_s:.0f} s): {', '.join(skipped) or 'none'}. Chunks/s {result['chunks_per_s']}. "
            f"Full run before (ingest_guidelines.md, {full.get('date')}, all 8 files, one call, idle machine): "
            f"{full.get('pages_per_s')} pages/s, {full.get('chunks_per_s')} chunks/s."), ""]
    (OUT / "ingest_guidelines_partial.md").write_text("\n".join(md))
    print("\n".join(md))
    return 0


def main() -> int:
    pdfs = sorted((EVAL / "guidelines").glob("*.pdf"))
    if "--time-limit" in sys.argv:
        return partial(pdfs, float(sys.argv[sys.argv.index("--time-limit") + 1])) if pdfs else 0
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
