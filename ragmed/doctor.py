"""`ragmed doctor`: what this machine can do, measured, so a clinic knows what to expect.

Reports the CPU (model, cores, features), memory, the llama.cpp build's CPU features, the threads
ragmed uses, and, for the configured chat model, a measured prompt-processing and generation speed
and the time to first token to expect for the current context budget (the prompt's fixed part plus
`passage_tokens`), cold and with the fixed part cached. Also the embedder's speed.
"""

from __future__ import annotations

import dataclasses

import os
import platform
import re
import time
from pathlib import Path
from typing import Any

FILLER = ("The demo clinic records each blood pressure reading with the date, the arm used, the cuff size "
          "and the name of the nurse who took it. ")


def _cpu() -> dict[str, Any]:
    from .generate.llama import physical_cores

    info: dict[str, Any] = {"arch": platform.machine(), "logical_cpus": os.cpu_count()}
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return info
    if m := re.search(r"^model name\s*:\s*(.+)$", text, re.M):
        info["model"] = m.group(1).strip()
    if cores := physical_cores():
        info["physical_cores"] = cores
    if m := re.search(r"^flags\s*:\s*(.+)$", text, re.M):
        flags = set(m.group(1).split())
        info["features"] = sorted(f for f in ("avx", "avx2", "fma", "f16c", "avx512f", "avx512_vnni",
                                              "avx512_bf16", "amx_tile", "amx_int8", "amx_bf16") if f in flags)
    return info


def _memory() -> dict[str, Any]:
    try:
        text = Path("/proc/meminfo").read_text()
    except OSError:
        return {}
    get = lambda k: int(re.search(rf"^{k}:\s*(\d+)", text, re.M).group(1)) // 1024  # noqa: E731
    return {"total_mb": get("MemTotal"), "available_mb": get("MemAvailable")}


def _llama_build() -> dict[str, Any]:
    try:
        import llama_cpp
    except ImportError:
        return {"installed": False}
    system = llama_cpp.llama_print_system_info().decode(errors="replace")
    on = sorted({k.strip() for k, v in re.findall(r"([A-Z0-9_]+)\s*=\s*(\d)", system) if v == "1"})
    return {"installed": True, "version": llama_cpp.__version__, "features": on, "system_info": system.strip()}


def measure_model(rag, prompt_tokens: int = 256, gen_tokens: int = 48) -> dict[str, Any]:
    """Prompt and generation speed of the configured model (greedy, cache reset before each)."""
    gen = rag.generator
    llm = gen.llm
    text = FILLER * (prompt_tokens // 20 + 2)
    ids = llm.tokenize(text.encode(), add_bos=True)[:prompt_tokens]
    prompt = llm.detokenize(ids).decode(errors="ignore")
    n = len(llm.tokenize(prompt.encode(), add_bos=True))
    with gen._lock:
        llm.reset()
        t0 = time.perf_counter()
        llm.create_completion(prompt, max_tokens=1, temperature=0.0)
        pp_s = time.perf_counter() - t0
        llm.reset()
        t0 = time.perf_counter()
        first, count = None, 0
        for part in llm.create_completion("Write a short note about clinic hours:", max_tokens=gen_tokens,
                                          temperature=0.0, stream=True):
            if part["choices"][0].get("text"):
                count += 1
                first = first or time.perf_counter()
        end = time.perf_counter()
        llm.reset()
    gen_rate = (count - 1) / (end - first) if first and count > 1 and end > first else None
    return {"model": gen.model_id, "path": str(gen.model_path), "n_ctx": gen.n_ctx, "threads": gen.runtime.n_threads,
            "runtime": dataclasses.asdict(gen.runtime) | {"threads": gen.runtime.n_threads},
            "prompt_tokens_measured": n, "prompt_tokens_per_s": round(n / pp_s, 1),
            "generation_tokens_per_s": round(gen_rate, 1) if gen_rate else None}


def expected_ttft(rag, prompt_tok_s: float) -> dict[str, Any]:
    """TTFT of a grounded prompt at the current budget: all of it cold, and with the fixed part
    (system prompt and worked example) already cached. With prompt compression on, the passages
    take at most `compress_tokens`."""
    from .prompt import grounded as prompts

    gen = rag.generator
    fixed = prompts.grounded("What is the follow-up interval?", [], gen.prompt_tokens, gen.n_ctx).messages
    fixed_tokens = gen.prompt_tokens(fixed)
    budget = rag.prompt_budget(fixed)
    compress = rag.settings.compress_tokens
    if compress:
        budget = min(budget, fixed_tokens + compress)
    return {"prompt_tokens_at_budget": budget, "fixed_prompt_tokens": fixed_tokens,
            "passage_tokens": rag.settings.passage_tokens, "compress_tokens": compress,
            "ttft_cold_s": round(budget / prompt_tok_s, 1),
            "ttft_prefix_cached_s": round((budget - fixed_tokens) / prompt_tok_s, 1)}


def measure_embedder(rag, n: int = 64) -> dict[str, Any]:
    emb = rag.embedder
    texts = [FILLER * 3] * n
    emb.embed(texts[:4])  # load
    t0 = time.perf_counter()
    emb.embed(texts)
    dt = time.perf_counter() - t0
    tokens = sum(emb.count_tokens(texts))
    return {"embedder": emb.id, "backend": emb.backend, "texts_per_s": round(n / dt, 1),
            "tokens_per_s": round(tokens / dt) if tokens else None}


def busy() -> dict[str, Any] | None:
    """The 1-minute load average when it is above half the CPUs (other work slows every figure), else None."""
    try:
        load = os.getloadavg()[0]
    except OSError:
        return None
    cpus = os.cpu_count() or 1
    return {"load_1min": round(load, 2), "cpus": cpus} if load > cpus / 2 else None


def check_index(rag) -> dict[str, Any]:
    """The collection's health: does it exist (and where it was looked for), its documents whose
    source files are missing, the free disk space of its folder, whether the embedder's ONNX export
    is ready (else the first query exports it)."""
    import shutil

    out: dict[str, Any] = {"collection": rag.settings.collection, "where": rag.index.location}
    m = rag.index.manifest()
    out["exists"] = m is not None
    if m is not None:
        infos = m.infos()
        out["documents"] = len(infos)
        out["missing_files"] = [i.path for i in infos if not Path(i.path).is_file()]
    folder = Path(rag.settings.index_dir)
    while not folder.exists() and folder.parent != folder:
        folder = folder.parent
    out["free_disk_mb"] = shutil.disk_usage(folder).free // (1 << 20)
    if m is not None and str(m.build.get("embedder_backend", "")).startswith("onnx"):
        from .embed.onnx import export_dir
        from .embed.sentence import resolve_embedder

        d = export_dir(resolve_embedder(m.build["embedder"])[1])
        out["embedder_export_ready"] = d.is_dir() and any(d.rglob("*.onnx"))
    return out


def verdict(report: dict[str, Any]) -> str:
    """One sentence a clinic can act on: seconds to the first word of an answer on this machine."""
    ex = report["expected"]
    first = ex["ttft_cold_s"] + report.get("model_load_s", 0.0)
    text = (f"About {ex['ttft_cold_s']:.0f} s to the first word of an answer on this machine with "
            f"{report['model']} once the model is loaded ({report.get('model_load_s', 0):.1f} s to load it; "
            f"`ragmed serve` loads it at start, so only the CLI's first question waits about {first:.0f} s).")
    if report.get("busy"):
        text += " Measured while the machine was busy: expect it faster when idle."
    return text


def diagnose(rag, measure: bool = True, collection: bool = False, on_part=None) -> dict[str, Any]:
    """The report (JSON-ready). `on_part(kind, report)` is called as each part is measured (the CLI
    prints them as they come): "machine", "busy", "index", "model", "embedder", "verdict"."""
    emit = on_part or (lambda kind, report: None)
    out: dict[str, Any] = {"cpu": _cpu(), "memory": _memory(), "llama_cpp": _llama_build(),
                           "ragmed_threads": rag.settings.n_threads, "model": rag.settings.model}
    emit("machine", out)
    if b := busy():
        out["busy"] = b
        emit("busy", out)
    if collection:
        out["index"] = check_index(rag)
        emit("index", out)
    if not measure:
        return out
    t0 = time.perf_counter()
    rag.generator  # noqa: B018 - loads the model
    out["model_load_s"] = round(time.perf_counter() - t0, 2)
    speed = measure_model(rag)
    out["speed"] = speed
    out["expected"] = expected_ttft(rag, speed["prompt_tokens_per_s"])
    emit("model", out)
    out["embedder"] = measure_embedder(rag)
    emit("embedder", out)
    out["verdict"] = verdict(out)
    emit("verdict", out)
    return out
