"""Time of a re-ingest where nothing changed (issue 20, scope 6), before and after the lazy embedder.

    nice -n 10 .venv/bin/python -m benchmarks.ingest_noop [--before /work/main] [--repeats 3]

Ingests corpora/sample into a fresh index once, then runs `ragmed ingest corpora/sample` again
(nothing changed) `--repeats` times as a separate process, with this checkout's code and, with
`--before DIR`, with another checkout's (e.g. the main branch before the change): the median wall
time of the whole command (interpreter start, imports, hashing, manifest) and, in-process, whether
the embedder was loaded. Writes benchmarks/results/ingest_noop.json and .md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks._common import RESULTS, ROOT, cpu_name

CORPUS = ROOT / "corpora" / "sample"


def _timed(code_dir: Path, index: str, repeats: int) -> list[float]:
    env = {**os.environ, "PYTHONPATH": str(code_dir), "HF_HUB_OFFLINE": "1"}
    cmd = [sys.executable, "-m", "ragmed.cli", "ingest", str(CORPUS), "--index-dir", index, "-c", "noop", "-q"]
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run(cmd, env=env, cwd=code_dir, check=True, capture_output=True)
        out.append(time.perf_counter() - t0)
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--before", type=Path, default=None, help="another checkout to time (the code before)")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    from ragmed import RagMed

    with tempfile.TemporaryDirectory() as tmp:
        RagMed(collection="noop", index_dir=tmp).ingest([CORPUS])
        rag = RagMed(collection="noop", index_dir=tmp)
        t0 = time.perf_counter()
        report = rag.ingest([CORPUS])
        inproc = time.perf_counter() - t0
        loaded = rag._embedder is not None
        after = _timed(ROOT, tmp, args.repeats)
        before = _timed(args.before, tmp, args.repeats) if args.before else []
    result = {
        "command": "nice -n 10 python -m benchmarks.ingest_noop" + (f" --before {args.before}" if args.before else "")
                   + f" --repeats {args.repeats}",
        "cpu": cpu_name(), "corpus": "corpora/sample", "unchanged": report.count("unchanged"),
        "after": {"cli_median_s": round(statistics.median(after), 2), "runs_s": [round(x, 2) for x in after],
                  "in_process_s": round(inproc, 3), "embedder_loaded": loaded},
        "before": {"cli_median_s": round(statistics.median(before), 2), "runs_s": [round(x, 2) for x in before]}
        if before else None,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "ingest_noop.json").write_text(json.dumps(result, indent=1))
    md = ["# Re-ingest with nothing changed", "", f"Command: `{result['command']}`  ", f"CPU: {result['cpu']}", "",
          "| code | `ragmed ingest corpora/sample` again (median wall s) | runs |", "|---|---|---|"]
    if before:
        md.append(f"| before ({args.before}) | {result['before']['cli_median_s']} | {result['before']['runs_s']} |")
    md.append(f"| after (this checkout) | {result['after']['cli_median_s']} | {result['after']['runs_s']} |")
    md += ["", f"In process (`RagMed.ingest`, after): {inproc:.3f} s, embedder loaded: {loaded}.", ""]
    (RESULTS / "ingest_noop.md").write_text("\n".join(md))
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    sys.exit(main())
