"""`ragmed eval retrieval`: score retrieval modes on a BEIR folder with ragmed's own search path.

The corpus becomes a ragmed collection (one chunk per passage, id = passage id, embedded with the
collection's embedder, BM25 terms from ragmed's tokenizer), built once and reused while the corpus
file and embedder are unchanged. Every query then goes through `Retriever.search`, exactly as
`ragmed search` would run it, so the latency includes query embedding, fusion and passage fetches.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from ..version import __version__
from ..embed.onnx import EXPORT_VERSION, FAMILY
from ..retrieve.hybrid import MODES, RetrievalConfig, Retriever
from ..store.collection import Collection
from ..store.manifest import now
from ..types import Chunk
from .beir import BeirDataset
from .metrics import mrr_at, ndcg_at, percentile, recall_at

DEPTH = 100  # passages retrieved per query (Recall@100 needs 100)


@dataclass
class ModeResult:
    run: str
    queries: int
    ndcg10: float
    recall10: float
    recall100: float
    mrr10: float
    p50_ms: float
    p95_ms: float


@dataclass
class RetrievalEval:
    dataset: str
    split: str
    queries: int
    corpus: int
    embedder: str
    config: dict
    results: list[ModeResult]
    started_at: str
    seconds: float
    dataset_sha256: dict[str, str] = field(default_factory=dict)
    ragmed_version: str = __version__

    def to_dict(self) -> dict:
        d = asdict(self)
        for r in d["results"]:  # NaN (not timed) is not JSON
            for key in ("p50_ms", "p95_ms"):
                if r[key] != r[key]:
                    r[key] = None
        return d

    def table(self) -> str:
        """The comparison as a Markdown table."""
        lines = [
            "| run | queries | nDCG@10 | Recall@10 | Recall@100 | MRR@10 | p50 ms | p95 ms |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        def ms(x: float) -> str:
            return "–" if x != x else f"{x:.1f}"  # NaN: not timed

        for r in self.results:
            lines.append(
                f"| {r.run} | {r.queries} | {r.ndcg10:.4f} | {r.recall10:.4f} | {r.recall100:.4f} | "
                f"{r.mrr10:.4f} | {ms(r.p50_ms)} | {ms(r.p95_ms)} |"
            )
        return "\n".join(lines)


def collection_name(ds: BeirDataset, embedder_id: str, backend: str = "torch") -> str:
    ident = embedder_id if backend == "torch" else f"{embedder_id}|{backend}"
    if backend != "torch":  # a new export (or quantisation scheme) gets a collection of its own
        ident += f"|{FAMILY[backend]}|export{EXPORT_VERSION}"
    key = hashlib.sha1(f"{ds.sha256['corpus.jsonl']}|{ident}".encode()).hexdigest()[:10]
    safe = "".join(c if c.isalnum() else "-" for c in ds.name.lower()).strip("-")[:40] or "beir"
    return f"beir-{safe}-{key}"


def build_collection(ds: BeirDataset, index_dir: Path, embedder, progress: bool = False,
                     batch_size: int | None = None, name: str | None = None) -> Collection:
    """The corpus as a collection (reused when it already exists for this corpus and embedder).
    `name`: the collection's name (default: derived from the corpus and embedder)."""
    backend = getattr(embedder, "backend", "torch")
    index = Collection(index_dir, name or collection_name(ds, embedder.id, backend))
    sha = ds.sha256["corpus.jsonl"]
    m = index.manifest()
    key = f"beir:{ds.corpus_path.resolve()}"
    if m is not None and any(d["sha256"] == sha for d in m.documents.values()) and not m.pending:
        return index
    with index.write_lock():
        index.drop()
        build = {"ragmed_version": __version__, "embedder": embedder.id, "embedder_backend": backend,
                 "embedder_family": FAMILY[backend],
                 "dimension": embedder.dimension, "distance": "cosine", "chunker": {"version": "beir-passages"}}
        manifest = index.create(build)
        manifest.pending["beir"] = {"op": "write", "sha256": sha, "source": key}
        manifest.save()
        chunks = [
            Chunk(id=pid, doc_id="beir", source=key, file_sha256=sha, text=p["text"], start=0,
                  end=len(p["text"]), page_start=1, page_end=1, page_labels=("1",), section=(),
                  n_tokens=0, index=i, title=p["title"])
            for i, (pid, p) in enumerate(ds.corpus.items())
        ]
        from tqdm import tqdm

        bar = tqdm(total=len(chunks), unit="passage", desc="embed corpus", file=sys.stderr,
                   disable=not progress, leave=False)
        try:  # embedded 4096 at a time (bounded memory), written as one document version
            step, parts = 4096, []
            for i in range(0, len(chunks), step):
                parts.append(embedder.embed([c.embed_text for c in chunks[i : i + step]],
                                            batch_size=batch_size, on_batch=bar.update))
        finally:
            bar.close()
        index.write_chunks(chunks, np.concatenate(parts) if parts else np.zeros((0, embedder.dimension), np.float32))
        manifest.documents[key] = {"doc_id": "beir", "sha256": sha, "title": ds.name, "kind": "beir",
                                   "pages": 1, "chunks": len(chunks), "ingested_at": now()}
        manifest.pending.clear()
        manifest.save()
        index.refresh_lexical(manifest)
    return index


@dataclass(frozen=True)
class Run:
    """One row of the comparison: a label, a mode and the retrieval settings it runs with."""

    label: str
    mode: str
    config: RetrievalConfig = field(default_factory=RetrievalConfig)


def default_runs(modes: Sequence[str] = MODES) -> list[Run]:
    return [Run(m, m, RetrievalConfig(mode=m)) for m in modes]


def evaluate(
    ds: BeirDataset, index: Collection, embedder, split: str = "test", runs: Sequence[Run] | None = None,
    reranker=None, out_dir: Path | None = None, limit: int | None = None, progress: bool = False,
) -> RetrievalEval:
    """Run every configuration over the split's queries; write per-query JSONL and the summary."""
    from tqdm import tqdm

    t_start = time.perf_counter()
    started = now()
    runs = list(runs or default_runs())
    qids = ds.query_ids(split)
    if limit:
        qids = qids[:limit]
    results = []
    rows_out = None
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        rows_out = (out_dir / f"per_query_{split}.jsonl").open("w", encoding="utf-8")
    try:
        for run in runs:
            retriever = Retriever(index, embedder, run.config, reranker=reranker)
            if qids:  # load models and indexes before timing anything
                retriever.search(ds.queries[qids[0]], 1, mode=run.mode)
            nd, r10, r100, mrr, lat = [], [], [], [], []
            for qid in tqdm(qids, desc=run.label, unit="query", file=sys.stderr, disable=not progress, leave=False):
                t = time.perf_counter()
                passages = retriever.search(ds.queries[qid], DEPTH, mode=run.mode)
                ms = (time.perf_counter() - t) * 1000
                ranked = [p.id for p in passages]
                rel = ds.qrels[qid]
                row = {"query_id": qid, "run": run.label, "ndcg@10": ndcg_at(ranked, rel, 10),
                       "recall@10": recall_at(ranked, rel, 10), "recall@100": recall_at(ranked, rel, 100),
                       "mrr@10": mrr_at(ranked, rel, 10), "latency_ms": round(ms, 2), "top10": ranked[:10],
                       "relevant": sorted(p for p, g in rel.items() if g > 0)}
                nd.append(row["ndcg@10"]); r10.append(row["recall@10"]); r100.append(row["recall@100"])
                mrr.append(row["mrr@10"]); lat.append(ms)
                if rows_out:
                    rows_out.write(json.dumps(row) + "\n")
            n = max(1, len(qids))
            results.append(ModeResult(run.label, len(qids), sum(nd) / n, sum(r10) / n, sum(r100) / n,
                                      sum(mrr) / n, percentile(lat, 50), percentile(lat, 95)))
    finally:
        if rows_out:
            rows_out.close()
    ev = RetrievalEval(
        dataset=str(ds.path), split=split, queries=len(qids), corpus=len(ds.corpus),
        embedder=f"{embedder.id} ({getattr(embedder, 'backend', 'torch')})",
        config={r.label: {**asdict(r.config), "mode": r.mode} for r in runs} | {"reranker": getattr(reranker, "id", None)},
        results=results, started_at=started, seconds=round(time.perf_counter() - t_start, 1),
        dataset_sha256=ds.sha256,
    )
    if out_dir is not None:
        (out_dir / f"summary_{split}.json").write_text(json.dumps(ev.to_dict(), indent=1), encoding="utf-8")
        (out_dir / f"summary_{split}.md").write_text(ev.table() + "\n", encoding="utf-8")
    return ev
