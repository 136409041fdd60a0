"""How ingestion cost and index size grow: 1k, 10k and 100k chunks.

    python -m benchmarks.ingest_scaling [--sizes 1000,10000,100000] [--full-max 10000]

Text: real BioASQ snippets (../shared/eval) joined into paragraphs of about 190 embedder tokens,
written as .txt documents of 100 paragraphs each, so ragmed's own chunker makes about one chunk per
paragraph.
  sizes <= --full-max   `ragmed ingest` end to end, in a fresh process per size (default backend):
                        wall time, chunks/s, tokens/s, peak RSS, index size on disk, and a re-run
                        of the unchanged folder
  larger sizes          the storage side only, measured: the chunks of the 10k run's vectors are
                        reused (cycled) and written through the same index calls (Chroma upsert in
                        batches per document, BM25 term files, one BM25 build); the embedding time
                        is *computed* from the tokens/s measured at the largest full size, and
                        marked so. Embedding 19M tokens again would take most of an hour here.
Results: benchmarks/results/ingest_scaling.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks._common import BIOASQ, RESULTS, ROOT, cpu_name, require

PER_DOC = 100


def du_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def write_corpus(ds, emb, chunks: int, where: Path) -> None:
    texts = [p["text"] for p in ds.corpus.values()]
    counts = emb.count_tokens(texts)
    where.mkdir(parents=True, exist_ok=True)
    paras, cur, n, i = [], [], 0, 0
    while len(paras) < chunks:
        t, k = texts[i % len(texts)], counts[i % len(texts)]
        i += 1
        if cur and n + k > 175:
            paras.append(" ".join(cur))
            cur, n = [], 0
        cur.append(t)
        n += k
    for d in range(0, chunks, PER_DOC):
        (where / f"doc{d // PER_DOC:05d}.txt").write_text("\n\n".join(paras[d : d + PER_DOC]) + "\n")


RUNNER = """
import json, resource, sys, time
from ragmed import RagMed
rag = RagMed(collection="scale", index_dir=sys.argv[1])
rag.embedder.embed(["warm up"])
t0 = time.perf_counter(); r = rag.ingest([sys.argv[2]]); s = time.perf_counter() - t0
t0 = time.perf_counter(); again = rag.ingest([sys.argv[2]]); re_s = time.perf_counter() - t0
metas = rag.index.chroma().get(include=["metadatas"])["metadatas"]
print(json.dumps({"seconds": s, "chunks": len(metas), "tokens": sum(int(m["n_tokens"]) for m in metas),
                  "failed": len(r.failed), "reingest_seconds": re_s, "reingest_embedded": again.embedded,
                  "backend": rag.embedder.backend,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def full(size: int, corpus: Path, idx: Path) -> dict:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", RUNNER, str(idx), str(corpus)], capture_output=True, text=True,
                         env=env, check=True)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    r |= {"size": size, "mode": "full", "index_mb": round(du_mb(idx), 1),
          "chunks_per_s": round(r["chunks"] / r["seconds"], 1), "tokens_per_s": round(r["tokens"] / r["seconds"])}
    return r


def storage_only(size: int, src_idx: Path, idx: Path, tokens_per_chunk: float, tokens_per_s: float) -> dict:
    import numpy as np

    from ragmed.store.collection import Collection
    from ragmed.store.manifest import now
    from ragmed.types import Chunk

    src = Collection(src_idx, "scale")
    got = src.chroma().get(include=["documents", "embeddings", "metadatas"])
    texts, vecs = got["documents"], np.asarray(got["embeddings"], dtype=np.float32)
    build = src.manifest().build
    index = Collection(idx, "scale")
    manifest = index.create(build)
    t0 = time.perf_counter()
    for d in range(0, size, PER_DOC):
        sha = f"{d:064d}"
        chunks = [Chunk(id=f"c{i:07d}", doc_id=f"doc{d // PER_DOC:05d}", source=f"synthetic/{d // PER_DOC:05d}",
                        file_sha256=sha, text=texts[i % len(texts)], start=0, end=1, page_start=1, page_end=1,
                        page_labels=("1",), section=(), n_tokens=int(tokens_per_chunk), index=i - d)
                  for i in range(d, min(size, d + PER_DOC))]
        index.write_chunks(chunks, vecs[[i % len(texts) for i in range(d, min(size, d + PER_DOC))]])
        manifest.documents[f"synthetic/{d // PER_DOC:05d}"] = {"doc_id": chunks[0].doc_id, "sha256": sha,
                                                               "chunks": len(chunks), "ingested_at": now()}
    manifest.save()
    index.refresh_lexical(manifest)
    store_s = time.perf_counter() - t0
    embed_s = size * tokens_per_chunk / tokens_per_s
    return {"size": size, "mode": "storage measured, embedding computed", "chunks": size,
            "tokens": round(size * tokens_per_chunk), "store_seconds": round(store_s, 1),
            "embed_seconds_computed": round(embed_s, 1), "seconds": round(store_s + embed_s, 1),
            "chunks_per_s": round(size / (store_s + embed_s), 1), "index_mb": round(du_mb(idx), 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--full-max", type=int, default=10000)
    ap.add_argument("--work", type=Path, default=None, help="scratch folder (default: a temporary one)")
    args = ap.parse_args()
    require(BIOASQ)
    from ragmed.embed.sentence import Embedder
    from ragmed.eval.beir import load_beir

    ds = load_beir(BIOASQ)
    emb = Embedder()
    work = args.work or Path(tempfile.mkdtemp(prefix="ragmed-scaling-"))
    rows, last_full = [], None
    try:
        for size in [int(s) for s in args.sizes.split(",")]:
            idx = work / f"index-{size}"
            shutil.rmtree(idx, ignore_errors=True)
            if size <= args.full_max:
                corpus = work / f"corpus-{size}"
                if not corpus.exists():
                    write_corpus(ds, emb, size, corpus)
                r = full(size, corpus, idx)
                last_full = (idx, r)
            else:
                if last_full is None:
                    sys.exit("a storage-only size needs a full run before it (its vectors are reused)")
                src, lr = last_full
                r = storage_only(size, src, idx, lr["tokens"] / lr["chunks"], lr["tokens_per_s"])
            rows.append(r)
            print(json.dumps(r), file=sys.stderr)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    data = {"rows": rows, "machine": {"cpus": os.cpu_count(), "cpu": cpu_name(), "platform": platform.platform()},
            "command": " ".join(["python", "-m", "benchmarks.ingest_scaling",
                                 *[a for a in sys.argv[1:] if not a.startswith("--work")]])}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "ingest_scaling.json").write_text(json.dumps(data, indent=1) + "\n")
    md = report(data)
    (RESULTS / "ingest_scaling.md").write_text(md)
    print(md)


def report(data: dict) -> str:
    lines = ["| target | chunks | how | tokens | time s | chunks/s | index MB | MB per 1k chunks | peak RSS MB | re-run s |",
             "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in data["rows"]:
        how = "end to end" if r["mode"] == "full" else (f"store {r['store_seconds']} s measured + embed "
                                                          f"{r['embed_seconds_computed']} s computed")
        lines.append(f"| {r['size']:,} | {r['chunks']:,} | {how} | {r['tokens']:,} | {r['seconds']:.1f} | "
                     f"{r['chunks_per_s']} | {r['index_mb']} | {1000 * r['index_mb'] / r['chunks']:.1f} | "
                     f"{round(r.get('peak_rss_mb', 0)) or '-'} | "
                     f"{round(r['reingest_seconds'], 2) if 'reingest_seconds' in r else '-'} |")
    return (f"# Ingestion scaling\n\nReal BioASQ text in .txt documents of {PER_DOC} paragraphs (ragmed's chunker "
            f"makes the chunks); default embedder backend. Machine: {data['machine']['cpu']}, "
            f"{data['machine']['cpus']} vCPUs.\n\n" + "\n".join(lines) + f"\n\nRerun: `{data['command']}`\n")


if __name__ == "__main__":
    main()
