"""`Collection`: everything one ragmed collection holds, and every write to it, in one object.

A collection owns four things, and nothing else reads or writes them directly:

    vectors       the chunks in Chroma: vector, text, provenance (store/chroma.py, `VectorIndex`)
    lexical       the BM25 index of the committed chunks (store/lexical.py, `LexicalIndex`)
    manifest      build settings + committed and pending document versions, the commit point
                  (store/manifest.py)
    calibration   the fitted abstention gate, as JSON (ground/gate.py makes and reads it)

It lives in one of two places, and says which in `shared`:

    local (shared=False)   <index_dir>/chroma/                           Chroma PersistentClient
                           <index_dir>/collections/<name>/manifest.json
                           <index_dir>/collections/<name>/calibration.json
                           <index_dir>/collections/<name>/lexical/
                           <index_dir>/collections/<name>/write.lock     flock of the one writer
    shared (shared=True)   on a Chroma server (`chroma_url`): the chunks, and the manifest and
                           calibration as records of `ragmed.meta` (store/server.py); this
                           workstation keeps only caches, rebuilt whenever they do not match:
                           <index_dir>/servers/<scheme>-<host>-<port>/collections/<name>/
                               lexical/     BM25 files, rebuilt from the server's chunk texts
                               write.lock   one writer per workstation (the lease spans machines)

Write steps, each one call (ingest/pipeline.py strings them together, with the manifest between):
`create`, `write_chunks`, `delete_version`, `delete_versions`, `drop`, `refresh_lexical`,
`save_calibration`; all inside `write_lock()`.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import re
import time
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from ..config import parse_chroma_url
from ..errors import CollectionNotFoundError, IndexBusyError
from ..failpoints import failpoint
from ..types import Chunk, Passage
from . import exact, server
from .chroma import VectorIndex
from .lexical import LexicalIndex, LexicalSnapshot
from .manifest import FileStore, Manifest, atomic_write_json, written_here
from ..files import private_dir

log = logging.getLogger(__name__)

CALIBRATION_FILE = "calibration.json"
_MANIFESTS: dict[str, tuple[Any, Manifest]] = {}  # manifest location -> (version key, parsed manifest)


def server_cache_dir(index_dir: Path, url: str) -> Path:
    """This workstation's cache folder for a Chroma server (one per server address)."""
    url, host, port, ssl = parse_chroma_url(url)
    key = re.sub(r"[^A-Za-z0-9.-]", "_", f"{'https' if ssl else 'http'}-{host}-{port}")
    return Path(index_dir) / "servers" / key


class Collection:
    """One ragmed collection inside an index directory, or on a Chroma server (`chroma_url`).

    `shared` is True when the collection is on a Chroma server (other workstations read and write
    it); then `index_dir` holds only this workstation's caches."""

    LEASE_TTL_S = 60.0  # server mode: a writer lease not renewed for this long may be taken over

    def __init__(self, index_dir: Path, collection: str, chroma_url: str | None = None):
        self.index_dir = Path(index_dir)
        self.name = collection
        self.chroma_url = parse_chroma_url(chroma_url)[0] if chroma_url else ""
        self.shared = bool(self.chroma_url)
        base = server_cache_dir(self.index_dir, self.chroma_url) if self.shared else self.index_dir
        self.dir = base / "collections" / collection
        self.manifest_path = self.dir / "manifest.json"  # local mode only
        self.lock_path = self.dir / "write.lock"
        self.vectors = VectorIndex(self.index_dir, collection, self.chroma_url)
        self.lexical = LexicalIndex(self.dir, shared=self.shared)
        self._manifests: Any = (server.ServerManifestStore(self.chroma_url, collection) if self.shared
                                else FileStore(self.manifest_path))
        if self.shared:  # this workstation's cache folder exists from the start (as before)
            private_dir(self.dir)

    @property
    def location(self) -> str:
        """Where the collection lives, for messages."""
        return self.vectors.location

    # -- manifest -----------------------------------------------------------------------------
    def exists(self) -> bool:
        return self._manifests.read() is not None

    def manifest_text(self) -> str:
        """The manifest as stored (JSON), "" when there is none (for provenance records)."""
        return self._manifests.read() or ""

    def manifest(self, cached: bool = False) -> Manifest | None:
        """The manifest, freshly read (writers mutate it).

        `cached=True` is for readers: the same object is returned until the stored manifest changes
        (it is only ever replaced atomically), saving a JSON parse per query. Never mutate it.
        """
        if not cached:
            return Manifest.load(self._manifests)
        where = self._manifests.where
        if self.shared:  # one small read from the server; parsed only when it changed
            text = self._manifests.read()
            if text is None:
                return None
            hit = _MANIFESTS.get(where)
            if hit is None or hit[0] != text:
                hit = _MANIFESTS[where] = (text, Manifest.parse(self._manifests, text))
            return hit[1]
        try:
            st = self.manifest_path.stat()
        except FileNotFoundError:
            return None
        key = (st.st_ino, st.st_mtime_ns, st.st_size)
        hit = _MANIFESTS.get(where)
        if hit is not None and hit[0] != key and not written_here(self.manifest_path, key):
            self.vectors.refresh()  # another process committed: see its vectors
        if hit is None or hit[0] != key:
            m = Manifest.load(self._manifests)
            if m is None:
                return None
            hit = _MANIFESTS[where] = (key, m)
        return hit[1]

    def require_manifest(self, cached: bool = False) -> Manifest:
        m = self.manifest(cached=cached)
        if m is None:
            names = self.list_names(self.index_dir, self.chroma_url)
            raise CollectionNotFoundError(
                f"Collection {self.name!r} does not exist {self.location}. "
                f"Create it with `ragmed ingest PATH... --collection {self.name}`"
                + (f" (existing: {', '.join(names)})" if names else "")
                + ("" if self.shared else ", or look in another folder with --index-dir DIR "
                   "(or $RAGMED_INDEX_DIR, $RAGMED_HOME)")
                + "."
            )
        return m

    @staticmethod
    def list_names(index_dir: Path, chroma_url: str | None = None) -> list[str]:
        """The collections of an index directory, or of a Chroma server when `chroma_url` is set."""
        if chroma_url:
            return server.collection_names(parse_chroma_url(chroma_url)[0])
        base = Path(index_dir) / "collections"
        if not base.is_dir():
            return []
        return sorted(p.name for p in base.iterdir() if (p / "manifest.json").exists())

    # -- reading the chunks ----------------------------------------------------------------------
    def chroma(self, create: bool = False):
        """The Chroma collection itself (for reads the methods below do not cover)."""
        return self.vectors.collection(create=create)

    def count(self) -> int:
        return self.vectors.count()

    def all_ids(self) -> list[str]:
        return self.vectors.all_ids()

    def nearest(self, embedding, k: int, where: dict | None = None, with_embeddings: bool = False):
        """See `VectorIndex.nearest`."""
        return self.vectors.nearest(embedding, k, where=where, with_embeddings=with_embeddings)

    def get(self, ids: list[str], passages: bool = True, embeddings: bool = False) -> dict[str, tuple[Passage | None, Any]]:
        """See `VectorIndex.get`."""
        return self.vectors.get(ids, passages=passages, embeddings=embeddings)

    def neighbours(self, doc_id: str, sha: str, indices: list[int]) -> dict[int, str]:
        return self.vectors.neighbours(doc_id, sha, indices)

    def lexical_snapshot(self, manifest: Manifest | None = None) -> LexicalSnapshot:
        """The BM25 index of exactly the committed versions of `manifest` (default: the current one)."""
        manifest = manifest or self.require_manifest(cached=True)
        return self.lexical.snapshot(manifest, self.chroma())

    def exact_vectors(self, snapshot: LexicalSnapshot) -> exact.ExactVectors | None:
        """The committed chunks' vectors for exact dense search (store/exact.py), or None when the
        collection has more than `exact.EXACT_MAX_CHUNKS` chunks (Chroma's HNSW search then)."""
        if not len(snapshot) or len(snapshot) > exact.EXACT_MAX_CHUNKS:
            return None
        return exact.load(str(self.dir), snapshot.stamp, [r.id for r in snapshot.refs], self.chroma())

    # -- write steps (inside write_lock) --------------------------------------------------------
    def create(self, build: dict[str, Any]) -> Manifest:
        """Make the (empty) collection with these build settings; returns its saved manifest."""
        self.chroma(create=True)
        manifest = Manifest(self._manifests, self.name, build)
        manifest.save()
        return manifest

    def write_chunks(self, chunks: Sequence[Chunk], vectors) -> None:
        """Store the chunks of one document version: vectors and texts, then their BM25 terms.
        Not visible to readers until the manifest commits the version."""
        self.vectors.upsert(chunks, vectors)
        failpoint("ingest.upserted")
        self.lexical.write_version(chunks)
        failpoint("lexical.version_written")

    def delete_version(self, doc_id: str, sha: str) -> None:
        """Delete one version of a document (vectors and terms)."""
        self.vectors.delete_version(doc_id, sha)
        self.lexical.delete_version(doc_id, sha)

    def move_source(self, doc_id: str, source: str) -> int:
        """A document's file moved: its chunks name `source` from now on (nothing re-embedded; the
        BM25 terms hold no path). Commit the move in the manifest after this call."""
        return self.vectors.move_source(doc_id, source)

    def delete_versions(self, doc_id: str, keep_sha: str | None = None) -> None:
        """Delete every version of a document, or every one but `keep_sha` (vectors and terms)."""
        self.vectors.delete_versions(doc_id, keep_sha=keep_sha)
        self.lexical.delete_versions(doc_id, keep_sha=keep_sha)

    def drop(self) -> None:
        """Delete the collection's vectors, BM25 files and manifest (used by --rebuild)."""
        self.vectors.drop()
        if self.shared:
            self._manifests.delete()
        elif self.manifest_path.exists():
            self.manifest_path.unlink()
        self.lexical.drop()

    def refresh_lexical(self, manifest: Manifest, pending: Iterable[tuple[str, str]] = ()) -> None:
        """Bring the on-disk BM25 index to the manifest's committed set; `pending` (doc_id, sha)
        pairs are versions being written, whose term files are kept."""
        self.lexical.prune_versions(manifest, pending)
        if not self.lexical.is_current(manifest):
            self.lexical.rebuild(manifest, self.chroma(create=True))

    # -- abstention gate calibration -------------------------------------------------------------
    @property
    def calibration_location(self) -> str:
        if self.shared:
            return f"calibration:{self.name} in {server.META_COLLECTION} on {self.chroma_url}"
        return str(self.dir / CALIBRATION_FILE)

    def read_calibration(self) -> dict | None:
        """The stored calibration (a `Calibration.to_dict()`), None when there is none or it is
        unreadable (logged: the caller falls back to the default gate)."""
        try:
            if self.shared:
                text = server.read_calibration(self.chroma_url, self.name)
            else:
                path = self.dir / CALIBRATION_FILE
                text = path.read_text(encoding="utf-8") if path.exists() else None
            return None if text is None else dict(json.loads(text))
        except (OSError, ValueError, TypeError) as exc:
            log.warning("ignoring %s (%s); using the default gate", self.calibration_location, exc)
            return None

    def save_calibration(self, data: dict) -> str:
        """Store a fitted gate (`Calibration.to_dict()`) with the collection, atomically (call inside
        `write_lock`); returns where."""
        if self.shared:
            server.write_calibration(self.chroma_url, self.name, data)
        else:
            atomic_write_json(self.dir / CALIBRATION_FILE, data)
        return self.calibration_location

    # -- writer lock ----------------------------------------------------------------------------
    @contextlib.contextmanager
    def write_lock(self, wait_s: float = 3.0) -> Iterator[None]:
        """Exclusive writer lock; fails with the holder's pid instead of hanging.

        Shared collections: the local lock keeps one writer per workstation and a lease on the
        server (store/server.py, `Lease`) one writer across workstations; every manifest save
        checks the lease first.
        """
        with self._local_lock(wait_s):
            if not self.shared:
                yield
                return
            lease = self._acquire_lease(wait_s)
            self._manifests.lease = lease
            try:
                yield
            finally:
                self._manifests.lease = None
                lease.release()

    def _acquire_lease(self, wait_s: float) -> server.Lease:
        lease = server.Lease(self.chroma_url, self.name, self.LEASE_TTL_S)
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
