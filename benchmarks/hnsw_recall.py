"""Chroma HNSW search against exact search on the 8 guideline PDFs: recall, and agreement across processes.

The guideline collection's vectors (as ragmed ingests them) are inserted into a fresh Chroma
collection per HNSW setting, document by document in ingestion order. Questions (answerable ones
from the CDC opioid gold statements, unanswerable MedQuAD/PubMedQA ones: the abstention benchmark's
set) are searched there, in this process and again in a second process that opens the same folder.
Reported per setting and split: recall@10 and recall@100 (the retriever's dense depth) against
exact search (numpy over the same vectors), and the share of questions whose top 10 / top 100 ids
are identical in both processes. Also the cost of exact search: loading the vectors from Chroma
once, and one query, at the collection's size and at synthetic sizes (random unit vectors).

    .venv/bin/python -m benchmarks.hnsw_recall          # ~10 min the first time (ingests the PDFs)

Writes benchmarks/results/hnsw_recall.{json,md}. Settings are chosen on the dev split.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from benchmarks._common import EVAL, GOLD, RESULTS, cpu_name, guideline_rag, require

SETTINGS = {
    "chroma default (ef_c 100, M 16, ef_s 100)": {"space": "cosine"},
    "ef_s 200": {"space": "cosine", "ef_search": 200},
    "ef_s 400": {"space": "cosine", "ef_search": 400},
    "ef_c 200, M 32, ef_s 200": {"space": "cosine", "ef_construction": 200, "max_neighbors": 32, "ef_search": 200},
    "ef_c 200, M 32, ef_s 400": {"space": "cosine", "ef_construction": 200, "max_neighbors": 32, "ef_search": 400},
    "ef_c 200, M 32, ef_s 400, 1 thread": {"space": "cosine", "ef_construction": 200, "max_neighbors": 32,
                                           "ef_search": 400, "num_threads": 1},
    "ef_c 400, M 48, ef_s 800": {"space": "cosine", "ef_construction": 400, "max_neighbors": 48, "ef_search": 800},
}
DEPTH = 100
EXACT = "exact (store/exact.py, ragmed up to EXACT_MAX_CHUNKS)"


def _client(path: Path):
    import chromadb
    from chromadb.config import Settings

    return chromadb.PersistentClient(path=str(path), settings=Settings(anonymized_telemetry=False))


def query_ids(path: Path, name: str, queries: np.ndarray, k: int) -> list[list[str]]:
    col = _client(path).get_collection(name, embedding_function=None)
    out = []
    for i in range(0, len(queries), 50):
        res = col.query(query_embeddings=queries[i : i + 50].tolist(), n_results=k, include=["distances"])
        out.extend([list(r) for r in res["ids"]])
    return out


def exact_ids(path: Path, name: str, queries: np.ndarray, ids: list[str]) -> list[list[str]]:
    """ragmed's exact search (store/exact.py) over the vectors stored in that Chroma folder."""
    from ragmed.store import exact

    vecs = exact.load(str(path), "bench", ids, _client(path).get_collection(name, embedding_function=None))
    return [vecs.top(q, DEPTH)[0] for q in queries]


def worker(args) -> None:
    """Second process: the same searches on the same folder."""
    queries = np.load(args.worker_queries)
    if args.worker_exact:
        found = exact_ids(Path(args.worker), args.worker_name, queries, json.loads(Path(args.worker_exact).read_text()))
    else:
        found = query_ids(Path(args.worker), args.worker_name, queries, DEPTH)
    Path(args.worker_out).write_text(json.dumps(found))


def build(path: Path, name: str, hnsw: dict, docs: list[tuple[list[str], np.ndarray]]) -> float:
    t0 = time.perf_counter()
    col = _client(path).create_collection(name, embedding_function=None, configuration={"hnsw": hnsw})
    for ids, vecs in docs:  # one upsert per document version, as ingestion writes them
        for i in range(0, len(ids), 4096):
            col.upsert(ids=ids[i : i + 4096], embeddings=vecs[i : i + 4096])
    return time.perf_counter() - t0


def recall(found: list[list[str]], truth: list[list[str]], k: int) -> float:
    return float(np.mean([len(set(f[:k]) & set(t[:k])) / len(t[:k]) for f, t in zip(found, truth)]))


def same(a: list[list[str]], b: list[list[str]], k: int) -> float:
    return float(np.mean([x[:k] == y[:k] for x, y in zip(a, b)]))


def _median_s(fn, batches: int = 15, per_batch: int = 20) -> float:
    """Seconds per call: the median over batches of calls (other work shares these cores, and the
    CPU-time clock of this virtual machine ticks in milliseconds)."""
    times = []
    for _ in range(batches):
        t = time.perf_counter()
        for _ in range(per_batch):
            fn()
        times.append((time.perf_counter() - t) / per_batch)
    return float(np.median(times))


def exact_cost(rag, n: int) -> dict:
    """Exact search's costs: the one-off load of every vector from Chroma, and one query."""
    from ragmed.store import exact

    snap = rag.index.lexical_snapshot()
    exact._CACHE.clear()
    t = time.perf_counter()
    vecs = rag.index.exact_vectors(snap)
    load_s = time.perf_counter() - t
    per_q = _median_s(lambda: vecs.top(vecs.matrix[0], DEPTH))
    synth = {}
    rng = np.random.default_rng(0)
    for size in (5_000, 20_000, 50_000, 100_000):
        m = rng.standard_normal((size, vecs.matrix.shape[1]), dtype=np.float32)
        m /= np.linalg.norm(m, axis=1, keepdims=True)
        ev = exact.ExactVectors([str(i) for i in range(size)], np.arange(size), m)
        synth[size] = round(_median_s(lambda: ev.top(m[0], DEPTH)) * 1000, 2)
    return {"chunks": n, "load_all_vectors_s": round(load_s, 3),
            "load_ms_per_1000_chunks": round(load_s / n * 1000 * 1000, 1),
            "query_ms": round(per_q * 1000, 3), "query_ms_synthetic": synth}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--worker")
    ap.add_argument("--worker-name")
    ap.add_argument("--worker-queries")
    ap.add_argument("--worker-out")
    ap.add_argument("--worker-exact")
    args = ap.parse_args()
    if args.worker:
        worker(args)
        return 0
    require(GOLD, EVAL / "liveqa_medquad", EVAL / "pubmedqa")
    from ragmed.eval.beir import split_of
    from ragmed.eval.trust import answerable_questions, gold_statements, unanswerable_questions
    from ragmed.store.chroma import HNSW

    t0 = time.time()
    rag = guideline_rag(progress=False)
    manifest = rag.index.require_manifest()
    col = rag.index.chroma()
    docs = []
    for key in sorted(manifest.documents):
        d = manifest.documents[key]
        got = col.get(where={"$and": [{"doc_id": d["doc_id"]}, {"file_sha256": d["sha256"]}]},
                      include=["embeddings", "metadatas"])
        order = np.argsort([m["index"] for m in got["metadatas"]], kind="stable")
        docs.append(([got["ids"][i] for i in order], np.asarray(got["embeddings"], dtype=np.float32)[order]))
    all_ids = [i for ids, _ in docs for i in ids]
    matrix = np.concatenate([v for _, v in docs])
    qs = answerable_questions(gold_statements(GOLD)) + unanswerable_questions(EVAL)
    qvecs = np.asarray(rag.embedder.embed([q for _, q in qs]), dtype=np.float32)
    splits = np.asarray([split_of(i) for i, _ in qs])
    sims = qvecs @ (matrix / np.linalg.norm(matrix, axis=1, keepdims=True)).T
    truth = [[all_ids[j] for j in np.argsort(-row, kind="stable")[:DEPTH]] for row in sims]

    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        np.save(Path(tmp) / "q.npy", qvecs)
        (Path(tmp) / "ids.json").write_text(json.dumps(all_ids))
        for n, (label, hnsw) in enumerate([*SETTINGS.items(), (EXACT, None)]):
            path, name = Path(tmp) / f"s{n}", f"setting-{n}"
            if hnsw is None:  # exact search over the vectors of the first setting's folder
                path, name, build_s = Path(tmp) / "s0", "setting-0", 0.0
            else:
                build_s = build(path, name, hnsw, docs)
            t = time.perf_counter()
            here = query_ids(path, name, qvecs, DEPTH) if hnsw else exact_ids(path, name, qvecs, all_ids)
            query_ms = (time.perf_counter() - t) / len(qvecs) * 1000
            out = Path(tmp) / f"s{n}.json"
            subprocess.run([sys.executable, __file__, "--worker", str(path), "--worker-name", name,
                            "--worker-queries", str(Path(tmp) / "q.npy"), "--worker-out", str(out)]
                           + ([] if hnsw else ["--worker-exact", str(Path(tmp) / "ids.json")]), check=True)
            there = json.loads(out.read_text())
            row = {"hnsw": hnsw, "build_s": round(build_s, 2), "query_ms": round(query_ms, 2)}
            for split in ("dev", "test"):
                idx = np.flatnonzero(splits == split)
                h, o, tr = [here[i] for i in idx], [there[i] for i in idx], [truth[i] for i in idx]
                row[split] = {"questions": int(len(idx)),
                              "recall@10": round(recall(h, tr, 10), 4), "recall@100": round(recall(h, tr, 100), 4),
                              "other_process_recall@10": round(recall(o, tr, 10), 4),
                              "same_top10_across_processes": round(same(h, o, 10), 4),
                              "same_top100_across_processes": round(same(h, o, 100), 4)}
            rows[label] = row
            print(label, row["dev"], file=sys.stderr)
    cost = exact_cost(rag, len(all_ids))
    from ragmed.store.exact import EXACT_MAX_CHUNKS

    result = {"benchmark": "hnsw_recall", "command": ".venv/bin/python -m benchmarks.hnsw_recall",
              "cpu": cpu_name(), "collection": "the 8 PDFs of ../shared/eval/guidelines",
              "chunks": len(all_ids), "questions": {"dev": int((splits == "dev").sum()), "test": int((splits == "test").sum())},
              "depth": DEPTH, "settings": rows, "ragmed_hnsw": HNSW, "exact_max_chunks": EXACT_MAX_CHUNKS,
              "exact_search": cost, "seconds": round(time.time() - t0, 1)}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "hnsw_recall.json").write_text(json.dumps(result, indent=2) + "\n")
    md = ["# Chroma HNSW against exact search (8 guideline PDFs)", "",
          f"Command: `{result['command']}` on {result['cpu']}. {len(all_ids)} chunks; "
          f"{result['questions']['dev']} dev / {result['questions']['test']} test questions (the abstention "
          "benchmark's answerable and unanswerable ones). Recall against exact cosine search over the same "
          "vectors; 'same' = share of questions whose ranked ids are identical in a second process. ms per question: "
          "HNSW rows searched 50 questions per call; the exact row includes loading the vectors once.", "",
          "| setting | split | recall@10 | recall@100 | other process recall@10 | same top 10 | same top 100 | ms per question |",
          "|---|---|---|---|---|---|---|---|"]
    for label, row in rows.items():
        for split in ("dev", "test"):
            r = row[split]
            md.append(f"| {label} | {split} | {r['recall@10']} | {r['recall@100']} | {r['other_process_recall@10']} | "
                      f"{r['same_top10_across_processes']} | {r['same_top100_across_processes']} | {row['query_ms']} |")
    md += ["", f"ragmed creates collections with `{HNSW}` and searches exactly up to {EXACT_MAX_CHUNKS} chunks.", "",
           "Exact search (store/exact.py): loading every vector from Chroma once per manifest took "
           f"{cost['load_all_vectors_s']} s (wall clock) for {len(all_ids)} chunks ({cost['load_ms_per_1000_chunks']} ms per 1000); "
           f"one query (top {DEPTH}, median of batches) {cost['query_ms']} ms; on random unit vectors: "
           + ", ".join(f"{k:,} chunks {v} ms" for k, v in cost["query_ms_synthetic"].items()) + "."]
    (RESULTS / "hnsw_recall.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    sys.exit(main())
