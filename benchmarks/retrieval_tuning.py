"""The dev-split sweep behind ragmed's retrieval defaults (BioASQ snippets, dev queries only).

    python -m benchmarks.retrieval_tuning [--split dev]

A fast, in-memory replica of the retrieval stages (exact cosine over the MiniLM vectors stored in
the BioASQ eval collection, bm25s over ragmed's tokenizer, ragmed's fusion functions), so that the
whole grid runs in minutes. `benchmarks/retrieval_beir.py` then measures the chosen defaults
through the real `Retriever` (HNSW, Chroma, fetches). Results: benchmarks/results/retrieval_tuning_dev.md.
Never run this on the test split to pick settings; `--split test` exists only to show the spread.
"""

from __future__ import annotations

import argparse
import sys

from benchmarks._common import BIOASQ, EVAL_INDEXES, RESULTS, require

import numpy as np

from ragmed.embed.sentence import Embedder
from ragmed.eval.beir import load_beir
from ragmed.eval.metrics import ndcg_at, recall_at
from ragmed.eval.retrieval import build_collection
from ragmed.retrieve.fusion import ranked, rrf, score_fusion
from ragmed.tokenize import tokenize

DEPTH = 100


def main() -> None:
    import bm25s
    import Stemmer

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--split", default="dev", choices=["dev", "test"])
    args = ap.parse_args()
    require(BIOASQ)
    ds = load_beir(BIOASQ)
    emb = Embedder()
    index = build_collection(ds, EVAL_INDEXES, emb)
    got = index.chroma().get(include=["embeddings"])
    ids = list(got["ids"])
    C = np.asarray(got["embeddings"], dtype=np.float32)
    texts = [(ds.corpus[i]["title"] + " " + ds.corpus[i]["text"]).strip() for i in ids]
    qids = ds.query_ids(args.split)
    qtexts = [ds.queries[q] for q in qids]
    Q = emb.embed(qtexts, batch_size=64)
    S_d = Q @ C.T
    rows: list[tuple[str, float, float]] = []

    def score(name: str, rankings: list[list[int]]) -> None:
        nd = r10 = 0.0
        for qid, order in zip(qids, rankings):
            ranked_ids = [ids[j] for j in order[:DEPTH]]
            nd += ndcg_at(ranked_ids, ds.qrels[qid], 10)
            r10 += recall_at(ranked_ids, ds.qrels[qid], 10)
        rows.append((name, nd / len(qids), r10 / len(qids)))
        print(f"{name:55s} nDCG@10 {rows[-1][1]:.4f}  R@10 {rows[-1][2]:.4f}", file=sys.stderr)

    def top(s: np.ndarray, n: int = DEPTH) -> np.ndarray:
        part = np.argpartition(-s, n)[:n]
        return part[np.argsort(-s[part], kind="stable")]

    dense = [top(s) for s in S_d]
    score("dense (exact cosine)", dense)
    stem = Stemmer.Stemmer("english")
    peer = bm25s.BM25()
    peer.index(bm25s.tokenize(texts, stopwords="en", stemmer=stem, show_progress=False), show_progress=False)
    pq = bm25s.tokenize(qtexts, stopwords="en", stemmer=stem, show_progress=False)
    docs, _ = peer.retrieve(pq, k=DEPTH, show_progress=False)
    score("BM25 bm25s tokenizer, k1 1.5 b 0.75", list(docs))
    terms = [tokenize(t) for t in texts]
    qterms = [tokenize(t) for t in qtexts]
    best_lex = None
    for k1, b in [(1.5, 0.75), (1.2, 0.75), (1.2, 0.5), (0.9, 0.4), (2.0, 0.75), (1.5, 0.9)]:
        bm = bm25s.BM25(k1=k1, b=b)
        bm.index([t or ["\x00"] for t in terms], show_progress=False)
        S_b = np.stack([np.asarray(bm.get_scores(q), dtype=np.float32) for q in qterms])
        score(f"BM25 ragmed tokenizer, k1 {k1} b {b}", [top(s) for s in S_b])
        if (k1, b) == (0.9, 0.4):
            best_lex = S_b
    S_b = best_lex
    lex = [top(s) for s in S_b]

    def rrf_run(k: float, w_dense: float) -> list[list[int]]:
        out = []
        for d, l in zip(dense, lex):
            fused = rrf({"d": [str(x) for x in d], "l": [str(x) for x in l]}, {"d": w_dense, "l": 1 - w_dense}, k=k)
            out.append([int(pid) for pid, _ in fused])
        return out

    for k in (10, 20, 60):
        score(f"RRF k {k}, equal weights", rrf_run(k, 0.5))
    for w in (0.4, 0.6):
        score(f"RRF k 60, dense weight {w}", rrf_run(60, w))

    def fused_run(alpha: float, norm: str, prf_docs: int = 0, prf_weight: float = 0.0) -> list[list[int]]:
        out = []
        for n, (d, l) in enumerate(zip(dense, lex)):
            cand = list(dict.fromkeys(list(d) + list(l)))
            mat = C[cand]
            lex_s = {j: float(S_b[n, j]) for j in cand}

            def fuse(q):
                cos = mat @ q
                ds_ = {j: float(c) for j, c in zip(cand, cos)}
                dtop = [ds_[j] for j in d]
                if norm == "max":
                    return score_fusion(ds_, lex_s, max(dtop), float(S_b[n, l[0]]), alpha)
                ltop = S_b[n, l]
                if norm == "minmax":
                    dn = {j: (v - min(dtop)) / (max(dtop) - min(dtop) + 1e-9) for j, v in ds_.items()}
                    ln = {j: (v - ltop.min()) / (ltop.max() - ltop.min() + 1e-9) for j, v in lex_s.items()}
                else:  # z-score
                    dn = {j: (v - np.mean(dtop)) / (np.std(dtop) + 1e-9) for j, v in ds_.items()}
                    ln = {j: (v - ltop.mean()) / (ltop.std() + 1e-9) for j, v in lex_s.items()}
                return {j: alpha * dn[j] + (1 - alpha) * ln[j] for j in cand}

            fused = fuse(Q[n])
            if prf_docs:
                head = [j for j, _ in ranked(fused)[:prf_docs]]
                q2 = Q[n] + prf_weight * C[head].mean(axis=0)
                fused = fuse(q2 / np.linalg.norm(q2))
            out.append([j for j, _ in ranked(fused)])
        return out

    for norm in ("max", "minmax", "z"):
        for a in (0.4, 0.5, 0.6, 0.7):
            score(f"score fusion, {norm} norm, dense weight {a}", fused_run(a, norm))
    for m in (2, 3, 5, 10):
        for w in (0.5, 1.0, 2.0):
            score(f"score fusion max 0.6 + dense PRF {m} passages, weight {w}", fused_run(0.6, "max", m, w))

    RESULTS.mkdir(parents=True, exist_ok=True)
    lines = [f"# Retrieval tuning sweep, BioASQ {args.split} split ({len(qids)} queries)", "",
             "In-memory replica of the stages (exact cosine); rerun: "
             f"`python -m benchmarks.retrieval_tuning --split {args.split}`", "",
             "| configuration | nDCG@10 | Recall@10 |", "|---|---:|---:|"]
    lines += [f"| {name} | {nd:.4f} | {r:.4f} |" for name, nd, r in rows]
    (RESULTS / f"retrieval_tuning_{args.split}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
