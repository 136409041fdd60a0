"""Chroma: the embedded and HTTP clients, and `VectorIndex`, one ragmed collection's vectors in Chroma.

Embedded mode keeps every collection of an index directory in one Chroma PersistentClient folder,
`<index_dir>/chroma/`; server mode (`chroma_url`) talks to a Chroma server (`chroma run`) over HTTP.
Each chunk is one Chroma record: id (content hash), vector, text and provenance metadata (`_meta`).

Nearest-neighbour search is Chroma's HNSW index, configured at creation by `HNSW` (space, build
and search breadth, links per node: measured by benchmarks/hnsw_recall.py so that the top 100 agree
with exact search); collections made before that get `ef_search` raised when opened for writing
(Chroma lets it change after creation; the other parameters need `ragmed ingest --rebuild`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from pathlib import Path
from typing import Any, Sequence

from ..config import parse_chroma_url
from ..errors import ChromaServerError, CollectionNotFoundError
from ..types import Chunk, Passage
from ..files import private_dir

log = logging.getLogger(__name__)

_CLIENTS: dict[str, Any] = {}
_CLIENT_LOCK = threading.Lock()

# HNSW settings of new collections (Chroma's names; its defaults: ef_construction 100, ef_search 100,
# max_neighbors 16). Chosen by benchmarks/hnsw_recall.py (results/hnsw_recall.md) on the dev split
# of the guideline collection: the smallest measured setting whose top 100 (the retriever's dense
# depth) reach recall >= 0.99 against exact search (0.9987; Chroma's defaults 0.84; ef_construction
# 200, max_neighbors 32, ef_search 400: 0.989), for about twice the build time (5.1 s against 2.4 s
# for 5,023 chunks) and 1.8 ms per query (0.7 ms). Even so two processes may disagree (the top 100
# were identical for 0.997 of the questions), hence exact search below store/exact.py's limit.
HNSW = {"space": "cosine", "ef_construction": 400, "ef_search": 800, "max_neighbors": 48}



def chroma_client(path: Path):
    """One PersistentClient per directory per process, with telemetry off."""
    key = str(path.resolve())
    with _CLIENT_LOCK:
        if key not in _CLIENTS:
            import chromadb
            from chromadb.config import Settings as ChromaSettings

            private_dir(path)
            _CLIENTS[key] = chromadb.PersistentClient(
                path=key, settings=ChromaSettings(anonymized_telemetry=False, allow_reset=False)
            )
        return _CLIENTS[key]


def refresh_client(path: Path) -> None:
    """Forget this process's client of `path`, so the next use reloads the index from disk. An
    embedded Chroma client keeps its vector index in memory and never sees vectors another process
    added; readers call this when another process has committed a new manifest. Queries already
    running keep their old client."""
    key = str(path.resolve())
    with _CLIENT_LOCK:
        if _CLIENTS.pop(key, None) is not None:
            from chromadb.api.client import SharedSystemClient

            SharedSystemClient._identifier_to_system.pop(key, None)
            SharedSystemClient._identifier_to_refcount.pop(key, None)
            log.debug("reloading the Chroma index in %s after another process wrote to it", path)


# -- server mode ------------------------------------------------------------------------------

def _unreachable(url: str, exc: BaseException | None = None) -> ChromaServerError:
    _, host, port, _ = parse_chroma_url(url)
    why = f" ({type(exc).__name__}: {exc})" if exc is not None and str(exc) else ""
    return ChromaServerError(
        f"Cannot reach the Chroma server at {url}{why}. Is it running? Start it on the machine that "
        f"holds the shared index with `chroma run --host {host} --port {port} --path DIR`, or "
        "correct --chroma-url / RAGMED_CHROMA_URL."
    )


def _transport_errors() -> tuple[type[BaseException], ...]:
    import httpx

    return (httpx.TransportError, ConnectionError)


class _Remote:
    """A Chroma HTTP client or collection whose connection failures become `ChromaServerError`."""

    __slots__ = ("_obj", "_url")

    def __init__(self, obj: Any, url: str):
        self._obj = obj
        self._url = url

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._obj, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                out = attr(*args, **kwargs)
            except _transport_errors() as exc:
                raise _unreachable(self._url, exc) from exc
            return _Remote(out, self._url) if type(out).__name__ == "Collection" else out

        return call


def chroma_http_client(url: str):
    """One HttpClient per server per process (telemetry off); a clear error when it cannot connect."""
    url, host, port, ssl = parse_chroma_url(url)
    with _CLIENT_LOCK:
        if url not in _CLIENTS:
            import chromadb
            import httpx
            from chromadb.config import Settings as ChromaSettings

            try:  # fail in seconds, not after the OS's connect timeout, when the address is wrong
                httpx.get(f"{url}/api/v2/heartbeat", timeout=httpx.Timeout(10.0, connect=5.0)).raise_for_status()
                client = chromadb.HttpClient(host=host, port=port, ssl=ssl,
                                             settings=ChromaSettings(anonymized_telemetry=False))
            except Exception as exc:
                raise _unreachable(url, exc) from exc
            session = getattr(getattr(client, "_server", None), "_session", None)
            if session is not None:  # chromadb waits forever by default; only connecting is bounded
                session.timeout = httpx.Timeout(None, connect=10.0)
            _CLIENTS[url] = _Remote(client, url)
        return _CLIENTS[url]


def hnsw_settings(col) -> dict[str, Any]:
    """The HNSW configuration of a Chroma collection (space, ef_construction, ef_search, ...)."""
    conf = getattr(col, "configuration_json", None) or {}  # `.configuration` warns (deprecated parts)
    return dict(conf.get("hnsw") or {})


def _search_breadth(col) -> None:
    """Raise the search breadth (`ef_search`, changeable after creation) of a collection made with
    a smaller one to `HNSW["ef_search"]`; build-time settings stay as they were (see `doctor`)."""
    have = hnsw_settings(col).get("ef_search")
    if have is not None and int(have) < HNSW["ef_search"]:
        col.modify(configuration={"hnsw": {"ef_search": HNSW["ef_search"]}})
        log.info("raised ef_search of collection %s from %s to %s", col.name, have, HNSW["ef_search"])


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
        "page_breaks": json.dumps(list(chunk.page_breaks)),
    }


def passage_from(pid: str, text: str, meta: dict[str, Any], score: float, rank: int) -> Passage:
    return Passage(
        id=pid, text=text, source=meta["source"], file_sha256=meta["file_sha256"],
        page_start=int(meta["page_start"]), page_end=int(meta["page_end"]),
        page_labels=tuple(json.loads(meta["page_labels"])), section=tuple(json.loads(meta["section"])),
        start=int(meta["start"]), end=int(meta["end"]), score=float(score), rank=rank,
        title=meta.get("title", ""), doc_id=meta.get("doc_id", ""), index=int(meta.get("index", -1)),
        page_breaks=tuple(json.loads(meta.get("page_breaks") or "[]")),  # absent: indexed before they were kept
    )


class VectorIndex:
    """One ragmed collection's chunks in Chroma: embedded (`index_dir/chroma`) or on a server."""

    def __init__(self, index_dir: Path, name: str, chroma_url: str = ""):
        self.index_dir, self.name, self.chroma_url = Path(index_dir), name, chroma_url
        self.location = f"on the Chroma server {chroma_url}" if chroma_url else f"in the folder {self.index_dir.absolute()}"

    @property
    def client(self):
        if self.chroma_url:
            return chroma_http_client(self.chroma_url)
        return chroma_client(self.index_dir / "chroma")

    def refresh(self) -> None:
        """Embedded mode: reload the vectors from disk (another process committed new ones)."""
        if not self.chroma_url:
            refresh_client(self.index_dir / "chroma")

    def collection(self, create: bool = False):
        """The Chroma collection; `create` makes it (with `HNSW`) when missing."""
        if create:
            col = self.client.get_or_create_collection(
                self.name, embedding_function=None, configuration={"hnsw": dict(HNSW)},
                metadata={"created_by": "ragmed"},
            )
            _search_breadth(col)
            return col
        try:
            return self.client.get_collection(self.name, embedding_function=None)
        except ChromaServerError:
            raise
        except Exception as exc:
            raise CollectionNotFoundError(
                f"Collection {self.name!r} has a manifest but no Chroma data {self.location}. "
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
        where: dict[str, Any] = {"doc_id": doc_id}
        if keep_sha is not None:
            where = {"$and": [{"doc_id": doc_id}, {"file_sha256": {"$ne": keep_sha}}]}
        self.collection(create=True).delete(where=where)

    def move_source(self, doc_id: str, source: str) -> int:
        """Set the `source` path of every chunk of `doc_id` (a moved file; vectors unchanged).
        Returns the number of chunks changed."""
        col = self.collection(create=True)
        got = col.get(where={"doc_id": doc_id}, include=["metadatas"])
        if not got["ids"]:
            return 0
        col.update(ids=got["ids"], metadatas=[{**m, "source": source} for m in got["metadatas"]])
        return len(got["ids"])

    def delete_version(self, doc_id: str, sha: str) -> None:
        self.collection(create=True).delete(where={"$and": [{"doc_id": doc_id}, {"file_sha256": sha}]})

    def count(self) -> int:
        return self.collection(create=True).count()

    def all_ids(self) -> list[str]:
        return sorted(self.collection(create=True).get(include=[])["ids"])

    def nearest(
        self, embedding, k: int, where: dict | None = None, with_embeddings: bool = False,
    ) -> tuple[list[str], list[float], list | None]:
        """Ids and cosine similarities of the k nearest chunks (and their vectors), nothing else.

        Without `where` this is a pure HNSW search (a few ms at 100k chunks); a `where` filter makes
        Chroma scan metadata, which costs tens of ms, so callers filter afterwards when they can.
        The result may include chunks of versions not (yet) committed: callers must drop those.
        Ties in distance are ordered by id, so the order does not depend on the graph's layout.
        """
        if k <= 0:
            return [], [], ([] if with_embeddings else None)
        include = ["distances"] + (["embeddings"] if with_embeddings else [])
        res = self.collection().query(
            query_embeddings=[list(map(float, embedding))], n_results=k, where=where or None, include=include,
        )
        ids = list(res["ids"][0])
        dists = [float(d) for d in res["distances"][0]]
        vectors = list(res["embeddings"][0]) if with_embeddings else None
        order = sorted(range(len(ids)), key=lambda i: (dists[i], ids[i]))
        ids = [ids[i] for i in order]
        sims = [1.0 - dists[i] for i in order]
        if vectors is not None:
            vectors = [vectors[i] for i in order]
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
        """Delete the collection's vectors (an unreachable server is reported, not ignored)."""
        client = self.client
        with contextlib.suppress(Exception):
            client.delete_collection(self.name)
