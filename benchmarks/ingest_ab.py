"""Interleaved A/B of ingestion speed: two checkouts of ragmed, runs alternated, the same 8 guideline PDFs.

    python -m benchmarks.ingest_ab --old /work/wt/ingest-old --runs 3 [--budget-min 45] [--append] [--tag NAME] [--parse-only]

On a machine shared with other jobs a single run's pages/s says more about the load than about the
code. Alternating old/new runs one at a time, pairs in ABBA order (old new, new old, old new) lets
the load hit both sides alike (a trend in the load favours neither); no new pair starts after
`--budget-min` minutes (`--append`: continue the recorded session where it stopped); each run is a fresh interpreter with the checkout's own `ragmed` on PYTHONPATH, ingesting the
8 PDFs with `RagMed.ingest` (defaults, one call, as benchmarks/ingest_guidelines.py) into a fresh
temporary index, the embedder loaded and warmed before the clock starts. Per run it records wall
seconds, pages/s, CPU seconds of the run and its parser worker (less sensitive to load than the
wall clock), the load average sampled every 5 s, and the time per stage (timers around the same
functions as benchmarks/ingest_stages.py; the parser runs in its own process, so its own time shows
only as CPU seconds and as 'waiting for the parser'). Embedded tokens are counted, since embedding
is most of the time and its cost follows the token count.

`--parse-only`: the extraction alone (`ragmed.ingest.extract.extract` in-process, no chunking or
embedding), alternated the same way; CPU seconds per side.

Writes benchmarks/results/ingest_ab[_TAG].{json,md} with the command. Not niced on purpose: both
sides must compete with the other jobs equally; the runs are sequential.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve()
ROOT = HERE.parents[1]
EVAL = Path(os.environ.get("RAGMED_EVAL_DIR", ROOT.parent / "shared" / "eval"))
RESULTS = ROOT / "benchmarks" / "results"

# ---------------------------------------------------------------- the child (runs inside one checkout)


def _child(mode: str, folder: str) -> None:
    """One run in this interpreter; prints one JSON line. `ragmed` comes from PYTHONPATH."""
    import collections
    import resource
    import tempfile

    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    pdfs = sorted(Path(folder).glob("*.pdf"))
    import ragmed

    out: dict = {"ragmed_file": ragmed.__file__}
    if mode == "parse":
        from ragmed.ingest.extract import extract

        c0, t0 = time.process_time(), time.perf_counter()
        pages = 0
        per_file = {}
        for p in pdfs:
            f0 = time.process_time()
            doc = extract(p)
            pages += len(doc.pages)
            per_file[p.name] = round(time.process_time() - f0, 2)
        out.update(seconds=time.perf_counter() - t0, cpu_s=time.process_time() - c0, pages=pages, per_file_cpu_s=per_file)
        print("AB_RESULT " + json.dumps(out), flush=True)
        return

    from ragmed import RagMed
    from ragmed.embed.sentence import Embedder
    from ragmed.ingest import isolate, pipeline
    from ragmed.store.chroma import VectorIndex
    from ragmed.store.lexical import LexicalIndex

    spent: collections.Counter = collections.Counter()
    tokens = [0, 0]  # tokens, texts

    def timed(owner, name, stage):
        inner = getattr(owner, name)

        def wrapper(*args, **kwargs):
            s = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                spent[stage] += time.perf_counter() - s

        setattr(owner, name, wrapper)

    for owner, name, stage in [(isolate.IsolatedExtractor, "_receive", "waiting for the parser"),
                               (pipeline, "chunk_document", "chunking"), (Embedder, "embed", "embedding"),
                               (VectorIndex, "upsert", "Chroma upsert"), (LexicalIndex, "write_version", "BM25 write"),
                               (pipeline.Manifest, "save", "manifest saves"), (pipeline.Ingestor, "finish", "final commit")]:
        timed(owner, name, stage)
    inner_embed = Embedder.embed

    def counting(self, texts, *args, lengths=None, **kwargs):
        tokens[0] += sum(lengths or [])
        tokens[1] += len(texts)
        return inner_embed(self, texts, *args, lengths=lengths, **kwargs)

    Embedder.embed = counting
    with tempfile.TemporaryDirectory() as tmp:
        rag = RagMed(collection="abtest", index_dir=tmp)
        rag.embedder.embed(["warm up"])
        spent.clear()
        tokens[:] = [0, 0]
        r0, c0 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        report = rag.ingest([str(p) for p in pdfs])
        seconds = time.perf_counter() - t0
        r1, c1 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    out.update(seconds=seconds, pages=sum(d.pages for d in report.documents),
               chunks=sum(d.chunks for d in report.documents), failed=len(report.failed),
               embedded_tokens=tokens[0], embedded_texts=tokens[1],
               cpu_main_s=(r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime),
               cpu_parser_s=(c1.ru_utime + c1.ru_stime) - (c0.ru_utime + c0.ru_stime),
               embedder_backend=rag.embedder.backend, stages_s=dict(spent))
    print("AB_RESULT " + json.dumps(out), flush=True)


# ---------------------------------------------------------------- the driver


def _commit(tree: Path) -> str:
    return subprocess.run(["git", "-C", str(tree), "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True, check=False).stdout.strip()


def _run(tree: Path, mode: str) -> dict:
    samples: list[float] = []
    stop = threading.Event()

    def sample():
        while not stop.wait(5):
            samples.append(os.getloadavg()[0])

    env = {**os.environ, "PYTHONPATH": str(tree), "HF_HUB_OFFLINE": "1", "OPENBLAS_NUM_THREADS": "1"}
    start_load = os.getloadavg()
    th = threading.Thread(target=sample, daemon=True)
    th.start()
    proc = subprocess.run([sys.executable, str(HERE), "--child", mode, str(EVAL / "guidelines")], cwd=str(tree),
                          env=env, capture_output=True, text=True, check=False)
    stop.set()
    th.join()
    line = [x for x in proc.stdout.splitlines() if x.startswith("AB_RESULT ")]
    if proc.returncode or not line:
        raise SystemExit(f"run in {tree} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    out = json.loads(line[-1][len("AB_RESULT "):])
    if not out["ragmed_file"].startswith(str(tree)):
        raise SystemExit(f"run in {tree} imported ragmed from {out['ragmed_file']}; check PYTHONPATH")
    out["load_1min_start"] = round(start_load[0], 2)
    out["load_1min_mean"] = round(statistics.fmean(samples), 2) if samples else round(start_load[0], 2)
    out["load_1min_min_max"] = [round(min(samples), 2), round(max(samples), 2)] if samples else None
    out["pages_per_s"] = round(out["pages"] / out["seconds"], 3)
    return out


def main(argv: list[str]) -> int:
    if argv[:1] == ["--child"]:
        _child(argv[1], argv[2])
        return 0
    if not (EVAL / "guidelines").exists():
        print(f"skipped: {EVAL / 'guidelines'} not found (third-party data is not present)")
        return 0
    old = Path(argv[argv.index("--old") + 1]).resolve()
    new = Path(argv[argv.index("--new") + 1]).resolve() if "--new" in argv else ROOT
    runs = int(argv[argv.index("--runs") + 1]) if "--runs" in argv else 3
    tag = argv[argv.index("--tag") + 1] if "--tag" in argv else ""
    mode = "parse" if "--parse-only" in argv else "ingest"
    budget_s = 60 * float(argv[argv.index("--budget-min") + 1]) if "--budget-min" in argv else float("inf")
    sides = {"old": old, "new": new}
    results: dict[str, list[dict]] = {"old": [], "new": []}
    # pairs in ABBA order (old new, new old, ...): a load that rises or falls over the session
    # does not favour one side
    order = [s for i in range(runs) for s in (("old", "new") if i % 2 == 0 else ("new", "old"))]
    command = "python -m benchmarks.ingest_ab " + " ".join(argv)
    name = "ingest_ab" + ("_parse" if mode == "parse" else "") + (f"_{tag}" if tag else "")
    done = 0
    if "--append" in argv and (RESULTS / f"{name}.json").exists():  # continue a stopped session's ABBA order
        before = json.loads((RESULTS / f"{name}.json").read_text())
        results = before["runs"]
        done = len(results["old"]) + len(results["new"])
        command = before["command"] + " ; then: " + command
    t_start = time.monotonic()
    for i, side in enumerate(order):
        if i < done:
            continue
        if i % 2 == 0 and i > done and time.monotonic() - t_start > budget_s:
            print(f"time budget reached: {i // 2} pairs done", file=sys.stderr)
            break
        r = _run(sides[side], mode)
        r["order"] = i + 1
        results[side].append(r)
        print(f"[{i + 1}/{len(order)}] {side}: {r['pages']} pages in {r['seconds']:.1f} s = {r['pages_per_s']} pages/s, "
              f"load {r['load_1min_mean']}", file=sys.stderr, flush=True)
        if results["old"] and results["new"]:
            _write(results, sides, mode, command, tag)
    return 0


def _write(results: dict[str, list[dict]], sides: dict[str, Path], mode: str, command: str, tag: str) -> None:
    """Write the json and md of the runs so far (called after each run: a stopped session keeps them)."""
    key = "cpu_s" if mode == "parse" else "cpu_main_s"
    summary = {}
    for side, rs in results.items():
        summary[side] = {"commit": _commit(sides[side]), "tree": str(sides[side]), "runs": len(rs),
                         "median_pages_per_s": round(statistics.median(r["pages_per_s"] for r in rs), 3),
                         "median_seconds": round(statistics.median(r["seconds"] for r in rs), 1),
                         "median_cpu_s": round(statistics.median(r[key] + r.get("cpu_parser_s", 0) for r in rs), 1)}
    ratio = round(summary["new"]["median_pages_per_s"] / summary["old"]["median_pages_per_s"], 3)
    cpu_ratio = round(summary["new"]["median_cpu_s"] / summary["old"]["median_cpu_s"], 3)
    data = {"command": command, "mode": mode, "date": time.strftime("%Y-%m-%d %H:%M"),
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()} (shared)",
            "summary": summary, "ratio_new_to_old_pages_per_s": ratio, "ratio_new_to_old_cpu_s": cpu_ratio,
            "runs": results}
    name = "ingest_ab" + ("_parse" if mode == "parse" else "") + (f"_{tag}" if tag else "")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(data, indent=1) + "\n")
    md = [f"# Ingestion A/B ({mode}): {summary['old']['commit']} (old) against {summary['new']['commit']} (new)", "",
          f"Command: `{command}` · {data['machine']} · {data['date']} · runs in ABBA order, one at a time, not niced.", "",
          "| run | side | pages | chunks | tokens | seconds | pages/s | CPU s (main + parser) | load avg 1 min (start; mean, min-max during) |",
          "|---|---|---|---|---|---|---|---|---|"]
    for r in sorted(results["old"] + results["new"], key=lambda r: r["order"]):
        side = "old" if r in results["old"] else "new"
        cpu = f"{r['cpu_s']:.1f}" if mode == "parse" else f"{r['cpu_main_s']:.1f} + {r['cpu_parser_s']:.1f}"
        mm = r["load_1min_min_max"] or ["-", "-"]
        md.append(f"| {r['order']} | {side} | {r['pages']} | {r.get('chunks', '-')} | {r.get('embedded_tokens', '-')} | "
                  f"{r['seconds']:.1f} | {r['pages_per_s']} | {cpu} | {r['load_1min_start']}; {r['load_1min_mean']}, "
                  f"{mm[0]}-{mm[1]} |")
    md += ["", (f"Median pages/s: old {summary['old']['median_pages_per_s']} ({summary['old']['runs']} runs), "
               f"new {summary['new']['median_pages_per_s']} ({summary['new']['runs']} runs); "
               f"new/old = **{ratio}**. Median CPU seconds: old {summary['old']['median_cpu_s']}, new "
               f"{summary['new']['median_cpu_s']}; new/old = {cpu_ratio}."), ""]
    if mode == "ingest":
        stages = sorted({k for rs in results.values() for r in rs for k in r["stages_s"]})
        md += ["Median seconds per stage (wall, inside the main process):", "", "| stage | old | new |", "|---|---|---|"]
        for s in stages:
            med = {side: statistics.median(r["stages_s"].get(s, 0) for r in rs) for side, rs in results.items()}
            md.append(f"| {s} | {med['old']:.1f} | {med['new']:.1f} |")
        md.append("")
    (RESULTS / f"{name}.md").write_text("\n".join(md))
    print("\n".join(md), file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
