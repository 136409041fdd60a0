"""BM25 lexical index (bm25s) kept beside a collection's Chroma data, consistent with its manifest.

Layout inside `collections/<name>/lexical/`:

    versions/<doc_id>.<sha256>.json.gz   terms of every chunk of one document version (written by
                                         ingestion before the version is committed)
    bm25-<stamp>/                        the bm25s matrices of exactly the committed versions
    current.json                         {"stamp", "dir", "chunks"}: which build is current

The *stamp* is a hash of the manifest's committed (document, version) pairs. A build whose stamp
equals the manifest's is exactly the committed set, so readers can trust it; a stale or missing
build (an ingestion was interrupted, or is running now) is rebuilt in memory from the version files
by readers and on disk by the next writer. A version file that is missing (killed before it was
written, or an index made by ragmed 0.1) is recreated from the chunk texts stored in Chroma.

Server mode (`--chroma-url`, `shared=True`): the folder is this workstation's *cache* of a collection
on a Chroma server (store/collection.py says which, when it opens the index). Other workstations change the
collection, so here readers persist what they build: a reader that finds the build stale rebuilds
it on disk (under `rebuild.lock`), fetching the chunk texts of versions it has no term file for
from the server, so each workstation rebuilds once per new manifest. The stamp then also covers
the build settings, and term files made under other settings (a `--rebuild` elsewhere) are dropped.
"""

from __future__ import annotations

import contextlib
import fcntl
import gzip
import hashlib
import json
import logging
import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from ..failpoints import failpoint
from ..tokenize import tokenize
from ..types import Chunk, chunk_embed_text
from .manifest import Manifest, atomic_write_json
from ..files import private_dir

log = logging.getLogger(__name__)

TOKENIZER_VERSION = "1"
BM25_PARAMS = {"k1": 0.9, "b": 0.4, "method": "lucene"}  # chosen on the BioASQ dev split
_CACHE: dict[tuple[str, str], "LexicalSnapshot"] = {}
_CACHE_LOCK = threading.Lock()


def build_hash(manifest: Manifest) -> str:
    return hashlib.sha1(json.dumps(manifest.build, sort_keys=True).encode()).hexdigest()[:20]


def stamp_of(manifest: Manifest, with_build: bool = False) -> str:
    pairs = sorted(f"{d['doc_id']}:{d['sha256']}" for d in manifest.documents.values())
    h = hashlib.sha1(f"tok{TOKENIZER_VERSION}|{BM25_PARAMS}".encode())
    for p in pairs:
        h.update(p.encode())
    if with_build:
        h.update(f"|build {build_hash(manifest)}".encode())
    return h.hexdigest()[:20]


@dataclass(frozen=True)
class ChunkRef:
    """What the lexical side knows about a chunk (for filters and de-duplication)."""

    id: str
    doc_id: str
    sha: str
    section: str
    index: int


@dataclass
class LexicalSnapshot:
    """A loaded BM25 index over one committed set of document versions."""

    stamp: str
    refs: list[ChunkRef]
    bm25: object | None  # bm25s.BM25, None for an empty collection

    def __post_init__(self) -> None:
        self.position = {r.id: i for i, r in enumerate(self.refs)}
        self.sections = frozenset(r.section for r in self.refs)

    def __len__(self) -> int:
        return len(self.refs)

    def scores(self, query_terms: Sequence[str], mask: np.ndarray | None = None) -> np.ndarray:
        """BM25 score of every chunk (0 where `mask`, one 0/1 value per chunk, is 0)."""
        if self.bm25 is None or not query_terms:
            return np.zeros(len(self.refs), dtype=np.float32)
        scores = np.asarray(self.bm25.get_scores(list(query_terms)), dtype=np.float32)
        return scores * mask if mask is not None else scores

    def doc_freq(self, terms: Iterable[str]) -> dict[str, int]:
        """In how many chunks each term occurs (0 = not in the collection)."""
        if self.bm25 is None:
            return {t: 0 for t in terms}
        vocab, indptr = self.bm25.vocab_dict, self.bm25.scores["indptr"]
        out = {}
        for t in terms:
            i = vocab.get(t)
            out[t] = int(indptr[i + 1] - indptr[i]) if i is not None and i + 1 < len(indptr) else 0
        return out

    def score_of(self, scores: np.ndarray, chunk_id: str) -> float:
        i = self.position.get(chunk_id)
        return float(scores[i]) if i is not None else 0.0

    def top(self, scores: np.ndarray, k: int) -> list[tuple[str, float]]:
        """Top-k (chunk id, score) with score > 0."""
        if k <= 0 or not len(scores):
            return []
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(self.refs[i].id, float(scores[i])) for i in top if scores[i] > 0]

    def mask_for(self, shas: Iterable[str] | None = None, sections: Iterable[str] | None = None) -> np.ndarray | None:
        if shas is None and sections is None:
            return None
        shas = set(shas) if shas is not None else None
        secs = set(sections) if sections is not None else None
        return np.fromiter(
            ((shas is None or r.sha in shas) and (secs is None or r.section in secs) for r in self.refs),
            dtype=np.float32, count=len(self.refs),
        )


def _bm25s():
    """Import bm25s; it sets its own logger to DEBUG at import, which would print on the CLI."""
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


def _build_bm25(terms: list[list[str]]):
    bm25s = _bm25s()
    if not terms:
        return None
    bm = bm25s.BM25(**BM25_PARAMS)
    # bm25s needs one token per document at least; an empty chunk gets a placeholder no query has
    bm.index([t if t else ["\x00"] for t in terms], show_progress=False)
    return bm


class LexicalIndex:
    """The lexical side of one collection (see the module docstring). `shared`: the collection is
    on a Chroma server and this folder is a cache that readers rebuild too."""

    def __init__(self, collection_dir: Path, shared: bool = False):
        self.dir = Path(collection_dir) / "lexical"
        self.versions = self.dir / "versions"
        self.current_path = self.dir / "current.json"
        self.shared = shared

    def stamp(self, manifest: Manifest) -> str:
        return stamp_of(manifest, with_build=self.shared)

    @contextlib.contextmanager
    def _rebuild_lock(self):
        """Server mode: one process of this workstation rebuilds at a time (no-op otherwise)."""
        if not self.shared:
            yield
            return
        private_dir(self.dir)
        fd = os.open(self.dir / "rebuild.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _sync_build(self, manifest: Manifest) -> None:
        """Server mode: drop term files made under other build settings (rebuilt elsewhere)."""
        marker = self.dir / "build.json"
        try:
            have = json.loads(marker.read_text(encoding="utf-8")).get("build")
        except (OSError, json.JSONDecodeError, AttributeError):
            have = None
        want = build_hash(manifest)
        if have == want:
            return
        if have is not None:
            log.info("collection was rebuilt with other settings; dropping cached lexical term files")
            shutil.rmtree(self.versions, ignore_errors=True)
        atomic_write_json(marker, {"build": want})

    # -- writer side -------------------------------------------------------------------------
    def version_path(self, doc_id: str, sha: str) -> Path:
        return self.versions / f"{doc_id}.{sha}.json.gz"

    def write_version(self, chunks: Sequence[Chunk]) -> None:
        """Store the terms of one document version (all chunks share doc_id and sha)."""
        if not chunks:
            return
        c0 = chunks[0]
        rows = [
            {"id": c.id, "section": " > ".join(c.section), "index": c.index,
             "terms": tokenize(c.embed_text)}
            for c in chunks
        ]
        self._write_rows(c0.doc_id, c0.file_sha256, rows)

    def write_terms(self, doc_id: str, sha: str, rows: list[dict]) -> None:
        """Store terms computed elsewhere (a distributed build's actors): rows of {"id", "section",
        "index", "terms"}, as `write_version` would write them."""
        self._write_rows(doc_id, sha, rows)

    def _write_rows(self, doc_id: str, sha: str, rows: list[dict]) -> None:
        path = self.version_path(doc_id, sha)
        private_dir(path.parent)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with gzip.open(tmp, "wt", encoding="utf-8", compresslevel=3) as f:
            json.dump({"tokenizer": TOKENIZER_VERSION, "doc_id": doc_id, "sha": sha, "chunks": rows}, f)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)

    def delete_version(self, doc_id: str, sha: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.version_path(doc_id, sha).unlink()

    def delete_versions(self, doc_id: str, keep_sha: str | None = None) -> None:
        if not self.versions.is_dir():
            return
        for p in self.versions.glob(f"{doc_id}.*.json.gz"):
            if keep_sha is None or p.name != f"{doc_id}.{keep_sha}.json.gz":
                with contextlib.suppress(FileNotFoundError):
                    p.unlink()

    def drop(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def is_current(self, manifest: Manifest) -> bool:
        cur = self._current()
        return bool(cur) and cur.get("stamp") == self.stamp(manifest) and (self.dir / cur["dir"]).is_dir()

    def rebuild(self, manifest: Manifest, chroma_collection=None) -> LexicalSnapshot:
        """Build the BM25 index of the committed versions and make it current (writer only;
        in server mode also readers, see the module docstring)."""
        with self._rebuild_lock():
            return self._rebuild(manifest, chroma_collection)

    def _rebuild(self, manifest: Manifest, chroma_collection) -> LexicalSnapshot:
        short: list[str] = []
        if self.shared:
            self._sync_build(manifest)
            self.prune_versions(manifest, [(doc, op["sha256"]) for doc, op in manifest.pending.items()
                                           if op.get("op") == "write"])
        snap = self._snapshot_from_versions(manifest, chroma_collection, write_missing=True, short=short)
        if short:
            # Server mode: chunks of a committed version were missing on the server (replaced by
            # another workstation after this manifest was read): use it, never store it.
            log.info("lexical index built from an outdated manifest; not stored")
            self._remember(snap)
            return snap
        name = f"bm25-{snap.stamp}"
        target = self.dir / name
        tmp = self.dir / f".{name}.{os.getpid()}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        private_dir(tmp)
        if snap.bm25 is not None:
            snap.bm25.save(str(tmp), show_progress=False)
        with gzip.open(tmp / "chunks.json.gz", "wt", encoding="utf-8", compresslevel=3) as f:
            json.dump({"refs": [[r.id, r.doc_id, r.sha, r.section, r.index] for r in snap.refs]}, f)
        shutil.rmtree(target, ignore_errors=True)
        os.replace(tmp, target)
        failpoint("lexical.rebuild_saved")
        atomic_write_json(self.current_path, {"stamp": snap.stamp, "dir": name, "chunks": len(snap.refs)})
        failpoint("lexical.current_written")
        for old in self.dir.glob("bm25-*"):
            if old.name != name:
                shutil.rmtree(old, ignore_errors=True)
        self._remember(snap)
        return snap

    def prune_versions(self, manifest: Manifest, pending_shas: Iterable[str] = ()) -> int:
        """Delete version files that are neither committed nor pending (left by a killed run)."""
        keep = {f"{d['doc_id']}.{d['sha256']}.json.gz" for d in manifest.documents.values()}
        keep |= {f"{doc}.{sha}.json.gz" for doc, sha in pending_shas}
        n = 0
        if self.versions.is_dir():
            for p in self.versions.iterdir():
                if p.name not in keep:
                    with contextlib.suppress(FileNotFoundError):
                        p.unlink()
                        n += 1
        return n

    # -- reader side ------------------------------------------------------------------------
    def snapshot(self, manifest: Manifest, chroma_collection=None) -> LexicalSnapshot:
        """The BM25 index of exactly the manifest's committed versions (cached per process)."""
        stamp = self.stamp(manifest)
        key = (str(self.dir), stamp)
        with _CACHE_LOCK:
            if key in _CACHE:
                return _CACHE[key]
        snap = None
        cur = self._current()
        if cur and cur.get("stamp") == stamp:
            snap = self._load(self.dir / cur["dir"], stamp)
        if snap is None and self.shared:
            # server mode: another workstation changed the collection; build once, keep it on disk
            with self._rebuild_lock():
                cur = self._current()  # another process of this workstation may have just built it
                if cur and cur.get("stamp") == stamp:
                    snap = self._load(self.dir / cur["dir"], stamp)
                if snap is None:
                    log.info("lexical cache is stale (the collection changed on the server); rebuilding it")
                    return self._rebuild(manifest, chroma_collection)
        if snap is None:
            log.info("lexical index is stale (an ingestion is running or was interrupted); "
                     "building it in memory")
            snap = self._snapshot_from_versions(manifest, chroma_collection, write_missing=False)
        self._remember(snap)
        return snap

    def _remember(self, snap: LexicalSnapshot) -> None:
        with _CACHE_LOCK:
            for key in [k for k in _CACHE if k[0] == str(self.dir)]:
                del _CACHE[key]
            _CACHE[(str(self.dir), snap.stamp)] = snap

    def _current(self) -> dict | None:
        try:
            return json.loads(self.current_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return None

    def _load(self, path: Path, stamp: str) -> LexicalSnapshot | None:
        bm25s = _bm25s()
        try:
            with gzip.open(path / "chunks.json.gz", "rt", encoding="utf-8") as f:
                data = json.load(f)
            refs = [ChunkRef(*r) for r in data["refs"]]
            bm = bm25s.BM25.load(str(path), mmap=False, show_progress=False, verbosity=0) if refs else None
        except Exception as exc:  # a damaged build is rebuilt, never trusted
            log.warning("lexical index %s unreadable (%s); rebuilding in memory", path, exc)
            return None
        return LexicalSnapshot(stamp, refs, bm)

    def _read_version(self, doc_id: str, sha: str) -> list[dict] | None:
        path = self.version_path(doc_id, sha)
        try:
            with gzip.open(path, "rt", encoding="utf-8") as f:
                data = json.load(f)
        except (OSError, EOFError, json.JSONDecodeError):
            return None
        if data.get("tokenizer") != TOKENIZER_VERSION:
            return None
        return data["chunks"]

    def _rows_from_chroma(self, chroma_collection, doc_id: str, sha: str) -> list[dict]:
        if chroma_collection is None:
            return []
        got = chroma_collection.get(
            where={"$and": [{"doc_id": doc_id}, {"file_sha256": sha}]}, include=["documents", "metadatas"]
        )
        rows = []
        for cid, text, meta in zip(got["ids"], got["documents"], got["metadatas"]):
            section = json.loads(meta.get("section", "[]"))
            rows.append({"id": cid, "section": " > ".join(section), "index": int(meta.get("index", 0)),
                         "terms": tokenize(chunk_embed_text(meta.get("title", ""), section, text))})
        rows.sort(key=lambda r: r["index"])
        return rows

    def _snapshot_from_versions(self, manifest: Manifest, chroma_collection, write_missing: bool,
                                short: list[str] | None = None) -> LexicalSnapshot:
        """The committed versions' terms; `short` collects keys of versions whose chunks were
        fetched from Chroma and came back fewer than the manifest records."""
        refs: list[ChunkRef] = []
        terms: list[list[str]] = []
        for key in sorted(manifest.documents):
            d = manifest.documents[key]
            doc_id, sha = d["doc_id"], d["sha256"]
            rows = self._read_version(doc_id, sha)
            if rows is None:
                rows = self._rows_from_chroma(chroma_collection, doc_id, sha)
                complete = not self.shared or "chunks" not in d or len(rows) >= int(d["chunks"])
                if short is not None and not complete:
                    short.append(key)
                if write_missing and rows and complete:
                    self._write_rows(doc_id, sha, rows)
            for r in rows:
                refs.append(ChunkRef(r["id"], doc_id, sha, r["section"], int(r["index"])))
                terms.append(r["terms"])
        return LexicalSnapshot(self.stamp(manifest), refs, _build_bm25(terms))
