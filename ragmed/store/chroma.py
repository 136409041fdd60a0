"""Embedded Chroma index, one Chroma collection per ragmed collection.

Layout of an index directory:

    <index_dir>/chroma/                       Chroma PersistentClient data (all collections)
    <index_dir>/collections/<name>/manifest.json   build settings + committed documents
    <index_dir>/collections/<name>/write.lock      held by the one process writing
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any, Iterator, Sequence

from ..errors import CollectionNotFoundError, IndexBusyError
from ..types import Chunk, Passage
from .manifest import Manifest

log = logging.getLogger(__name__)

_CLIENTS: dict[str, Any] = {}
_MANIFESTS: dict[str, tuple[tuple, Manifest]] = {}
_CLIENT_LOCK = threading.Lock()


def chroma_client(path: Path):
    """One PersistentClient per directory per process, with telemetry off."""
    key = str(path.resolve())
    with _CLIENT_LOCK:
        if key not in _CLIENTS:
            import chromadb
            from chromadb.config import Settings as ChromaSettings

            path.mkdir(parents=True, exist_ok=True)
            _CLIENTS[key] = chromadb.PersistentClient(
                path=key, settings=ChromaSettings(anonymized_telemetry=False, allow_reset=False)
            )
        return _CLIENTS[key]


def _meta(chunk: Chunk) -> dict[str, Any]:
    return {
        "doc_id": chunk.doc_id,
        "source": chunk.source,
        "file_sha256": chunk.file_sha256,
        "title": chunk.title,
        "page_start": chunk.page_start,
        "page_end": chunk.page_end,
        "page_labels": json.dumps(list(chunk.page_labels)),
        "section": json.dumps(list(chunk.section)),
        "section_path": " > ".join(chunk.section),
        "start": chunk.start,
        "end": chunk.end,
        "n_tokens": chunk.n_tokens,
        "index": chunk.index,
    }


def passage_from(pid: str, text: str, meta: dict[str, Any], score: float, rank: int) -> Passage:
    return Passage(
        id=pid, text=text, source=meta["source"], file_sha256=meta["file_sha256"],
        page_start=int(meta["page_start"]), page_end=int(meta["page_end"]),
        page_labels=tuple(json.loads(meta["page_labels"])), section=tuple(json.loads(meta["section"])),
        start=int(meta["start"]), end=int(meta["end"]), score=float(score), rank=rank,
        title=meta.get("title", ""), doc_id=meta.get("doc_id", ""), index=int(meta.get("index", -1)),
    )


class Index:
    """One ragmed collection inside an index directory."""

    def __init__(self, index_dir: Path, collection: str):
        self.index_dir = Path(index_dir)
        self.name = collection
        self.dir = self.index_dir / "collections" / collection
        self.manifest_path = self.dir / "manifest.json"
        self.lock_path = self.dir / "write.lock"

    # -- manifest ---------------------------------------------------------------------------
    def exists(self) -> bool:
        return self.manifest_path.exists()

    def manifest(self, cached: bool = False) -> Manifest | None:
        """The manifest, freshly read (writers mutate it).

        `cached=True` is for readers: the same object is returned until the file changes (it is
        only ever replaced atomically), saving a JSON parse per query. Never mutate it.
        """
        if not cached:
            return Manifest.load(self.manifest_path)
        try:
            st = self.manifest_path.stat()
        except FileNotFoundError:
            return None
        key = (st.st_ino, st.st_mtime_ns, st.st_size)
        hit = _MANIFESTS.get(str(self.manifest_path))
        if hit is None or hit[0] != key:
            m = Manifest.load(self.manifest_path)
            if m is None:
                return None
            hit = _MANIFESTS[str(self.manifest_path)] = (key, m)
        return hit[1]

    def require_manifest(self, cached: bool = False) -> Manifest:
        m = self.manifest(cached=cached)
        if m is None:
            raise CollectionNotFoundError(
                f"Collection {self.name!r} does not exist in {self.index_dir}. "
                f"Create it with `ragmed ingest PATH... --collection {self.name}`"
                + (f" (existing: {', '.join(self.list_names(self.index_dir))})" if self.list_names(self.index_dir) else "")
                + "."
            )
        return m

    @staticmethod
    def list_names(index_dir: Path) -> list[str]:
        base = Path(index_dir) / "collections"
        if not base.is_dir():
            return []
        return sorted(p.name for p in base.iterdir() if (p / "manifest.json").exists())

    # -- chroma ---------------------------------------------------------------------------
    @property
    def client(self):
        return chroma_client(self.index_dir / "chroma")

    def collection(self, create: bool = False):
        if create:
            return self.client.get_or_create_collection(
                self.name, embedding_function=None,
                configuration={"hnsw": {"space": "cosine"}}, metadata={"created_by": "ragmed"},
            )
        try:
            return self.client.get_collection(self.name, embedding_function=None)
        except Exception as exc:
            raise CollectionNotFoundError(
                f"Collection {self.name!r} has a manifest but no Chroma data in {self.index_dir}. "
                f"Rebuild it with `ragmed ingest --rebuild --collection {self.name} PATH...`."
            ) from exc

    def upsert(self, chunks: Sequence[Chunk], embeddings) -> None:
        col = self.collection(create=True)
        step = max(1, min(int(self.client.get_max_batch_size()), 4096))
        for i in range(0, len(chunks), step):
            part = chunks[i : i + step]
            col.upsert(
                ids=[c.id for c in part],
                embeddings=embeddings[i : i + step],
                documents=[c.text for c in part],
                metadatas=[_meta(c) for c in part],
            )

    def delete_versions(self, doc_id: str, keep_sha: str | None = None) -> None:
        """Delete a document's chunks, all versions or all but `keep_sha`."""
        col = self.collection(create=True)
        where: dict[str, Any] = {"doc_id": doc_id}
        if keep_sha is not None:
            where = {"$and": [{"doc_id": doc_id}, {"file_sha256": {"$ne": keep_sha}}]}
        col.delete(where=where)

    def delete_version(self, doc_id: str, sha: str) -> None:
        col = self.collection(create=True)
        col.delete(where={"$and": [{"doc_id": doc_id}, {"file_sha256": sha}]})

    def count(self) -> int:
        return self.collection(create=True).count()

    def all_ids(self) -> list[str]:
        col = self.collection(create=True)
        return sorted(col.get(include=[])["ids"])

    def nearest(
        self, embedding, k: int, where: dict | None = None, with_embeddings: bool = False,
    ) -> tuple[list[str], list[float], list | None]:
        """Ids and cosine similarities of the k nearest chunks (and their vectors), nothing else.

        Without `where` this is a pure HNSW search (a few ms at 100k chunks); a `where` filter makes
        Chroma scan metadata, which costs tens of ms, so callers filter afterwards when they can.
        The result may include chunks of versions not (yet) committed: callers must drop those.
        """
        if k <= 0:
            return [], [], ([] if with_embeddings else None)
        include = ["distances"] + (["embeddings"] if with_embeddings else [])
        res = self.collection().query(
            query_embeddings=[list(map(float, embedding))], n_results=k, where=where or None, include=include,
        )
        ids = list(res["ids"][0])
        sims = [1.0 - float(d) for d in res["distances"][0]]
        vectors = list(res["embeddings"][0]) if with_embeddings else None
        return ids, sims, vectors

    def get(self, ids: list[str], passages: bool = True, embeddings: bool = False) -> dict[str, tuple[Passage | None, Any]]:
        """Chunks by id -> (passage with score 0 or None, vector or None); unknown ids are absent."""
        if not ids:
            return {}
        include = (["documents", "metadatas"] if passages else []) + (["embeddings"] if embeddings else [])
        res = self.collection().get(ids=list(ids), include=include)
        n = len(res["ids"])
        docs = res["documents"] if passages else [None] * n
        metas = res["metadatas"] if passages else [None] * n
        vecs = res["embeddings"] if embeddings else [None] * n
        return {
            pid: (passage_from(pid, text, meta, 0.0, 0) if passages else None, vec)
            for pid, text, meta, vec in zip(res["ids"], docs, metas, vecs)
        }

    def neighbours(self, doc_id: str, sha: str, indices: list[int]) -> dict[int, str]:
        """Texts of a document version's chunks at the given positions."""
        if not indices:
            return {}
        res = self.collection().get(
            where={"$and": [{"doc_id": doc_id}, {"file_sha256": sha}, {"index": {"$in": list(indices)}}]},
            include=["documents", "metadatas"],
        )
        return {int(m["index"]): t for t, m in zip(res["documents"], res["metadatas"])}

    def drop(self) -> None:
        """Delete the collection's vectors and manifest (used by --rebuild)."""
        with contextlib.suppress(Exception):
            self.client.delete_collection(self.name)
        if self.manifest_path.exists():
            self.manifest_path.unlink()

    # -- writer lock ------------------------------------------------------------------------
    @contextlib.contextmanager
    def write_lock(self, wait_s: float = 3.0) -> Iterator[None]:
        """Exclusive writer lock; fails with the holder's pid instead of hanging."""
        self.dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            deadline = time.monotonic() + wait_s
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
                        raise IndexBusyError(
                            f"Collection {self.name!r} is busy: another ingestion (pid {holder}) is "
                            "writing to it. Wait for it to finish and try again."
                        ) from None
                    time.sleep(0.1)
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode(), 0)
            yield
        finally:
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


