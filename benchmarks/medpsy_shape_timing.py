"""Time a grounded prompt on a random-weight model of MedPsy-1.7B's exact shape (MedPsy itself cannot
be downloaded here; its speed depends on its shape and quantisation, not on its weights).

    python -m benchmarks.medpsy_shape_timing [--budgets 500,1000,2000,4000] [--threads N] [--small]

1. Writes an f16 GGUF with the Qwen3 architecture and Qwen3-1.7B's dimensions (below, from the
   Qwen3-1.7B config.json, recorded here because no hub is reachable), random weights, and the
   bundled SmolLM2 tokenizer padded to Qwen3's vocabulary size (the output layer keeps its real
   cost); quantises it to Q4_K_M with llama.cpp's quantiser (llama-cpp-python); cached in
   ~/.cache/ragmed/medpsy-shape/.
2. For each passage budget, builds ragmed's real grounded prompt (system prompt, worked example,
   numbered passages from the bundled demo protocol repeated to fill the budget, a question) and
   measures time to first token cold (state reset) and with the prefix cache (the same fixed prefix
   evaluated by an earlier question), then generation tokens/s.
Results: benchmarks/results/medpsy_shape_timing.{json,md}. `--small` runs a 2-layer toy of the
same architecture, to check the script quickly.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

from benchmarks._common import CACHE, RESULTS, ROOT

import numpy as np

QWEN3_1_7B = {  # Qwen/Qwen3-1.7B config.json
    "hidden_size": 2048, "intermediate_size": 6144, "num_hidden_layers": 28, "num_attention_heads": 16,
    "num_key_value_heads": 8, "head_dim": 128, "vocab_size": 151936, "max_position_embeddings": 40960,
    "rope_theta": 1000000.0, "rms_norm_eps": 1e-6, "tie_word_embeddings": True,
}
SMALL = {**QWEN3_1_7B, "num_hidden_layers": 2, "hidden_size": 256, "intermediate_size": 512,
         "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 64}


def write_f16(path, cfg) -> None:
    import gguf

    from ragmed.generate.models import resolve_model

    tok = gguf.GGUFReader(str(resolve_model("smollm2-135m")[1]))

    def field(name):
        f = tok.fields[name]
        return [f.parts[i] for i in f.data]

    tokens = [bytes(p).decode("utf-8", "replace") for p in field("tokenizer.ggml.tokens")]
    types = [int(p[0]) for p in field("tokenizer.ggml.token_type")]
    merges = [bytes(p).decode("utf-8", "replace") for p in field("tokenizer.ggml.merges")]
    extra = cfg["vocab_size"] - len(tokens)
    tokens += [f"<|pad_{i}|>" for i in range(extra)]
    types += [gguf.TokenType.USER_DEFINED] * extra

    w = gguf.GGUFWriter(str(path), "qwen3")
    h, ff, L = cfg["hidden_size"], cfg["intermediate_size"], cfg["num_hidden_layers"]
    nh, nkv, hd = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"]
    w.add_name("medpsy-1.7b-shape-random")
    w.add_block_count(L)
    w.add_context_length(cfg["max_position_embeddings"])
    w.add_embedding_length(h)
    w.add_feed_forward_length(ff)
    w.add_head_count(nh)
    w.add_head_count_kv(nkv)
    w.add_key_length(hd)
    w.add_value_length(hd)
    w.add_rope_freq_base(cfg["rope_theta"])
    w.add_layer_norm_rms_eps(cfg["rms_norm_eps"])
    w.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("smollm")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(merges)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    rng = np.random.default_rng(0)

    def rand(*shape):
        return (rng.standard_normal(shape, dtype=np.float32) * 0.02).astype(np.float16)

    def ones(n):
        return np.ones(n, dtype=np.float32)

    w.add_tensor("token_embd.weight", rand(cfg["vocab_size"], h))
    w.add_tensor("output_norm.weight", ones(h))
    for i in range(L):
        p = f"blk.{i}."
        w.add_tensor(p + "attn_norm.weight", ones(h))
        w.add_tensor(p + "attn_q.weight", rand(nh * hd, h))
        w.add_tensor(p + "attn_k.weight", rand(nkv * hd, h))
        w.add_tensor(p + "attn_v.weight", rand(nkv * hd, h))
        w.add_tensor(p + "attn_output.weight", rand(h, nh * hd))
        w.add_tensor(p + "attn_q_norm.weight", ones(hd))
        w.add_tensor(p + "attn_k_norm.weight", ones(hd))
        w.add_tensor(p + "ffn_norm.weight", ones(h))
        w.add_tensor(p + "ffn_gate.weight", rand(ff, h))
        w.add_tensor(p + "ffn_up.weight", rand(ff, h))
        w.add_tensor(p + "ffn_down.weight", rand(h, ff))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def quantize(src, dst, threads: int) -> None:
    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_K_M
    params.nthread = threads
    rc = llama_cpp.llama_model_quantize(str(src).encode(), str(dst).encode(), params)
    if rc != 0:
        sys.exit(f"quantisation failed ({rc})")


def passages_for(budget: int, count) -> list:
    """ragmed Passages from the demo protocol's text, repeated until they fill `budget` tokens."""
    from ragmed.ingest.extract import extract
    from ragmed.types import Passage

    doc = extract(ROOT / "corpora" / "sample" / "demo-clinic-hypertension-protocol.pdf")
    paras = [p.strip() for p in doc.text.split("\n\n") if len(p.strip()) > 80]
    out, used, i = [], 0, 0
    while used < budget:
        text = paras[i % len(paras)]
        n = count(text)
        if used + n > budget and out:
            break
        out.append(Passage(id=f"p{i}", text=text, source="demo.pdf", file_sha256="0", page_start=1, page_end=1,
                           page_labels=("1",), section=(), start=0, end=len(text), score=1.0, rank=i + 1))
        used += n
        i += 1
    return out


def shape_model(small: bool = False, threads: int = 0) -> "os.PathLike":
    """The random-weight Q4_K_M GGUF of MedPsy-1.7B's shape (built once, cached)."""
    cfg = SMALL if small else QWEN3_1_7B
    d = CACHE / "medpsy-shape"
    d.mkdir(parents=True, exist_ok=True)
    tag = "small" if small else "1.7b"
    f16, q4 = d / f"qwen3-{tag}-random-f16.gguf", d / f"qwen3-{tag}-random-q4_k_m.gguf"
    t = time.perf_counter()
    if not q4.exists():
        write_f16(f16, cfg)
        quantize(f16, q4, threads or os.cpu_count() or 1)
        f16.unlink()
        print(f"built {q4.name} ({q4.stat().st_size / 1e9:.2f} GB) in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    return q4


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--budgets", default="500,1000,2000,4000")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--gen-tokens", type=int, default=32)
    ap.add_argument("--small", action="store_true")
    args = ap.parse_args()
    q4 = shape_model(args.small, args.threads)

    from ragmed.generate.llama import LlamaGenerator, RuntimeOptions, SamplingParams
    from ragmed.prompt import grounded as prompts

    gen = LlamaGenerator(q4, "medpsy-1.7b-shape", n_ctx=8192, runtime=RuntimeOptions(threads=args.threads))
    rows = []
    for budget in [int(b) for b in args.budgets.split(",")]:
        ps = passages_for(budget, gen.count_tokens)
        other = list(reversed(ps))  # an earlier question with other passages: only the prefix is shared
        q = "How often are stable patients seen for follow-up?"
        p1 = prompts.grounded(q, ps, gen.prompt_tokens, budget + 2000)
        p0 = prompts.grounded("What is the target blood pressure?", other, gen.prompt_tokens, budget + 2000)
        one = SamplingParams(max_tokens=1)
        res = {"budget": budget, "passages": len(p1.passages)}
        gen.prefix_cache = False
        cold = gen.generate(p1.messages, one)
        res.update(prompt_tokens=cold.prompt_tokens, ttft_cold_s=round(cold.first_token_s or cold.total_s, 2))
        gen.prefix_cache = True
        gen.generate(p0.messages, one)  # leaves the fixed prefix (and more) in the KV state
        warm = gen.generate(p1.messages, one)
        res["ttft_prefix_cached_s"] = round(warm.first_token_s or warm.total_s, 2)
        res["prompt_tok_per_s_cold"] = round(cold.prompt_tokens / (cold.first_token_s or cold.total_s), 1)
        # Generation speed: the same prompt again is fully cached, so after the first token the
        # stream is generation only.
        g = gen.generate(p1.messages, SamplingParams(max_tokens=args.gen_tokens))
        gen_s = g.total_s - (g.first_token_s or 0)
        res["gen_tokens"] = g.completion_tokens
        res["gen_tok_per_s"] = round((g.completion_tokens - 1) / gen_s, 1) if g.completion_tokens > 1 and gen_s > 0 else None
        rows.append(res)
        print(res, file=sys.stderr)
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = "medpsy_shape_timing" + ("_small" if args.small else "")
    cmd = " ".join(["python", "-m", "benchmarks.medpsy_shape_timing", *sys.argv[1:]])
    meta = {"shape": SMALL if args.small else QWEN3_1_7B, "model_file": q4.name, "model_bytes": q4.stat().st_size, "threads": args.threads,
            "machine": {"cpus": os.cpu_count(), "platform": platform.platform()}, "command": cmd, "rows": rows}
    (RESULTS / f"{name}.json").write_text(json.dumps(meta, indent=1) + "\n")
    lines = ["| passage budget | prompt tokens | TTFT cold s | TTFT prefix-cached s | prompt tok/s | gen tok/s |",
             "|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {r['budget']} | {r['prompt_tokens']} | {r['ttft_cold_s']} | {r['ttft_prefix_cached_s']} | "
              f"{r['prompt_tok_per_s_cold']} | {r['gen_tok_per_s']} |" for r in rows]
    md = (f"# Grounded-prompt timing, MedPsy-1.7B shape ({'2-layer toy' if args.small else 'Qwen3-1.7B dimensions'}, "
          f"random weights, Q4_K_M, {q4.stat().st_size / 1e9:.2f} GB)\n\n{args.threads} threads, "
          f"llama-cpp-python as built by `make setup`.\n\n" + "\n".join(lines) + f"\n\nRerun: `{cmd}`\n")
    (RESULTS / f"{name}.md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
