"""ragmed ingestion vs the pipeline a LangChain tutorial builds, on the 8 guideline PDFs (904 pages).

    python -m benchmarks.ingest_peer [--reps 3]        (make bench-peer)

Per repetition, alternating: (a) LangChain: PyPDFLoader, RecursiveCharacterTextSplitter(1000, 200),
HuggingFaceEmbeddings with the same bundled MiniLM, Chroma via langchain-chroma, run in its own venv
(benchmarks/.peer-venv, built on first use: langchain's packages need a newer huggingface_hub than
ragmed pins); (b) `RagMed.ingest` with its defaults into a fresh index, then a re-ingest of the
unchanged files; (c) the compute floor: only the embedding of ragmed's own chunks. Each in a fresh
process, models loaded before the clock starts. Medians. Results: benchmarks/results/ingest_peer.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import _common  # noqa: F401  (environment first)
from benchmarks._common import GUIDELINES, RESULTS, ROOT, require

PEER_VENV = ROOT / "benchmarks" / ".peer-venv"
PEER_PACKAGES = ["torch==2.13.0", "langchain-community==0.4.2", "langchain-text-splitters==1.1.3",
                 "langchain-huggingface==1.2.3", "langchain-chroma==1.1.0", "pypdf>=6", "sentence-transformers>=5",
                 "chromadb>=1.5,<1.6"]


def peer_python() -> Path:
    py = PEER_VENV / "bin" / "python"
    if not (PEER_VENV / ".ready").exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
        pip = [str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        subprocess.run(pip + [PEER_PACKAGES[0]], check=True)  # the pinned CPU torch first
        subprocess.run(pip + PEER_PACKAGES[1:], check=True)
        (PEER_VENV / ".ready").touch()
    return py


def run(cmd: list[str]) -> dict:
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=3600,
                         env={**os.environ, "OPENBLAS_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"})
    if out.returncode != 0:
        raise SystemExit(f"{cmd[1]} failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def size_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    require(GUIDELINES)
    pdfs = [str(p) for p in sorted(GUIDELINES.glob("*.pdf"))]
    from ragmed.embed.sentence import resolve_embedder

    minilm = str(resolve_embedder("all-MiniLM-L6-v2")[1])
    py_peer = peer_python()
    peer_script = str(ROOT / "benchmarks" / "peer" / "langchain_ingest.py")
    ours_script = str(ROOT / "benchmarks" / "peer" / "ragmed_ingest.py")
    reps: list[dict] = []
    for _ in range(args.reps):
        tmp = Path(tempfile.mkdtemp(prefix="ragmed-peer-"))
        peer = run([str(py_peer), peer_script, minilm, str(tmp / "peer"), *pdfs])
        peer["index_mb"] = size_mb(tmp / "peer")
        ours = run([sys.executable, ours_script, "ingest", str(tmp / "ours"), *pdfs])
        ours["index_mb"] = size_mb(tmp / "ours")
        floor = run([sys.executable, ours_script, "floor", *pdfs])
        reps.append({"langchain": peer, "ragmed": ours, "floor": floor})
        shutil.rmtree(tmp, ignore_errors=True)

    def med(side: str, key: str) -> float:
        return statistics.median(r[side][key] for r in reps)

    lc_s, rm_s, fl_s = med("langchain", "seconds"), med("ragmed", "seconds"), med("floor", "seconds")
    pages = reps[0]["ragmed"]["pages"]
    summary = {
        "langchain": {k: med("langchain", k) for k in ("seconds", "pages", "chunks", "tokens_embedded", "truncated", "peak_rss_mb", "index_mb")},
        "ragmed": {k: med("ragmed", k) for k in ("seconds", "pages", "chunks", "tokens_embedded", "truncated", "peak_rss_mb", "index_mb", "reingest_seconds")},
        "floor_seconds": fl_s, "pages_per_s": {"langchain": pages / lc_s, "ragmed": pages / rm_s},
        "speedup_ragmed_over_langchain": lc_s / rm_s, "ragmed_over_floor": rm_s / fl_s,
    }
    result = {"reps": args.reps, "runs": reps, "summary": summary, "cpus": os.cpu_count(),
              "command": "python -m benchmarks.ingest_peer " + " ".join(sys.argv[1:]), "date": time.strftime("%Y-%m-%d")}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "ingest_peer.json").write_text(json.dumps(result, indent=2) + "\n")
    lc, rm = summary["langchain"], summary["ragmed"]
    md = f"""# Ingestion: ragmed vs the LangChain tutorial pipeline (`make bench-peer`)

`{result['command']}` on {result['date']}, {os.cpu_count()} CPUs; the 8 guideline PDFs of ../shared/eval
({pages} pages); {args.reps} alternating repetition(s), medians; both embed with the bundled MiniLM,
loaded before the clock starts.

| | LangChain (PyPDFLoader, splitter 1000/200, HuggingFaceEmbeddings, Chroma) | ragmed ingest (defaults) |
|---|---:|---:|
| time | {lc['seconds']:.1f} s | {rm['seconds']:.1f} s |
| pages/s | {pages / lc['seconds']:.2f} | {pages / rm['seconds']:.2f} |
| chunks | {lc['chunks']:,.0f} | {rm['chunks']:,.0f} |
| tokens embedded | {lc['tokens_embedded']:,.0f} | {rm['tokens_embedded']:,.0f} |
| chunks cut at MiniLM's 256-token limit | {lc['truncated']:,.0f} | {rm['truncated']:,.0f} |
| peak RSS | {lc['peak_rss_mb']:,.0f} MB | {rm['peak_rss_mb']:,.0f} MB |
| index size | {lc['index_mb']:.0f} MB | {rm['index_mb']:.0f} MB |
| re-ingest unchanged | (re-embeds and duplicates every row) | {rm['reingest_seconds']:.2f} s, nothing embedded |

ragmed / LangChain speed: **{summary['speedup_ragmed_over_langchain']:.2f}x**. Compute floor (embedding
ragmed's chunks only): {fl_s:.1f} s; ragmed end to end = {summary['ragmed_over_floor']:.2f}x the floor.
"""
    (RESULTS / "ingest_peer.md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
