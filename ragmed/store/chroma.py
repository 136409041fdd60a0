"""Chroma index, one Chroma collection per ragmed collection: embedded, or on a Chroma server.

Embedded mode, the layout of an index directory:

    <index_dir>/chroma/                       Chroma PersistentClient data (all collections)
    <index_dir>/collections/<name>/manifest.json   build settings + committed documents
    <index_dir>/collections/<name>/write.lock      held by the one process writing

Server mode (`chroma_url`, `--chroma-url`, `RAGMED_CHROMA_URL`): several workstations share one
index on a Chroma server (`chroma run`). Everything readers need lives on the server:

    collection <name>                  the chunks (vectors, texts, provenance), as in embedded mode
    collection ragmed.meta             ragmed's own records ('.' never occurs in a ragmed name):
        manifest:<name>                  the manifest JSON (one record: a save is one atomic write,
                                         still the single commit point)
        calibration:<name>               the fitted abstention gate
        lease:<name>:<slot>              the writer lease (holder host and pid, expiry), see _Lease

Each workstation keeps only caches, rebuilt from the server whenever they do not match:

    <index_dir>/servers/<scheme>-<host>-<port>/collections/<name>/
        server.json                    marks the folder as a cache of that server's collection
        lexical/                       BM25 term files and build (retrieve/lexical.py, rebuilt from
                                       the server's chunk texts once per new manifest)
        write.lock                     flock: one writer per workstation (the lease spans machines)
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import re
import socket
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from ..config import parse_chroma_url
from ..errors import ChromaServerError, CollectionNotFoundError, IndexBusyError
from ..types import Chunk, Passage
from .manifest import Manifest, register_store, written_here
from .paths import private_dir

log = logging.getLogger(__name__)

_CLIENTS: dict[str, Any] = {}
_MANIFESTS: dict[str, tuple[Any, Manifest]] = {}
_CLIENT_LOCK = threading.Lock()

META_COLLECTION = "ragmed.meta"
SERVER_MARKER = "server.json"  # retrieve/lexical.py: this collection folder is a server cache
_METAS: dict[str, Any] = {}
_LEASES: dict[tuple[str, str], "_Lease"] = {}
_ONE = [[1.0]]  # meta records carry no meaning in their vector; Chroma needs one


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


def _meta_op(url: str, op: Callable[[Any], Any]) -> Any:
    """Run `op` on the server's ragmed.meta collection (created on first use)."""
    from chromadb.errors import NotFoundError

    for attempt in (0, 1):
        col = _METAS.get(url)
        if col is None:
            col = _METAS[url] = chroma_http_client(url).get_or_create_collection(
                META_COLLECTION, embedding_function=None, metadata={"created_by": "ragmed"})
        try:
            return op(col)
        except NotFoundError:  # the server was reset since: make the collection again
            _METAS.pop(url, None)
            if attempt:
                raise
    return None  # pragma: no cover


def server_cache_dir(index_dir: Path, url: str) -> Path:
    """This workstation's cache folder for a Chroma server (one per server address)."""
    url, host, port, ssl = parse_chroma_url(url)
    key = re.sub(r"[^A-Za-z0-9.-]", "_", f"{'https' if ssl else 'http'}-{host}-{port}")
    return Path(index_dir) / "servers" / key


class _ChromaManifestStore:
    """A collection's manifest as one record of the server's ragmed.meta collection."""

    def __init__(self, url: str, name: str):
        self.url, self.name = url, name
        self.id = f"manifest:{name}"
        self.where = f"{self.id} in {META_COLLECTION} on {url}"

    def read(self) -> str | None:
        got = _meta_op(self.url, lambda c: c.get(ids=[self.id], include=["documents"]))
        return got["documents"][0] if got["ids"] else None

    def write(self, data: dict[str, Any]) -> None:
        lease = _LEASES.get((self.url, self.name))
        if lease is not None:
            lease.check()  # never commit after another workstation took the collection over
        text = json.dumps(data, sort_keys=True, ensure_ascii=False)
        meta = {"kind": "manifest", "collection": self.name, "format": int(data.get("format", 0)),
                "updated_at": str(data.get("updated_at", ""))}
        _meta_op(self.url, lambda c: c.upsert(ids=[self.id], documents=[text], metadatas=[meta], embeddings=_ONE))

    def delete(self) -> None:
        _meta_op(self.url, lambda c: c.delete(ids=[self.id]))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class _Lease:
    """The writer lease of one collection on a Chroma server, so that only one workstation writes.

    Records `lease:<name>:<slot>` hold the holder (host, pid, a random token) and an expiry. To take
    the lease, a writer looks at the highest slot: if it is released, expired, or held by a dead
    process on this host, the writer *adds* the next slot. Chroma ignores an add of an id that
    exists, so of two workstations racing for the same slot only one record lands; each reads it
    back and only the one whose token it holds goes on. The holder renews the expiry in a
    background thread and, before every manifest commit, checks that it still holds the highest
    slot, so a writer that stalled past its expiry and was taken over stops instead of committing.
    Expiry times are the Chroma server's clock (its heartbeat), so workstation clocks may differ.
    """

    def __init__(self, url: str, name: str, ttl_s: float):
        self.url, self.name, self.ttl = url, name, float(ttl_s)
        self.token = uuid.uuid4().hex
        self.host, self.pid = socket.gethostname(), os.getpid()
        self.slot = 0
        self.lost = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _id(self, slot: int) -> str:
        return f"lease:{self.name}:{slot:09d}"

    def records(self) -> list[dict[str, Any]]:
        got = _meta_op(self.url, lambda c: c.get(
            where={"$and": [{"kind": "lease"}, {"collection": self.name}]}, include=["metadatas"]))
        return sorted(got["metadatas"] or [], key=lambda m: int(m["slot"]))

    def now(self) -> float:
        """The server's clock, in seconds (every workstation compares expiries on the same clock)."""
        return chroma_http_client(self.url).heartbeat() / 1e9

    def live(self, rec: dict[str, Any], now: float) -> bool:
        if rec.get("released") or float(rec.get("expires", 0)) <= now:
            return False
        if rec.get("host") == self.host and int(rec.get("pid", 0)) != self.pid and not _pid_alive(int(rec["pid"])):
            return False  # its process on this machine is gone: no need to wait for the expiry
        return True

    def _meta(self, slot: int, expires: float, released: bool = False) -> dict[str, Any]:
        return {"kind": "lease", "collection": self.name, "slot": slot, "token": self.token,
                "host": self.host, "pid": self.pid, "expires": expires, "released": released}

    def try_acquire(self) -> dict[str, Any] | None:
        """Take the lease; on failure, the record of the workstation that holds it."""
        recs = self.records()
        latest = recs[-1] if recs else None
        now = self.now()
        if latest is not None and self.live(latest, now):
            return latest
        slot = int(latest["slot"]) + 1 if latest else 1
        sid = self._id(slot)
        meta = self._meta(slot, now + self.ttl)
        _meta_op(self.url, lambda c: c.add(ids=[sid], documents=[f"{self.host} pid {self.pid}"],
                                           metadatas=[meta], embeddings=_ONE))
        got = _meta_op(self.url, lambda c: c.get(ids=[sid], include=["metadatas"]))
        won = got["metadatas"][0] if got["ids"] else None
        if won is None or won.get("token") != self.token:
            return won or meta  # another workstation took this slot first
        self.slot = slot
        old = [self._id(int(r["slot"])) for r in recs]
        if old:
            _meta_op(self.url, lambda c: c.delete(ids=old))
        self._thread = threading.Thread(target=self._renew_loop, name=f"ragmed-lease-{self.name}", daemon=True)
        self._thread.start()
        return None

    def _mine(self) -> dict[str, Any] | None:
        recs = self.records()
        if recs and int(recs[-1]["slot"]) == self.slot and recs[-1].get("token") == self.token:
            return recs[-1]
        return None

    def renew(self) -> None:
        if self.lost or self._mine() is None:
            self.lost = True
            return
        meta = self._meta(self.slot, self.now() + self.ttl)
        _meta_op(self.url, lambda c: c.upsert(ids=[self._id(self.slot)], documents=[f"{self.host} pid {self.pid}"],
                                              metadatas=[meta], embeddings=_ONE))

    def _renew_loop(self) -> None:
        while not self._stop.wait(max(self.ttl / 6, 0.05)):
            try:
                self.renew()
            except Exception as exc:  # noqa: BLE001 - the next commit's check() reports it
                log.warning("could not renew the writer lease of %s on %s: %s", self.name, self.url, exc)
            if self.lost:
                return

    def check(self) -> None:
        """Raise IndexBusyError unless this process still holds the lease (before each commit)."""
        rec = None if self.lost else self._mine()
        if rec is None or float(rec.get("expires", 0)) <= self.now():
            self.lost = True
            raise IndexBusyError(
                f"Collection {self.name!r}: this ingestion lost its writer lease on the Chroma server "
                f"{self.url} (it stalled longer than {self.ttl:.0f} s and another workstation took the "
                "collection over). Nothing more was committed; run the command again when the other "
                "ingestion has finished."
            )

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        if self.slot and not self.lost:
            with contextlib.suppress(Exception):
                if self._mine() is not None:
                    meta = self._meta(self.slot, 0.0, released=True)
                    _meta_op(self.url, lambda c: c.upsert(ids=[self._id(self.slot)], documents=["released"],
                                                          metadatas=[meta], embeddings=_ONE))


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
    """One ragmed collection inside an index directory, or on a Chroma server (`chroma_url`)."""

    LEASE_TTL_S = 60.0  # server mode: a writer lease not renewed for this long may be taken over

    def __init__(self, index_dir: Path, collection: str, chroma_url: str | None = None):
        self.index_dir = Path(index_dir)
        self.name = collection
        self.chroma_url = parse_chroma_url(chroma_url)[0] if chroma_url else ""
        if self.chroma_url:
            self.dir = server_cache_dir(self.index_dir, self.chroma_url) / "collections" / collection
        else:
            self.dir = self.index_dir / "collections" / collection
        self.manifest_path = self.dir / "manifest.json"
        self.lock_path = self.dir / "write.lock"
        self._store: _ChromaManifestStore | None = None
        if self.chroma_url:
            self._store = _ChromaManifestStore(self.chroma_url, collection)
            register_store(self.manifest_path, self._store)  # Manifest.load/save go to the server
            marker = self.dir / SERVER_MARKER
            if not marker.exists():
                private_dir(self.dir)
                marker.write_text(json.dumps({"chroma_url": self.chroma_url, "collection": collection}) + "\n")

    @property
    def location(self) -> str:
        """Where the collection lives, for messages."""
        return f"on the Chroma server {self.chroma_url}" if self.chroma_url else f"in {self.index_dir}"

    # -- manifest ---------------------------------------------------------------------------
    def exists(self) -> bool:
        if self._store is not None:
            return self._store.read() is not None
        return self.manifest_path.exists()

    def manifest(self, cached: bool = False) -> Manifest | None:
        """The manifest, freshly read (writers mutate it).

        `cached=True` is for readers: the same object is returned until the file changes (it is
        only ever replaced atomically), saving a JSON parse per query. Never mutate it.
        """
        if not cached:
            return Manifest.load(self.manifest_path)
        if self._store is not None:  # one small read from the server; parsed only when it changed
            text = self._store.read()
            if text is None:
                return None
            hit = _MANIFESTS.get(str(self.manifest_path))
            if hit is None or hit[0] != text:
                hit = _MANIFESTS[str(self.manifest_path)] = (text, Manifest.parse(self.manifest_path, text))
            return hit[1]
        try:
            st = self.manifest_path.stat()
        except FileNotFoundError:
            return None
        key = (st.st_ino, st.st_mtime_ns, st.st_size)
        hit = _MANIFESTS.get(str(self.manifest_path))
        if hit is not None and hit[0] != key and not written_here(self.manifest_path, key):
            refresh_client(self.index_dir / "chroma")  # another process committed: see its vectors
        if hit is None or hit[0] != key:
            m = Manifest.load(self.manifest_path)
            if m is None:
                return None
            hit = _MANIFESTS[str(self.manifest_path)] = (key, m)
        return hit[1]

    def require_manifest(self, cached: bool = False) -> Manifest:
        m = self.manifest(cached=cached)
        if m is None:
            names = self.list_names(self.index_dir, self.chroma_url)
            raise CollectionNotFoundError(
                f"Collection {self.name!r} does not exist {self.location}. "
                f"Create it with `ragmed ingest PATH... --collection {self.name}`"
                + (f" (existing: {', '.join(names)})" if names else "")
                + "."
            )
        return m

    @staticmethod
    def list_names(index_dir: Path, chroma_url: str | None = None) -> list[str]:
        """The collections of an index directory, or of a Chroma server when `chroma_url` is set."""
        if chroma_url:
            url = parse_chroma_url(chroma_url)[0]
            got = _meta_op(url, lambda c: c.get(where={"kind": "manifest"}, include=["metadatas"]))
            return sorted(m["collection"] for m in got["metadatas"] or [])
        base = Path(index_dir) / "collections"
        if not base.is_dir():
            return []
        return sorted(p.name for p in base.iterdir() if (p / "manifest.json").exists())

    # -- chroma ---------------------------------------------------------------------------
    @property
    def client(self):
        if self.chroma_url:
            return chroma_http_client(self.chroma_url)
        return chroma_client(self.index_dir / "chroma")

    def collection(self, create: bool = False):
        if create:
            return self.client.get_or_create_collection(
                self.name, embedding_function=None,
                configuration={"hnsw": {"space": "cosine"}}, metadata={"created_by": "ragmed"},
            )
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
        if self.chroma_url:
            client = self.client  # unreachable: say so, rather than pretend it was dropped
            with contextlib.suppress(Exception):
                client.delete_collection(self.name)
            self._store.delete()
            return
        with contextlib.suppress(Exception):
            self.client.delete_collection(self.name)
        if self.manifest_path.exists():
            self.manifest_path.unlink()

    # -- abstention gate calibration ---------------------------------------------------------
    @property
    def calibration_location(self) -> str:
        from ..ground import gate

        if self.chroma_url:
            return f"calibration:{self.name} in {META_COLLECTION} on {self.chroma_url}"
        return str(self.dir / gate.CALIBRATION_FILE)

    def load_calibration(self):
        """The collection's fitted abstention gate, else the default one."""
        from ..ground import gate

        if not self.chroma_url:
            return gate.load(self.dir)
        rid = f"calibration:{self.name}"
        got = _meta_op(self.chroma_url, lambda c: c.get(ids=[rid], include=["documents"]))
        if not got["ids"]:
            return gate.DEFAULT
        try:
            return gate.Calibration.from_dict(json.loads(got["documents"][0]))
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("ignoring %s (%s); using the default gate", self.calibration_location, exc)
            return gate.DEFAULT

    def save_calibration(self, calibration) -> str:
        """Store a fitted gate with the collection (call inside `write_lock`); returns where."""
        from ..ground import gate

        if not self.chroma_url:
            return str(gate.save(self.dir, calibration))
        rid = f"calibration:{self.name}"
        text = json.dumps(calibration.to_dict(), sort_keys=True)
        meta = {"kind": "calibration", "collection": self.name}
        _meta_op(self.chroma_url, lambda c: c.upsert(ids=[rid], documents=[text], metadatas=[meta], embeddings=_ONE))
        return self.calibration_location

    # -- writer lock ------------------------------------------------------------------------
    @contextlib.contextmanager
    def write_lock(self, wait_s: float = 3.0) -> Iterator[None]:
        """Exclusive writer lock; fails with the holder's pid instead of hanging.

        In server mode the local lock keeps one writer per workstation and a lease on the server
        (`_Lease`) one writer across workstations.
        """
        with self._local_lock(wait_s):
            if not self.chroma_url:
                yield
                return
            lease = self._acquire_lease(wait_s)
            _LEASES[(self.chroma_url, self.name)] = lease
            try:
                yield
            finally:
                _LEASES.pop((self.chroma_url, self.name), None)
                lease.release()

    def _acquire_lease(self, wait_s: float) -> _Lease:
        lease = _Lease(self.chroma_url, self.name, self.LEASE_TTL_S)
        deadline = time.monotonic() + wait_s
        while True:
            holder = lease.try_acquire()
            if holder is None:
                return lease
            if time.monotonic() >= deadline:
                until = time.strftime("%H:%M:%S", time.localtime(float(holder.get("expires", 0))))
                raise IndexBusyError(
                    f"Collection {self.name!r} is busy: another ingestion (host {holder.get('host')}, "
                    f"pid {holder.get('pid')}) is writing to it on the Chroma server {self.chroma_url}. "
                    f"Wait for it to finish and try again (its lease runs until {until} unless renewed)."
                )
            time.sleep(min(0.5, max(0.05, deadline - time.monotonic())))

    @contextlib.contextmanager
    def _local_lock(self, wait_s: float) -> Iterator[None]:
        private_dir(self.dir)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
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


