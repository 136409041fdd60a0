"""Fuzz campaign: hypothesis-driven mutations of real PDFs through ragmed's isolated extractor.

    python -m benchmarks.fuzz_pdf [--cases 3000] [--seed 7]

Seeds: the project's sample protocol, a generated guideline PDF and, when ../shared/eval is present,
the smallest guideline PDF. Every mutated file must come back as a document (whose invariants
hold) or as one clear per-file error; an exception escaping, a worker crash or a file over the time
limit is a finding. Results: benchmarks/results/fuzz_pdf.{json,md}. The test suite runs 40 cases
(tests/test_hostile.py).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import _common  # noqa: F401  (environment first)
from benchmarks._common import GUIDELINES, RESULTS, ROOT
from tests.support import fuzzpdf  # noqa: E402
from tests.support import pdfgen  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--time-limit", type=float, default=30.0)
    args = ap.parse_args()

    from ragmed.ingest.extract import file_sha256
    from ragmed.ingest.isolate import IsolatedExtractor, Limits

    work = Path(tempfile.mkdtemp(prefix="ragmed-fuzz-"))
    seeds = [ROOT / "corpora" / "sample" / "demo-clinic-hypertension-protocol.pdf", work / "guideline.pdf"]
    pdfgen.make_guideline_pdf(seeds[1])
    if GUIDELINES.is_dir():
        seeds += sorted(GUIDELINES.glob("*.pdf"), key=lambda p: p.stat().st_size)[:1]
    t0 = time.perf_counter()
    files = fuzzpdf.generate(seeds, work / "cases", args.cases, seed=args.seed)
    gen_s = time.perf_counter() - t0

    limits = Limits(time_s=args.time_limit, memory_mb=1024)
    results, times, findings = [], [], []
    t0 = last = time.perf_counter()
    try:
        for path, result in IsolatedExtractor(limits).map([(f, file_sha256(f)) for f in files]):
            now = time.perf_counter()
            times.append(now - last)
            last = now
            results.append(result)
            kind = fuzzpdf.classify(result)
            if kind == "ok":
                try:
                    fuzzpdf.check_document(result)
                except AssertionError as exc:
                    findings.append(f"{path.name}: invariant broken: {exc}")
            elif kind in ("crash", "limit"):
                findings.append(f"{path.name}: {result}")
            elif "\n" in str(result) or len(str(result)) > 400:
                findings.append(f"{path.name}: error message not one clear line")
    except Exception as exc:  # an exception escaping the extractor is the worst finding
        findings.append(f"exception escaped: {type(exc).__name__}: {exc}")
    total = time.perf_counter() - t0
    tally = dict(fuzzpdf.tally(results).most_common())
    times.sort()
    out = {
        "cases": len(results), "requested": args.cases, "seed": args.seed,
        "seeds": [p.name for p in seeds], "outcomes": tally, "findings": findings,
        "time_per_file_s": {"p50": round(times[len(times) // 2], 4), "p95": round(times[int(len(times) * 0.95)], 4),
                            "max": round(times[-1], 3)} if times else {},
        "extract_s": round(total, 1), "generate_s": round(gen_s, 1), "limits": {"time_s": limits.time_s, "memory_mb": limits.memory_mb},
        "command": "python -m benchmarks.fuzz_pdf " + " ".join(sys.argv[1:]), "cpus": os.cpu_count(),
        "date": time.strftime("%Y-%m-%d"),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "fuzz_pdf.json").write_text(json.dumps(out, indent=2) + "\n")
    md = f"""# PDF fuzz campaign (`make bench-fuzz`)

`{out['command']}` on {out['date']}: {out['cases']} mutated PDFs (hypothesis, seed {args.seed}) from
{', '.join(out['seeds'])}, each extracted in ragmed's isolated worker (limits: {limits.time_s:g} s,
{limits.memory_mb} MB per document).

| outcome | files |
|---|---:|
""" + "\n".join(f"| {k} | {v} |" for k, v in tally.items()) + f"""

Findings (exceptions escaping, worker crashes, limits hit, broken invariants, unclear errors):
**{len(findings)}**{(': ' + '; '.join(findings[:10])) if findings else ''}.
Time per file: p50 {out['time_per_file_s'].get('p50')} s, p95 {out['time_per_file_s'].get('p95')} s,
max {out['time_per_file_s'].get('max')} s; {out['extract_s']} s in all.
"""
    (RESULTS / "fuzz_pdf.md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
