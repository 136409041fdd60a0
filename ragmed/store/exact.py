"""Exact dense search over a collection's committed vectors, for collections small enough.

Chroma's HNSW search is approximate: its top-k can miss true neighbours, and which ones it misses
depends on the graph a process holds (benchmarks/hnsw_recall.py measures both). Below
`EXACT_MAX_CHUNKS` chunks, the retriever ranks by exact cosine similarity instead: every committed
chunk's vector is read from Chroma once per manifest (per process) and the query is scored against
all of them with one matrix-vector product. The result is the true top-k, identical in every
process; ties are broken by the chunks' order in the lexical snapshot (document, then position).

Memory: 4 bytes x dimension per chunk (1.5 kB for MiniLM: 30 MB at 20,000 chunks).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

# Up to this many committed chunks, dense search is exact (benchmarks/hnsw_recall.py measures the
# one-off load and the per-query cost; results/hnsw_recall.md).
EXACT_MAX_CHUNKS = 20_000
FETCH_BATCH = 2_000  # ids per Chroma get (below every Chroma's max batch size)

_CACHE: dict[str, tuple[str, "ExactVectors"]] = {}  # collection folder -> (manifest stamp, vectors)
_LOCK = threading.Lock()


@dataclass
class ExactVectors:
    """The vectors of one committed set: `ids[i]`'s vector is `matrix[i]`; `pos[i]` is its position
    in the lexical snapshot (so a snapshot mask applies); float32, unit length."""

    ids: list[str]
    pos: np.ndarray
    matrix: np.ndarray

    def __post_init__(self) -> None:
        self.row = {pid: i for i, pid in enumerate(self.ids)}

    def top(self, query: np.ndarray, k: int, mask: np.ndarray | None = None) -> tuple[list[str], list[float], list]:
        """The k most similar chunks: ids, cosine similarities, vectors (best first). `mask`: one
        0/1 value per snapshot chunk (`LexicalSnapshot.mask_for`); masked chunks never appear."""
        if k <= 0 or not len(self.ids):
            return [], [], []
        sims = self.matrix @ np.asarray(query, dtype=np.float32)
        cand = np.arange(len(self.ids)) if mask is None else np.flatnonzero(mask[self.pos] > 0)
        s = sims[cand]
        part = np.argpartition(-s, k - 1)[:k] if len(cand) > k else np.arange(len(cand))
        part = part[np.lexsort((part, -s[part]))]  # best first; equal scores in snapshot order
        order = cand[part]
        return [self.ids[i] for i in order], [float(sims[i]) for i in order], [self.matrix[i] for i in order]

    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        return {pid: self.matrix[self.row[pid]] for pid in ids if pid in self.row}


def load(key: str, stamp: str, ref_ids: Sequence[str], chroma_collection: Any) -> ExactVectors:
    """The vectors of `ref_ids` (a lexical snapshot's chunk ids, in order), cached per `key` (the
    collection's folder) and `stamp` (its manifest's committed set). Chunks deleted meanwhile by a
    concurrent ingestion are left out, and such an incomplete set is not cached."""
    with _LOCK:
        hit = _CACHE.get(key)
        if hit is not None and hit[0] == stamp:
            return hit[1]
    ids: list[str] = []
    rows: list[Any] = []
    where = {pid: i for i, pid in enumerate(ref_ids)}
    for i in range(0, len(ref_ids), FETCH_BATCH):
        got = chroma_collection.get(ids=list(ref_ids[i : i + FETCH_BATCH]), include=["embeddings"])
        ids.extend(got["ids"])
        rows.extend(got["embeddings"])
    order = sorted(range(len(ids)), key=lambda j: where[ids[j]])
    ids = [ids[j] for j in order]
    dim = len(rows[0]) if rows else 0
    matrix = np.asarray([rows[j] for j in order], dtype=np.float32).reshape(len(ids), dim)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    matrix = matrix / np.where(norms > 0, norms, 1.0)
    vecs = ExactVectors(ids, np.asarray([where[p] for p in ids], dtype=np.int64), matrix)
    if len(ids) == len(ref_ids):
        with _LOCK:
            _CACHE[key] = (stamp, vecs)
    return vecs
