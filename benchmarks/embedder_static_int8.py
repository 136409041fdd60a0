"""Static int8 quantisation of the ONNX embedder vs the fp32 and dynamic-int8 backends (issue 23, part 4).

    nice -n 10 python -m benchmarks.embedder_static_int8 [--variants keep-ffn-down,keep-first-last]
                                                         [--quality keep-ffn-down] [--chunks 300]

Each variant is written by ragmed/embed/onnx_static.py (ONNX Runtime `quantize_static`, QDQ, int8
weights per channel, uint8 activations, MinMax calibration) from the fused fp32 export that the `onnx`
backend runs, calibrated on BioASQ **dev** text only (320 texts: 256 gold passages of dev questions and
64 dev questions; the test split's passages are held out for the agreement check):

  keep-first-last  every quantisable MatMul except encoder layers 0 and 5 (the usual advice)
  keep-ffn-down    every quantisable MatMul except the six feed-forward down projections (whose GELU
                   inputs have the widest ranges; quantising any single one costs most of the cosine)
The fused Attention (QKV projections, softmax), LayerNorms and GELU stay fp32 in both (not in ONNX
Runtime's QDQ registry).

Measured: cosine to the fp32 vectors on 300 held-out (test-gold) passages; throughput on `--chunks`
real-text chunks of about 200 tokens (fp32 onnx, dynamic onnx-int8 and the variants alternating, 2
repetitions, medians, batch 8); BioASQ dev nDCG@10 dense and hybrid for the `--quality` variants (their
own eval collections), against embedder_backends.json's torch row: the rule is < 0.5 points lost.
Results: benchmarks/results/embedder_static_int8.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

from benchmarks._common import BIOASQ, CACHE, EVAL_INDEXES, RESULTS, cpu_name, require

VARIANTS = {"keep-first-last": {"keep_layers": (0, 5)},
            "keep-ffn-down": {"keep_layers": (), "keep_pattern": r"layer\.\d+/output/dense"}}
MAX_DROP_POINTS = 0.5


def calibration_and_probe(ds):
    """(calibration texts from the dev split, held-out probe passages gold for test questions only)."""
    dev, test = ds.query_ids("dev"), ds.query_ids("test")
    gold = sorted({p for q in dev for p in ds.qrels[q]})
    random.Random(0).shuffle(gold)
    held = sorted({p for q in test for p in ds.qrels[q]} - set(gold))
    text = lambda p: (ds.corpus[p]["title"] + " " + ds.corpus[p]["text"]).strip()  # noqa: E731
    return [text(p) for p in gold[:256]] + [ds.queries[q] for q in dev[:64]], [ds.corpus[p]["text"] for p in held[:300]]


def static_embedder(graph: Path, name: str):
    """An `Embedder` running `graph`, under a backend name and vector family of its own (so its eval
    collection is never mixed with another backend's; registered for this process only)."""
    from ragmed.embed import onnx, sentence
    from ragmed.embed.onnx import _pipeline, _Session

    backend = f"onnx-int8-static-{name}"
    onnx.FAMILY[backend] = f"int8-static-{name}-v1"
    sentence.BATCH_SIZE[backend] = 8

    class Model(_Session):
        def get_sentence_embedding_dimension(self):
            return self.dimension

    class Static(sentence.OnnxEmbedder):
        def _load(self):
            pooling, seq = _pipeline(self.path)
            return Model(graph, self.path, pooling, seq)

    e = Static("all-MiniLM-L6-v2", "onnx")
    e.backend = backend
    return e


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--quality", default="keep-ffn-down", help="variants whose dev nDCG@10 is measured ('' for none)")
    ap.add_argument("--chunks", type=int, default=300)
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--report-only", action="store_true", help="rewrite the .md from the recorded .json")
    ap.add_argument("--quality-from", default=None, metavar="JSON",
                    help="take the nDCG columns from an earlier run's results (re-time speed and agreement only)")
    args = ap.parse_args()
    if args.report_only:
        res = json.loads((RESULTS / "embedder_static_int8.json").read_text())
        (RESULTS / "embedder_static_int8.md").write_text(report(res))
        return
    require(BIOASQ)
    from benchmarks.embedder_backends import real_chunks

    from ragmed.embed.onnx import ensure_export
    from ragmed.embed.onnx_static import quantize_static_int8
    from ragmed.embed.sentence import Embedder
    from ragmed.eval.beir import load_beir
    from ragmed.eval.retrieval import Run, build_collection, evaluate
    from ragmed.retrieve.hybrid import RetrievalConfig

    t_start, load_start = time.perf_counter(), os.getloadavg()
    ds = load_beir(BIOASQ)
    calib, probe = calibration_and_probe(ds)
    base = {b: Embedder("all-MiniLM-L6-v2", b) for b in ("onnx", "onnx-int8")}
    fp32 = ensure_export(base["onnx"].path) / "model.onnx"
    out_dir = CACHE / "onnx-static"
    out_dir.mkdir(parents=True, exist_ok=True)
    embs, rows = dict(base), {}
    for name in [v for v in args.variants.split(",") if v]:
        graph = out_dir / f"minilm-{name}.onnx"
        t = time.perf_counter()
        kept = quantize_static_int8(base["onnx"].path, fp32, graph, calib, **VARIANTS[name])
        rows[name] = {"quantise_s": round(time.perf_counter() - t, 1), "kept_fp32": kept,
                      "file_mb": round(graph.stat().st_size / 1e6, 1)}
        embs[name] = static_embedder(graph, name)
    ref = base["onnx"].embed(probe)
    for name, e in embs.items():
        cos = (e.embed(probe) * ref).sum(1)
        rows.setdefault(name, {}).update(cosine_to_fp32_mean=round(float(cos.mean()), 5),
                                         cosine_to_fp32_min=round(float(cos.min()), 5))
    chunks = real_chunks(ds, base["onnx"], args.chunks)
    n_tokens = sum(base["onnx"].count_tokens(chunks))
    times = {n: [] for n in embs}
    for _ in range(args.reps):
        for name, e in embs.items():
            t = time.perf_counter()
            e.embed(chunks, batch_size=8)
            times[name].append(time.perf_counter() - t)
    for name in embs:
        rows[name]["tokens_per_s"] = round(n_tokens / statistics.median(times[name]))
        rows[name]["seconds"] = [round(t, 2) for t in times[name]]
    print(json.dumps(rows, indent=1), file=sys.stderr, flush=True)
    torch_ref = json.loads((RESULTS / "embedder_backends.json").read_text())["backends"]
    runs = [Run("dense", "dense", RetrievalConfig()), Run("hybrid", "hybrid", RetrievalConfig())]
    for name in [v for v in args.quality.split(",") if v]:
        e = embs[name]
        t = time.perf_counter()
        index = build_collection(ds, EVAL_INDEXES, e)
        ev = evaluate(ds, index, e, split="dev", runs=runs)
        r = rows[name]
        r["index_build_and_eval_s"] = round(time.perf_counter() - t, 1)
        for res in ev.results:
            r[f"ndcg10_{res.run}"] = round(res.ndcg10, 4)
        drops = [100 * (torch_ref["torch"][f"ndcg10_{m}"] - r[f"ndcg10_{m}"]) for m in ("dense", "hybrid")]
        r["ndcg10_drop_points"] = round(max(drops), 2)
        r["passes_rule"] = max(drops) < MAX_DROP_POINTS
        print(name, r, file=sys.stderr, flush=True)
    if args.quality_from:
        old = json.loads(Path(args.quality_from).read_text())
        for name, r in old["rows"].items():
            if name in rows and "passes_rule" in r:
                rows[name].update({k: v for k, v in r.items() if k.startswith(("ndcg10", "passes_rule", "index_build"))})
        rows["_quality_from"] = {"command": old["command"], "load_average_start": old["load_average_start"]}
    for b in ("torch", "onnx", "onnx-int8"):  # the recorded full-run figures, for the table
        rows.setdefault(b, {}).update({f"recorded_{k}": torch_ref[b][k] for k in
                                       ("ndcg10_dense", "ndcg10_hybrid", "ndcg10_drop_points")})
    res = {"command": "nice -n 10 python -m benchmarks.embedder_static_int8 " + " ".join(sys.argv[1:]),
           "cpu": cpu_name(), "cpus": os.cpu_count(), "chunks": len(chunks), "tokens": n_tokens, "reps": args.reps,
           "calibration_texts": len(calib), "probe_texts": len(probe), "load_average_start": load_start,
           "load_average_end": os.getloadavg(), "elapsed_s": round(time.perf_counter() - t_start, 1), "rows": rows}
    (RESULTS / "embedder_static_int8.json").write_text(json.dumps(res, indent=1) + "\n")
    (RESULTS / "embedder_static_int8.md").write_text(report(res))
    print(report(res))


def verdict(rows: dict) -> str:
    """The decision in words, from the rows: a static variant is worth offering only if it keeps the rule
    and embeds faster (by more than 5%, this VM's noise) than fp32 `onnx`, the fastest backend that keeps it."""
    static = {n: r for n, r in rows.items() if "kept_fp32" in r and "tokens_per_s" in r}
    measured = {n: r for n, r in static.items() if "passes_rule" in r}
    good = [n for n, r in measured.items() if r["passes_rule"] and r["tokens_per_s"] > 1.05 * rows["onnx"]["tokens_per_s"]]
    if good:
        return f"Verdict: {', '.join(good)} keeps the rule and embeds faster than fp32 onnx."
    parts = []
    for n, r in static.items():
        q = (f"dev nDCG@10 drop {r['ndcg10_drop_points']} points ({'within' if r['passes_rule'] else 'outside'} the "
             "0.5-point rule)") if n in measured else "not indexed"
        parts.append(f"{n}: cosine {r['cosine_to_fp32_mean']}, {r['tokens_per_s']:,} tokens/s, {q}")
    return ("Verdict: **a measured negative**; no static variant is offered as a backend. " + "; ".join(parts) +
            f". The dynamic int8 backend: cosine {rows['onnx-int8']['cosine_to_fp32_mean']}, "
            f"{rows['onnx-int8']['tokens_per_s']:,} tokens/s in the same alternating run.")


def report(res: dict) -> str:
    la = lambda v: ", ".join(f"{x:.2f}" for x in v)  # noqa: E731
    lines = ["# Static int8 quantisation of the ONNX embedder (all-MiniLM-L6-v2)", "", f"`{res['command']}`", "",
             f"{res['cpu']}, {res['cpus']} vCPUs; load average at the start {la(res['load_average_start'])}, at the end "
             f"{la(res['load_average_end'])} (shared machine, niced: throughput is relative, the backends alternate). "
             f"Calibration: {res['calibration_texts']} BioASQ dev texts; agreement on {res['probe_texts']} held-out "
             f"passages; throughput on {res['chunks']} chunks ({res['tokens']:,} tokens), batch 8, median of "
             f"{res['reps']}. Run time {res['elapsed_s']:.0f} s.", "",
             "| backend | MatMuls kept fp32 | cosine to fp32 (mean / min) | tokens/s | dev nDCG@10 dense | dev nDCG@10 hybrid | "
             "drop vs torch (points) | < 0.5 points |", "|---|---|---|---:|---:|---:|---:|---|"]
    for name, r in res["rows"].items():
        if "tokens_per_s" not in r or name.startswith("_"):
            continue
        dense = r.get("ndcg10_dense", r.get("recorded_ndcg10_dense", "-"))
        hybrid = r.get("ndcg10_hybrid", r.get("recorded_ndcg10_hybrid", "-"))
        drop = r.get("ndcg10_drop_points", r.get("recorded_ndcg10_drop_points", "-"))
        ok = "-" if drop == "-" else ("yes" if drop < MAX_DROP_POINTS else "no")
        kept = "all (fp32)" if name == "onnx" else "none (dynamic)" if name == "onnx-int8" else f"{len(r['kept_fp32'])}"
        label = name if name in ("onnx", "onnx-int8") else f"static {name}"
        lines.append(f"| {label} | {kept} | {r['cosine_to_fp32_mean']} / {r['cosine_to_fp32_min']} | {r['tokens_per_s']:,} | "
                     f"{dense} | {hybrid} | {drop} | {ok} |")
    lines += ["", "nDCG@10 of onnx and onnx-int8: benchmarks/results/embedder_backends.md (its full run; torch dense "
              f"{res['rows']['torch']['recorded_ndcg10_dense']}, hybrid {res['rows']['torch']['recorded_ndcg10_hybrid']}); "
              "a '-' variant was not indexed (see the verdict)."]
    if "_quality_from" in res["rows"]:
        lines += ["", f"nDCG@10 of the static variants from an earlier run (`{res['rows']['_quality_from']['command']}`, "
                  "same calibration and graph); this run re-timed throughput and agreement."]
    lines += ["", verdict(res["rows"])]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
