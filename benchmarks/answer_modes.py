"""The complete grounded answer per thinking mode, on the MedPsy-1.7B shape: an upper-bound timing.

    nice -n 10 python -m benchmarks.answer_modes [--modes "off,budget 256,budget 512,budget 1024,on"]
                                                 [--answer-tokens 150] [--small]      (make bench-answer)

One grounded question on the bundled sample (`corpora/sample`), through `RagMed.ask` with the default
settings (hybrid retrieval, k 3, 1,000 passage tokens compressed to 200, the abstention gate, claim
checks), the generator being the random-weight Q4_K_M model of Qwen3-1.7B's shape that
benchmarks/medpsy_shape_timing.py builds (MedPsy-1.7B itself cannot be downloaded here). Per mode:
time to first token, reasoning tokens and seconds, time to the first answer token, answer tokens and
seconds, and the whole `ask` (retrieval and checks included).

Random weights never open or close a trace by themselves, so the benchmark forces the shape of a
reasoning answer: in the modes that think it prefills `<think>` (Qwen3 writes it as its first token),
the trace then runs to the mode's budget and ragmed closes it (generate/llama.py); the answer is cut
at `--answer-tokens` (150: a few sentences). "off" prefills the empty trace as ragmed does. A real
MedPsy trace often closes before its budget, so these are UPPER BOUNDS of a real answer's time at
the same prompt; no answer quality can be measured on random weights.

The prefix cache is warmed as on a running server (an earlier question's prompt leaves the system
prompt and worked example in the KV cache); the model is loaded before timing. Each mode runs once
(the 10-minute bound on this shared 2-vCPU machine); the load average is recorded.
Results: benchmarks/results/answer_modes.{json,md}.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from benchmarks._common import RESULTS, ROOT, cpu_name

QUESTION = "How often should stable patients be reviewed?"
WARM = "What is the first-line treatment?"  # an earlier question: fills the prefix cache
GOAL_S = 30.0  # issue 23: complete grounded answer at the default settings <= 30 s


def force_trace(gen, on: bool) -> None:
    """Make the random-weight model's output a trace: prefill `<think>` when `on` (see the docstring)."""
    from ragmed.generate.thinking import OPEN

    orig = type(gen).render.__get__(gen)
    gen.render = (lambda m: dataclasses.replace(orig(m), prompt=orig(m).prompt + OPEN + "\n")) if on else orig


def time_mode(rag, mode: str) -> dict:
    """One `ask` in `mode`, with the reasoning/answer boundary timed from the raw stream."""
    from ragmed.generate.base import SamplingParams
    from ragmed.generate.thinking import CLOSE

    gen = rag.generator
    force_trace(gen, rag.pipeline.thinking().mode != "off")
    r = rag.pipeline.retrieve(WARM)
    gen.generate(rag.pipeline.prompt(WARM, r.passages)[0].messages, SamplingParams(max_tokens=1))
    marks: dict[str, float] = {}
    seen, pieces = [""], {"reasoning": 0, "answer": 0}
    t0, c0 = time.perf_counter(), time.process_time()

    def on_text(piece: str) -> None:
        now = time.perf_counter() - t0
        marks.setdefault("first", now)
        closed = "end_reasoning" in marks
        seen[0] += piece
        if not closed and (rag.pipeline.thinking().mode == "off" or CLOSE in seen[0]):
            marks["end_reasoning"] = now
            after = seen[0].split(CLOSE, 1)[-1].strip()
            if after:
                marks.setdefault("first_answer", now)
                pieces["answer"] += 1
            return
        if closed:
            if piece.strip() and "first_answer" not in marks:
                marks["first_answer"] = now
            if "first_answer" in marks:
                pieces["answer"] += 1
        else:
            pieces["reasoning"] += 1

    a = rag.ask(QUESTION, on_text=on_text)
    total, cpu = time.perf_counter() - t0, time.process_time() - c0
    ttft = marks.get("first", total)
    end_r = marks.get("end_reasoning", ttft)
    first_answer = marks.get("first_answer", total)
    reasoning_s = max(0.0, end_r - ttft)
    answer_s = total - first_answer
    n_ans = pieces["answer"]
    return {
        "mode": mode, "prompt_tokens": a.usage.prompt_tokens, "passages": len(a.passages),
        "retrieve_s": round(a.timings.retrieve_s, 2), "compress_s": round(a.timings.compress_s, 2),
        "ttft_s": round(ttft, 2), "reasoning_tokens": a.usage.reasoning_tokens, "reasoning_s": round(reasoning_s, 2),
        "reasoning_tok_s": round(a.usage.reasoning_tokens / reasoning_s, 1) if reasoning_s > 0 else None,
        "first_answer_token_s": round(first_answer, 2), "answer_tokens": n_ans, "answer_s": round(answer_s, 2),
        "answer_tok_s": round(max(0, n_ans - 1) / answer_s, 1) if answer_s > 0 else None,
        "total_s": round(total, 2), "cpu_s": round(cpu, 1), "reasoning_truncated": a.reasoning_truncated,
        "meets_goal": total <= GOAL_S,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--modes", default="off,budget 256,on",
                    help="comma-separated thinking modes (ragmed's --thinking values); on = budget 1024 at the "
                         "default reasoning_tokens (one code path: ThinkingMode.reasoning_tokens)")
    ap.add_argument("--answer-tokens", type=int, default=150)
    ap.add_argument("--small", action="store_true", help="the 2-layer toy of the same architecture (a quick check)")
    ap.add_argument("--time-limit", type=float, default=540.0,
                    help="seconds: a mode is not started when, at the generation speed measured so far, it would "
                         "end after this (recorded as not run)")
    args = ap.parse_args()
    from benchmarks.medpsy_shape_timing import shape_model

    from ragmed import RagMed
    from ragmed.config import Settings

    model = shape_model(args.small)
    defaults = Settings()
    t_start, load_start = time.perf_counter(), os.getloadavg()
    index_dir = Path(tempfile.mkdtemp(prefix="ragmed-answer-modes-"))
    rows = []
    try:
        RagMed(collection="demo", index_dir=index_dir).ingest([ROOT / "corpora" / "sample"])
        for mode in [m.strip() for m in args.modes.split(",") if m.strip()]:
            rag = RagMed(collection="demo", index_dir=index_dir, model=str(model), thinking=mode,
                         max_tokens=args.answer_tokens)
            tokens = rag.pipeline.thinking().reasoning_tokens(defaults.reasoning_tokens) + args.answer_tokens
            done = [r for r in rows if "total_s" in r]
            if done:  # seconds per generated token so far (TTFT included: an over-estimate)
                per_token = max(r["total_s"] / (r["reasoning_tokens"] + r["answer_tokens"]) for r in done)
                left = args.time_limit - (time.perf_counter() - t_start)
                if tokens * per_token > left:
                    rows.append({"mode": mode, "not_run": f"would take about {tokens * per_token:.0f} s at the speed "
                                                          f"measured so far; {max(0, left):.0f} s of the time limit left"})
                    continue
            rag.generator.llm  # loaded before timing (once per process: the model cache)
            rows.append(time_mode(rag, mode))
            print(rows[-1], file=sys.stderr, flush=True)
            save(args, model, defaults, t_start, load_start, rows)
    finally:
        shutil.rmtree(index_dir, ignore_errors=True)
    print(save(args, model, defaults, t_start, load_start, rows))


def save(args, model, defaults, t_start, load_start, rows) -> str:
    """Write the results so far (each mode is saved as it finishes); returns the Markdown."""
    res = {"command": "nice -n 10 python -m benchmarks.answer_modes " + " ".join(sys.argv[1:]),
           "model_file": model.name, "model_bytes": model.stat().st_size, "cpu": cpu_name(), "cpus": os.cpu_count(),
           "threads": defaults.n_threads, "question": QUESTION, "answer_tokens_cap": args.answer_tokens,
           "defaults": {"thinking": defaults.thinking, "reasoning_tokens": defaults.reasoning_tokens,
                        "passage_tokens": defaults.passage_tokens, "compress_tokens": defaults.compress_tokens,
                        "k": defaults.k},
           "goal_s": GOAL_S, "load_average_start": load_start, "load_average_end": os.getloadavg(),
           "elapsed_s": round(time.perf_counter() - t_start, 1), "rows": rows}
    name = "answer_modes" + ("_small" if args.small else "")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(res, indent=1) + "\n")
    md = report(res)
    (RESULTS / f"{name}.md").write_text(md)
    return md


ESTIMATE_BUDGETS = (0, 64, 128, 256, 512, 1024)


def recorded_speeds() -> dict | None:
    """The MedPsy shape's TTFT and generation speed at the default settings from benchmarks/results/ttft.json
    (a quieter run on this machine): "+ compression" (default runtime, cold prompt) and "all" (prefix cache
    warm; that row also used its best runtime setting). None when the file is absent."""
    try:
        from benchmarks.ttft import GEN_TOKENS

        cond = json.loads((RESULTS / "ttft.json").read_text())["models"]["MedPsy-1.7B-shape Q4_K_M"]["conditions"]
    except (OSError, KeyError, ValueError):
        return None
    c, a = cond["+ compression"], cond["all"]
    return {"ttft_cold_s": c["ttft_s"], "ttft_cached_s": a["ttft_s"], "prompt_tokens": c["prompt_tokens"],
            "gen_tok_s": round((GEN_TOKENS - 1) / (c["total_s"] - c["ttft_s"]), 2)}


def estimate_lines(answer_tokens: int) -> list[str]:
    """Mode totals computed (not run) from the recorded speeds: TTFT + (reasoning + answer tokens) / speed."""
    sp = recorded_speeds()
    if sp is None:
        return []
    rate, lines = sp["gen_tok_s"], []
    lines += ["", "## Computed at the recorded speeds of a quieter run (not run here)", "",
              f"benchmarks/results/ttft.json, MedPsy shape at the default settings, {sp['prompt_tokens']:.0f}-token "
              f"compressed prompts: TTFT {sp['ttft_cached_s']} s with the prefix cache warm, {sp['ttft_cold_s']} s cold; "
              f"generation {rate} tok/s. Total = TTFT + (reasoning budget + {answer_tokens} answer tokens) / "
              f"{rate} tok/s; generation slows a little as the context grows (benchmarks/results/"
              "medpsy_shape_timing.md), so long traces are a little slower than this.", "",
              "| thinking | tokens generated | total s, prefix cache warm | total s, cold | <= 30 s (warm) |",
              "|---|---:|---:|---:|---|"]
    for b in ESTIMATE_BUDGETS:
        n = b + answer_tokens
        warm, cold = sp["ttft_cached_s"] + n / rate, sp["ttft_cold_s"] + n / rate
        name = "off" if b == 0 else f"budget {b}" + (" (= on, the default)" if b == 1024 else "")
        lines.append(f"| {name} | {n} | {warm:.1f} | {cold:.1f} | {'yes' if warm <= GOAL_S else 'no'} |")
    most = int((GOAL_S - sp["ttft_cached_s"]) * rate - answer_tokens)
    lines += ["", f"Largest reasoning budget within {GOAL_S:.0f} s (warm prefix cache, {answer_tokens}-token answer): "
              f"about {max(0, most)} tokens.", "",
              f"Proposal (not applied): the default (`on`, 1,024 tokens) cannot meet {GOAL_S:.0f} s here; `off` (or a "
              f"budget of at most about {max(0, most)} tokens) is what fits. Make `off` the default for Qwen3 hybrids "
              "(MedPsy-1.7B) only once `ragmed compare --thinking on --thinking off` on real MedPsy weights shows "
              "what the trace adds: that quality cost cannot be measured on random weights, so the default is "
              "unchanged. MedPsy-4B (Thinking-2507) reasons always; its lever is `budget N`."]
    return lines


def report(res: dict) -> str:
    la = lambda v: ", ".join(f"{x:.2f}" for x in v)  # noqa: E731
    d = res["defaults"]
    lines = [f"# Complete grounded answer per thinking mode, MedPsy-1.7B shape (upper bound)", "",
             f"`{res['command']}`", "",
             f"Model: {res['model_file']} ({res['model_bytes'] / 1e9:.2f} GB; Qwen3-1.7B's dimensions, **random weights**). "
             f"{res['cpu']}, {res['cpus']} vCPUs, {res['threads']} llama.cpp threads. One question (\"{res['question']}\") on "
             f"the bundled sample through `RagMed.ask` at the default settings (k {d['k']}, {d['passage_tokens']} passage "
             f"tokens compressed to {d['compress_tokens']}); prefix cache warm (as on a running server). Load average "
             f"(1, 5, 15 min) at the start: {la(res['load_average_start'])}; at the end: {la(res['load_average_end'])} "
             f"(shared machine, niced run: slower than idle). Run time {res['elapsed_s']:.0f} s.", "",
             "**Upper bound**: random weights never open or close a trace, so the thinking modes are forced to "
             f"spend their whole budget (`<think>` prefilled, ragmed closes the trace at the budget) and the "
             f"answer is cut at {res['answer_tokens_cap']} tokens. A real MedPsy trace that closes early is faster; "
             "answer quality cannot be measured on random weights (`ragmed compare --thinking ...` measures it on "
             "a user's own questions with the real model).", "",
             "| thinking mode | prompt tokens | TTFT s | reasoning tokens | reasoning s | first answer token s | "
             "answer tokens | answer s | total s | CPU s | gen tok/s | <= 30 s |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in res["rows"]:
        if "not_run" in r:
            lines.append(f"| {r['mode']} | not run: {r['not_run']} |" + " |" * 10)
            continue
        rate = r["reasoning_tok_s"] or r["answer_tok_s"]
        label = r["mode"] + (f" (default: budget {d['reasoning_tokens']})" if r["mode"] == d["thinking"] else "")
        lines.append(f"| {label} | {r['prompt_tokens']} | {r['ttft_s']} | {r['reasoning_tokens']} | {r['reasoning_s']} | "
                     f"{r['first_answer_token_s']} | {r['answer_tokens']} | {r['answer_s']} | **{r['total_s']}** | "
                     f"{r['cpu_s']} | {rate} | {'yes' if r['meets_goal'] else 'no'} |")
    lines += ["", f"Default: thinking `{d['thinking']}` with reasoning_tokens {d['reasoning_tokens']} (= `budget "
              f"{d['reasoning_tokens']}`). Total = the whole `ask`: retrieval, compression, first token, reasoning, "
              "answer and the claim checks."]
    lines += estimate_lines(res["answer_tokens_cap"])
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
