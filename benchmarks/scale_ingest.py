"""Corpus-scale ingestion: measured throughput and index costs, and the PubMed extrapolation.

    nice -n 10 python -m benchmarks.scale_ingest [--passages 600] [--shard 100] [--vectors 10000]

On this machine, with real BioASQ snippets (the first `--passages` of the corpus):
  in-process   today's `ragmed datasets build` path (eval/retrieval.py build_collection: one
               process, embedded Chroma, ONNX on all CPUs)
  ray-1, ray-2 `datasets build --ray`: a local Ray cluster (head + worker node, 1 CPU each), 1 and
               2 embedding actors (1 ONNX thread each), writing to a real `chroma run`
  remote       1 actor embedding through llama-cpp-python's OpenAI-compatible server (1 thread)
               serving the bundled MiniLM as GGUF (tests/support/scaleutil.py: why not Infinity)
  per vector   `--vectors` random unit 384-d vectors (no text) into a fresh Chroma server
               collection with ragmed's HNSW settings: disk and server RSS per vector; query
               latency (HNSW, k=100) there; disk per passage with text and metadata from ray-2
Then the PubMed table (23,898,701 snippets, 296 tokens on average: the MedRAG/pubmed card; MiniLM
reads at most 254 of them) from the measured per-actor tokens/s, and a GPU estimate from the
sentence-transformers model table (all-MiniLM-L6-v2: 14,200 sentences/s on one V100).
Writes benchmarks/results/scale_ingest.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchmarks._common import BIOASQ, RESULTS, ROOT, cpu_name, require

os.environ.update({"RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"})

PUBMED_SNIPPETS = 23_898_701  # MedRAG/pubmed dataset card
PUBMED_TOKENS = 296  # average tokens per snippet, same card
MINILM_READS = 254  # max_seq_length 256 minus [CLS] and [SEP]
V100_SENTENCES_S = 14_200  # sbert.net pretrained models table, all-MiniLM-L6-v2, "Speed" (V100)
V100_SENTENCE_TOKENS = 20  # assumed tokens of the table's sentences (not stated there): an estimate
PARTIAL = RESULTS / "scale_ingest.partial.json"  # each stage's result as soon as it is measured
HNSW_BYTES = 384 * 4 + 48 * 2 * 4  # hnswlib: the vector + layer-0 links (2*M ids of 4 bytes), per vector


def _subset(n: int, out: Path) -> list[dict]:
    rows = []
    with (BIOASQ / "corpus.jsonl").open(encoding="utf-8") as f, out.open("w", encoding="utf-8") as g:
        for _, line in zip(range(n), f):
            g.write(line)
            rows.append(json.loads(line))
    return rows


def _ray_build(name, corpus, chroma, cluster, tmp, actors, shard, spec, batch=None) -> dict:
    from ragmed.ingest.distributed import build_distributed

    shards = []
    b = build_distributed(name, corpus, chroma.url, tmp / name, ray_address=cluster.address, embed_actors=actors,
                          embedder=spec, shard_passages=shard, batch_size=batch, on_shard=shards.append)
    embed_s = sum(s.embed_s for s in shards)
    write_s = sum(s.write_s for s in shards)
    return {"passages": b.passages_done, "seconds": round(b.ingest_seconds, 2), "passages_per_s": round(b.passages_per_s, 1),
            "actor_embed_s": round(embed_s, 2), "actor_write_s": round(write_s, 2),
            "per_actor_embed_passages_per_s": round(b.passages_done / embed_s, 1) if embed_s else 0,
            "bm25_build_s": round(b.lexical_seconds, 2), "chroma_records": b.chroma_records}


def _vectors(n: int, tmp: Path) -> dict:
    import numpy as np

    from ragmed.store.chroma import HNSW
    from tests.support.scaleutil import ChromaProcess

    srv = ChromaProcess(tmp / "vectors-db")
    try:
        import chromadb

        client = chromadb.HttpClient(host="127.0.0.1", port=int(srv.url.rsplit(":", 1)[1]))
        col = client.create_collection("vectors", configuration={"hnsw": dict(HNSW)}, embedding_function=None)
        col.add(ids=["warm"], embeddings=[[1.0] + [0.0] * 383])
        time.sleep(2)
        disk0, rss0 = srv.disk_mb(), srv.rss_mb()
        rng = np.random.default_rng(0)
        t = time.perf_counter()
        for i in range(0, n, 1000):
            v = rng.standard_normal((min(1000, n - i), 384)).astype(np.float32)
            v /= np.linalg.norm(v, axis=1, keepdims=True)
            col.add(ids=[f"v{i + j}" for j in range(len(v))], embeddings=v)
        add_s = time.perf_counter() - t
        q = rng.standard_normal((60, 384)).astype(np.float32)
        col.query(query_embeddings=q[:1], n_results=100)  # index loaded and flushed
        time.sleep(5)
        lat = []
        for row in q[1:]:
            t0 = time.perf_counter()
            col.query(query_embeddings=[row.tolist()], n_results=100, include=["distances"])
            lat.append((time.perf_counter() - t0) * 1000)
        disk1, rss1 = srv.disk_mb(), srv.rss_mb()
    finally:
        srv.stop()
    lat.sort()
    return {"vectors": n, "add_s": round(add_s, 1), "vectors_per_s": round(n / add_s, 1),
            "disk_bytes_per_vector": round((disk1 - disk0) * 1e6 / n), "rss_bytes_per_vector": round((rss1 - rss0) * 1e6 / n),
            "query_ms_p50": round(statistics.median(lat), 2), "query_ms_p95": round(lat[int(0.95 * len(lat))], 2)}


def _bm25(tmp: Path) -> dict:
    """ragmed's BM25 (bm25s, store/lexical.py's parameters and tokenizer) over the whole BioASQ corpus:
    build time, non-zero (passage, term) entries and bytes on disk per passage."""
    import shutil

    from ragmed.store.lexical import BM25_PARAMS, _bm25s
    from ragmed.tokenize import tokenize

    texts = [(r.get("title") + "\n" if r.get("title") else "") + r["text"]
             for r in map(json.loads, (BIOASQ / "corpus.jsonl").open(encoding="utf-8"))]
    t = time.perf_counter()
    terms = [tokenize(x) for x in texts]
    tok_s = time.perf_counter() - t
    t = time.perf_counter()
    bm = _bm25s().BM25(**BM25_PARAMS)
    bm.index([x or ["\x00"] for x in terms], show_progress=False)
    build_s = time.perf_counter() - t
    out = tmp / "bm25"
    bm.save(str(out), show_progress=False)
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    shutil.rmtree(out)
    n = len(texts)
    return {"passages": n, "tokenize_s": round(tok_s, 2), "build_s": round(build_s, 2),
            "nnz_per_passage": round(int(bm.scores["data"].size) / n, 1), "disk_bytes_per_passage": round(size / n),
            "mean_terms_per_passage": round(statistics.mean(len(x) for x in terms), 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--passages", type=int, default=600)
    ap.add_argument("--shard", type=int, default=100)
    ap.add_argument("--vectors", type=int, default=10_000)
    ap.add_argument("--report-only", action="store_true", help="rewrite the .md from the recorded .json")
    ap.add_argument("--resume", action="store_true",
                    help=f"reuse the stages already measured in {PARTIAL.name} by the same command (a run stopped midway)")
    args = ap.parse_args()
    if args.report_only:
        data = json.loads((RESULTS / "scale_ingest.json").read_text(encoding="utf-8"))
        data["plan"] = plan(data)
        (RESULTS / "scale_ingest.md").write_text(report(data), encoding="utf-8")
        return
    require(BIOASQ)
    from ragmed.embed.sentence import Embedder
    from ragmed.eval.beir import load_corpus
    from ragmed.eval.retrieval import build_collection
    from tests.support.scaleutil import ChromaProcess, EmbeddingServer, RayCluster, minilm_gguf

    load0 = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="scale-bench-") as d:
        tmp = Path(d)
        corpus = tmp / "bioasq-head.jsonl"
        rows = _subset(args.passages, corpus)
        emb = Embedder("all-MiniLM-L6-v2", "onnx")
        texts = [(r.get("title") + "\n" if r.get("title") else "") + r["text"] for r in rows]
        tokens = emb.count_tokens(texts)
        avg_tokens = statistics.mean(min(t, MINILM_READS) for t in tokens)
        res: dict = {}
        if args.resume:  # the stages of a stopped run, else of the last finished one
            last = PARTIAL if PARTIAL.exists() else RESULTS / "scale_ingest.json"
            res = json.loads(last.read_text()) if last.exists() else {}
            res.pop("plan", None)
        res["avg_tokens"] = round(avg_tokens, 1)

        def stage(key, run):
            if key not in res:
                res[key] = run()
                PARTIAL.write_text(json.dumps(res, indent=2), encoding="utf-8")
            print(key, res[key], flush=True)

        def in_process():
            t = time.perf_counter()
            build_collection(load_corpus(corpus), tmp / "inproc", emb, name="inproc")
            s = time.perf_counter() - t
            return {"passages": len(rows), "seconds": round(s, 2), "passages_per_s": round(len(rows) / s, 1)}

        stage("in_process", in_process)
        done = all(k in res for k in ("ray_1", "ray_2", "remote", "disk_bytes_per_passage_with_text"))

        chroma = ChromaProcess(tmp / "db") if not done else None
        cluster = RayCluster(tmp, cpus=1) if not done else None
        local = {"kind": "local", "name": "all-MiniLM-L6-v2", "backend": "onnx"}
        try:
            if not done:
                disk0 = chroma.disk_mb()
                for n in (1, 2):
                    res.pop(f"ray_{n}", None)  # both builds go to one server: its disk growth is their sum
                    stage(f"ray_{n}", lambda n=n: _ray_build(f"ray{n}", corpus, chroma, cluster, tmp, n, args.shard, local))
                stage("disk_bytes_per_passage_with_text", lambda: round((chroma.disk_mb() - disk0) * 1e6 / (2 * len(rows))))
                gguf = minilm_gguf(ROOT / ".cache")
                if gguf is not None and "remote" not in res:
                    srv = EmbeddingServer(gguf, tmp / "embed-server.log", threads=1)
                    try:
                        spec = {"kind": "remote", "url": srv.url, "model": srv.model}
                        stage("remote", lambda: _ray_build("remote", corpus, chroma, cluster, tmp, 1, args.shard, spec,
                                                           batch=32))
                    finally:
                        srv.stop()
        finally:
            if cluster is not None:
                cluster.stop()
            if chroma is not None:
                chroma.stop()
        stage("per_vector", lambda: _vectors(args.vectors, tmp))
        stage("bm25", lambda: _bm25(tmp))
    res["load_average_before"] = [round(x, 1) for x in load0]
    res["load_average_after"] = [round(x, 1) for x in os.getloadavg()]
    res["plan"] = plan(res)
    data = {"command": f"nice -n 10 python -m benchmarks.scale_ingest --passages {args.passages} --shard {args.shard} "
                       f"--vectors {args.vectors}", "machine": f"{cpu_name()}, {os.cpu_count()} vCPUs", **res}
    (RESULTS / "scale_ingest.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    (RESULTS / "scale_ingest.md").write_text(report(data), encoding="utf-8")
    PARTIAL.unlink(missing_ok=True)
    print(report(data))


def plan(res: dict) -> dict:
    """PubMed at 23.9M snippets from the measured inputs (tokens/s scale linearly with tokens: an
    approximation that favours long inputs slightly, as attention grows with length)."""
    per_actor_tok_s = res["ray_1"]["per_actor_embed_passages_per_s"] * res["avg_tokens"]
    pubmed_tokens = PUBMED_SNIPPETS * min(PUBMED_TOKENS, MINILM_READS)
    cpu_actor_days = pubmed_tokens / per_actor_tok_s / 86400
    gpu_tok_s = V100_SENTENCES_S * V100_SENTENCE_TOKENS
    pv = res["per_vector"]
    text_bytes = res["disk_bytes_per_passage_with_text"]
    return {
        "per_actor_tokens_per_s": round(per_actor_tok_s),
        "pubmed_tokens_read": pubmed_tokens,
        "cpu_actor_days": round(cpu_actor_days, 1),
        "cpu_days_with_actors": {str(n): round(cpu_actor_days / n, 2) for n in (16, 64, 256)},
        "gpu_tokens_per_s_estimate": gpu_tok_s,
        "gpu_days_one_v100_estimate": round(pubmed_tokens / gpu_tok_s / 86400, 2),
        "chroma_disk_gb_vectors_only": round(PUBMED_SNIPPETS * pv["disk_bytes_per_vector"] / 1e9, 1),
        "chroma_disk_gb_with_text": round(PUBMED_SNIPPETS * max(text_bytes, pv["disk_bytes_per_vector"]) / 1e9, 1),
        "chroma_ram_gb_measured_rss": round(PUBMED_SNIPPETS * pv["rss_bytes_per_vector"] / 1e9, 1),
        "hnsw_ram_gb_formula": round(PUBMED_SNIPPETS * HNSW_BYTES / 1e9, 1),
        # BM25: entries grow with distinct terms per passage; PubMed snippets are longer than BioASQ's
        "bm25_gb_scaled_by_tokens": round(PUBMED_SNIPPETS * res["bm25"]["disk_bytes_per_passage"]
                                          * PUBMED_TOKENS / max(res["bm25"]["mean_terms_per_passage"], 1) / 1e9, 1),
        "bm25_build_hours_scaled": round(PUBMED_SNIPPETS * (res["bm25"]["build_s"] / res["bm25"]["passages"])
                                         * PUBMED_TOKENS / max(res["bm25"]["mean_terms_per_passage"], 1) / 3600, 1),
    }


def report(d: dict) -> str:
    p = d["plan"]
    lines = [
        "# Corpus-scale ingestion (issue 24)", "",
        f"Machine: {d['machine']}, shared with other jobs (load average {d['load_average_before']} before, "
        f"{d['load_average_after']} after: every throughput here is a lower bound for an idle machine). "
        f"Real BioASQ snippets, {d['avg_tokens']} MiniLM tokens on average.", "",
        "| path | passages | seconds | passages/s | actor embed s | actor write s | per-actor embed passages/s |",
        "|---|---:|---:|---:|---:|---:|---:|",
        f"| in-process (today's datasets build, embedded Chroma, 2 threads) | {d['in_process']['passages']} | "
        f"{d['in_process']['seconds']} | {d['in_process']['passages_per_s']} | | | |",
    ]
    for key, label in (("ray_1", "Ray, 1 actor (1 CPU)"), ("ray_2", "Ray, 2 actors (1 CPU each, 2 nodes)"),
                       ("remote", "Ray, 1 actor, remote embedder (llama.cpp server, 1 thread)")):
        if key in d:
            r = d[key]
            lines.append(f"| {label} | {r['passages']} | {r['seconds']} | {r['passages_per_s']} | {r['actor_embed_s']} | "
                         f"{r['actor_write_s']} | {r['per_actor_embed_passages_per_s']} |")
    pv = d["per_vector"]
    lines += [
        "", f"BM25 build at the end (driver): {d['ray_2']['bm25_build_s']} s for {d['ray_2']['passages']} passages.", "",
        f"Chroma server, {pv['vectors']:,} random 384-d vectors, ragmed's HNSW settings: {pv['vectors_per_s']} "
        f"vectors/s added; disk {pv['disk_bytes_per_vector']} B/vector, server RSS {pv['rss_bytes_per_vector']} "
        f"B/vector (hnswlib formula: {HNSW_BYTES} B); query k=100 p50 {pv['query_ms_p50']} ms, p95 "
        f"{pv['query_ms_p95']} ms. With text and metadata (the Ray builds): {d['disk_bytes_per_passage_with_text']} "
        "B/passage on disk.", "",
        "## PubMed plan (23,898,701 snippets, 296 tokens on average, MiniLM reads 254)", "",
        "| input | value | source |", "|---|---:|---|",
        f"| per-actor throughput (1 CPU) | {p['per_actor_tokens_per_s']:,} tokens/s | measured (ray-1 embed time) |",
        f"| tokens to embed | {p['pubmed_tokens_read']:,} | MedRAG/pubmed card x 254 |",
        f"| CPU actor-days | {p['cpu_actor_days']:,} | measured |",
        f"| days with 16 / 64 / 256 actors | {p['cpu_days_with_actors']['16']} / {p['cpu_days_with_actors']['64']} / "
        f"{p['cpu_days_with_actors']['256']} | measured per actor, assuming actors on dedicated cores add linearly (here the 2nd actor added little: other jobs held both CPUs) |",
        f"| one V100 GPU | {p['gpu_days_one_v100_estimate']} days | **estimate**: 14,200 sentences/s (sbert.net "
        f"model table) x {V100_SENTENCE_TOKENS} tokens assumed per sentence |",
        f"| Chroma disk, vectors + HNSW | {p['chroma_disk_gb_vectors_only']} GB | measured per vector |",
        f"| Chroma disk with text and metadata | {p['chroma_disk_gb_with_text']} GB | measured per passage |",
        f"| Chroma RAM (HNSW in memory) | {p['chroma_ram_gb_measured_rss']} GB measured RSS, {p['hnsw_ram_gb_formula']} GB "
        "by the hnswlib formula | measured / formula |",
        f"| BM25 (bm25s) size | {p['bm25_gb_scaled_by_tokens']} GB | measured per passage on all BioASQ "
        f"({d['bm25']['disk_bytes_per_passage']} B, {d['bm25']['mean_terms_per_passage']} terms), scaled by 296 terms (upper bound) |",
        f"| BM25 build, one process | {p['bm25_build_hours_scaled']} h | measured ({d['bm25']['build_s']} s for "
        f"{d['bm25']['passages']:,} passages), scaled likewise; tokenising is done by the actors |",
        "", f"Rerun: `{d['command']}` (`--resume` reuses the stages a stopped run measured)", "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
