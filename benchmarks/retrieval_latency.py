"""Retrieval latency per mode on collections of 10k and 100k chunks (p50/p95, query embedding included).

    python -m benchmarks.retrieval_latency [--sizes 10000,100000] [--queries 300] [--k 10]

Chunks are real text: BioASQ snippets from ../shared/eval with the vectors MiniLM gave them in the
BioASQ eval collection (built by benchmarks/retrieval_beir.py or `ragmed eval retrieval`, reused
here). Beyond the 21,257 real snippets, synthetic chunks join two random snippets (text
concatenated, vector = normalised sum of both), so the 100k collection has realistic text for BM25
and realistic neighbourhoods for HNSW without an hour of embedding. Queries are BioASQ test-split
questions, each embedded by `Retriever.search` as in real use (the embedder is warm, one process).
Results: benchmarks/results/retrieval_latency.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import time
from pathlib import Path

from benchmarks._common import BIOASQ, CACHE, EVAL_INDEXES, RESULTS, require

import numpy as np

from ragmed.embed.sentence import Embedder
from ragmed.eval.beir import load_beir
from ragmed.eval.metrics import percentile
from ragmed.eval.retrieval import build_collection
from ragmed.retrieve.hybrid import MODES, RetrievalConfig, Retriever
from ragmed.store.collection import Collection
from ragmed.store.manifest import now
from ragmed.types import Chunk


def source_vectors(ds, emb, cache: Path) -> tuple[list[str], list[str], np.ndarray]:
    index = build_collection(ds, cache, emb, progress=sys.stderr.isatty())
    got = index.chroma().get(include=["documents", "embeddings"])
    order = np.argsort(got["ids"])
    ids = [got["ids"][i] for i in order]
    texts = [got["documents"][i] for i in order]
    return ids, texts, np.asarray(got["embeddings"], dtype=np.float32)[order]


def build(size: int, texts: list[str], vecs: np.ndarray, emb, where: Path) -> Collection:
    name = f"latency-{size}"
    index = Collection(where, name)
    m = index.manifest()
    if m is not None and m.documents and not m.pending:
        return index
    rng = random.Random(size)
    index.drop()
    build_info = {"embedder": emb.id, "dimension": emb.dimension, "distance": "cosine",
                  "chunker": {"version": "synthetic"}}
    manifest = index.create(build_info)
    docs = 100  # spread over 100 "documents" so version filters are realistic
    per = -(-size // docs)
    t0 = time.perf_counter()
    for d in range(docs):
        sha = f"{size:08d}{d:056d}"
        chunks, vs = [], []
        for i in range(d * per, min(size, (d + 1) * per)):
            if i < len(texts):
                text, v = texts[i], vecs[i]
            else:
                a, b = rng.randrange(len(texts)), rng.randrange(len(texts))
                text = texts[a] + " " + texts[b]
                v = vecs[a] + vecs[b]
                v = v / np.linalg.norm(v)
            chunks.append(Chunk(id=f"c{i:07d}", doc_id=f"doc{d:03d}", source=f"synthetic/{d:03d}", file_sha256=sha,
                                text=text, start=0, end=len(text), page_start=1, page_end=1, page_labels=("1",),
                                section=(), n_tokens=0, index=i - d * per))
            vs.append(v)
        index.write_chunks(chunks, np.stack(vs))
        manifest.documents[f"synthetic/{d:03d}"] = {"doc_id": f"doc{d:03d}", "sha256": sha, "title": "",
                                                     "chunks": len(chunks), "ingested_at": now()}
    manifest.save()
    index.refresh_lexical(manifest)
    print(f"built {size} chunks in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    return index


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--index-dir", type=Path, default=CACHE / "latency-indexes")
    args = ap.parse_args()
    require(BIOASQ)
    ds = load_beir(BIOASQ)
    emb = Embedder()
    _, texts, vecs = source_vectors(ds, emb, EVAL_INDEXES)
    queries = [ds.queries[q] for q in ds.query_ids("test")][: args.queries]
    rows = []
    for size in [int(s) for s in args.sizes.split(",")]:
        index = build(size, texts, vecs, emb, args.index_dir)
        r = Retriever(index, emb, RetrievalConfig())
        for mode in MODES:
            for q in queries[:5]:  # warm-up: models, snapshot, Chroma segments
                r.search(q, args.k, mode=mode)
            lat, parts = [], {"embed": [], "dense": [], "lexical": [], "fuse": []}
            for q in queries:
                t = time.perf_counter()
                r.search(q, args.k, mode=mode)
                lat.append((time.perf_counter() - t) * 1000)
                for key in parts:
                    parts[key].append(getattr(r.last, f"{key}_s") * 1000)
            row = {"chunks": size, "mode": mode, "queries": len(queries), "k": args.k,
                   "p50_ms": round(percentile(lat, 50), 1), "p95_ms": round(percentile(lat, 95), 1),
                   **{f"{key}_p50_ms": round(percentile(v, 50), 1) for key, v in parts.items()}}
            rows.append(row)
            print(row, file=sys.stderr)
    RESULTS.mkdir(parents=True, exist_ok=True)
    cmd = " ".join(["python", "-m", "benchmarks.retrieval_latency", *sys.argv[1:]])
    meta = {"machine": {"cpus": os.cpu_count(), "platform": platform.platform()}, "command": cmd, "rows": rows}
    (RESULTS / "retrieval_latency.json").write_text(json.dumps(meta, indent=1) + "\n")
    lines = ["| chunks | mode | p50 ms | p95 ms | embed p50 | dense p50 | lexical p50 | fuse+fetch p50 |",
             "|---:|---|---:|---:|---:|---:|---:|---:|"]
    for x in rows:
        lines.append(f"| {x['chunks']:,} | {x['mode']} | {x['p50_ms']} | {x['p95_ms']} | {x['embed_p50_ms']} | "
                     f"{x['dense_p50_ms']} | {x['lexical_p50_ms']} | {x['fuse_p50_ms']} |")
    md = (f"# Retrieval latency\n\n{len(queries)} BioASQ test questions per row, k = {args.k}, one process, "
          f"{os.cpu_count()} CPUs, OPENBLAS_NUM_THREADS=1. Times include query embedding.\n\n"
          + "\n".join(lines) + f"\n\nRerun: `{cmd}`\n")
    (RESULTS / "retrieval_latency.md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
