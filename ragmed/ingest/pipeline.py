"""Incremental, crash-safe ingestion of files into one collection.

For each file: hash it; if the manifest already holds that exact version, skip it (nothing is
embedded); otherwise extract it (in a separate process with a time and memory limit, one document
ahead of the embedder: `ingest/isolate.py`), chunk, embed, write the chunks (one call: Chroma vectors and
the lexical terms, store/collection.py), commit the version in the manifest, then delete the previous
version's chunks. At the end the BM25 index is rebuilt from the committed versions' terms (see
`store/lexical.py`). Every step is idempotent (chunk ids are content hashes), and the manifest's
*pending* records let the next run finish or undo whatever a killed run left behind, so a re-run always converges to the index a clean run would build.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from pathlib import Path
from typing import Iterable

from ..version import __version__
from ..embed.onnx import FAMILY
from ..errors import DiskFullError, DocumentError
from ..failpoints import failpoint
from ..store.collection import Collection
from ..store.manifest import Manifest, now
from ..types import DocumentReport, ExtractedDocument, IngestReport, PageIssue
from .chunker import CHUNKER_VERSION, chunk_document
from .dates import record_of
from .extract import file_sha256
from .formats import skip_reason, supported
from .identity import RunIdentity, apply_move, duplicate_report, exclude, restore as restore_paths
from .isolate import extractor
from .progress import Progress

log = logging.getLogger(__name__)


def doc_id_for(path: str) -> str:
    return hashlib.sha256(path.encode()).hexdigest()[:16]


def discover(paths: Iterable[str | Path]) -> tuple[list[Path], list[DocumentReport]]:
    """Expand files and folders into supported files (ingest/formats.py). Bad paths and unsupported
    files named directly become failed reports; files of a folder that are not read become
    "skipped" reports saying why (every one is listed, never skipped silently)."""
    files: list[Path] = []
    problems: list[DocumentReport] = []
    seen: set[str] = set()

    def add(p: Path) -> None:
        key = str(p.resolve())
        if key not in seen:
            seen.add(key)
            files.append(Path(key))

    for raw in paths:
        p = Path(raw).expanduser()
        if p.is_dir():
            for root, dirs, names in os.walk(p, followlinks=False):
                for d in sorted(d for d in dirs if d.startswith(".")):
                    problems.append(DocumentReport(str(Path(root) / d), "skipped", error="hidden folder: not searched"))
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(names):
                    f = Path(root) / name
                    if name.startswith("."):
                        problems.append(DocumentReport(str(f), "skipped", error="hidden file (its name starts with '.')"))
                        continue
                    if not supported(f):
                        problems.append(DocumentReport(str(f), "skipped", error=skip_reason(f)))
                        continue
                    if f.is_file():
                        add(f)
                    else:
                        problems.append(DocumentReport(str(f), "failed", error="broken link or not a regular file"))
        elif p.is_file():
            if supported(p):
                add(p)
            else:
                problems.append(DocumentReport(str(p), "failed", error=skip_reason(p)))
        else:
            problems.append(DocumentReport(str(p), "failed", error="no such file or folder"))
    return files, problems


class Ingestor:
    """Writes documents into one collection of an index. Use `RagMed.ingest` for the public API."""

    REBUILD_EVERY_S = 300.0  # during long runs, refresh the on-disk BM25 index this often

    def __init__(self, index: Collection, embedder, chunk_tokens: int, batch_size: int | None = None,
                 settings=None):
        """`embedder`: the embedder, or a function returning it, called only when a document must be
        chunked and embedded (so a run where nothing changed never loads the model). `settings`: the
        parser worker's limits (isolation, time and memory per document; default: from the environment)."""
        self.index = index
        self._embedder = embedder
        self.chunk_tokens = chunk_tokens
        self.batch_size = batch_size
        self.settings = settings

    @property
    def embedder(self):
        if callable(self._embedder) and not hasattr(self._embedder, "embed"):
            self._embedder = self._embedder()
        return self._embedder

    def build_info(self) -> dict:
        limit = self.embedder.max_text_tokens
        if self.chunk_tokens > limit:
            from ..errors import ConfigError

            raise ConfigError(
                f"chunk_tokens={self.chunk_tokens} exceeds what embedder {self.embedder.id} reads "
                f"({limit} tokens). Use --chunk-tokens {limit} or less."
            )
        return {
            "ragmed_version": __version__,
            "embedder": self.embedder.id,
            "embedder_backend": getattr(self.embedder, "backend", "torch"),
            "embedder_family": FAMILY[getattr(self.embedder, "backend", "torch")],
            "dimension": self.embedder.dimension,
            "distance": "cosine",
            "chunker": {"version": CHUNKER_VERSION, "max_tokens": self.chunk_tokens},
        }

    def open_manifest(self, rebuild: bool = False) -> Manifest:
        build = self.build_info()
        if rebuild:
            self.index.drop()
        manifest = self.index.manifest()
        if manifest is None:
            manifest = self.index.create(build)
        else:
            manifest.check_build(build)
        return manifest

    def recover(self, manifest: Manifest) -> None:
        """Finish or undo what an interrupted run left: never-committed writes, stale versions."""
        if not manifest.pending:
            return
        n = len(manifest.pending)
        for doc_id, op in list(manifest.pending.items()):
            if op.get("op") == "write":
                self.index.delete_version(doc_id, op["sha256"])
            else:  # "cleanup": keep only the committed version (or nothing)
                self.index.delete_versions(doc_id, keep_sha=op.get("keep"))
            del manifest.pending[doc_id]
        manifest.save()
        log.info("recovered %d interrupted document writes", n)

    def run(
        self, paths: Iterable[str | Path], prune: bool = False, rebuild: bool = False,
        progress: bool = False, tags: dict[str, str] | None = None, ocr: str = "auto", restore: bool = False,
    ) -> IngestReport:
        """Ingest files; `tags` (key=value) replace the tags of every document named in this run.
        `ocr`: "auto" | "off" | "force" (ingest/ocr.py). `restore`: clear the exclusions of `paths`
        (documents removed with `docs remove`) first, so they are ingested again."""
        t0 = time.perf_counter()
        report = IngestReport(self.index.name)
        paths = list(paths)
        files, problems = discover(paths)
        report.documents.extend(problems)
        with self.index.write_lock():
            manifest = None if rebuild else self.index.manifest()
            checked_build = manifest is None
            if manifest is None:
                manifest = self.open_manifest(rebuild=rebuild)
            self.recover(manifest)
            if restore and restore_paths(manifest, paths):
                manifest.save()
            identity = RunIdentity(manifest)
            bar = Progress(progress)
            last_rebuild = time.monotonic()
            results: dict[int, DocumentReport] = {}
            todo: list[tuple[int, Path, str]] = []
            try:
                for i, f in enumerate(files):  # hash first: unchanged files are never parsed
                    checked = self._check(manifest, f, tags, identity)
                    if isinstance(checked, DocumentReport):
                        results[i] = checked
                    else:
                        todo.append((i, f, checked))
                if todo and not checked_build:  # something to embed: now the embedder is needed
                    manifest.check_build(self.build_info())
                bar.start([f for _, f, _ in todo])
                # parsed in a limited worker process, one document ahead of the embedder
                parsed = extractor(self.settings).map([(f, sha, ocr) for _, f, sha in todo])
                for (i, f, sha), (_, doc) in zip(todo, parsed):
                    try:
                        results[i] = self._write(manifest, f, sha, doc, tags)
                    except DiskFullError:  # refused before anything of the document was written
                        raise
                    except Exception as exc:
                        if not _disk_full(exc, self.index.index_dir):
                            raise
                        self._undo(manifest, (manifest.documents.get(str(f)) or {}).get("doc_id") or doc_id_for(str(f)), sha)
                        raise DiskFullError(
                            f"The disk holding {self.index.index_dir} is full ({_free_mb(self.index.index_dir)} MB "
                            f"free): {f.name} was not added and the index is as it was. Free some space and run "
                            "the same command again."
                        ) from exc
                    bar.done(f, results[i])
                    if time.monotonic() - last_rebuild > self.REBUILD_EVERY_S:
                        self.finish(manifest)
                        last_rebuild = time.monotonic()
            finally:
                bar.close()
            report.documents.extend(results[i] for i in sorted(results))
            if prune:
                report.documents.extend(self._prune(manifest))
            self.finish(manifest)
        report.seconds = time.perf_counter() - t0
        return report

    def _check(self, manifest: Manifest, f: Path, tags: dict[str, str] | None,
               identity: RunIdentity | None = None) -> DocumentReport | str:
        """The report of a file that needs no parsing (unreadable, unchanged, excluded, moved or a
        duplicate: ingest/identity.py), else its sha256."""
        key = str(f)
        identity = identity or RunIdentity(manifest)
        held = identity.excluded(key)
        if held is not None:
            return held
        try:
            sha = file_sha256(f)
        except OSError as exc:
            return DocumentReport(key, "failed", error=f"cannot read file: {exc.strerror or exc}")
        entry = manifest.documents.get(key)
        same = identity.claim(key, sha) if not (entry and entry["sha256"] == sha) else None
        if same is not None and same[0] == "duplicate":
            return duplicate_report(key, sha, same[1])
        if same is not None:  # a move: nothing embedded
            rep = apply_move(self.index, manifest, same[1], key)
            if tags is not None:
                manifest.documents[key]["tags"] = dict(tags)
                manifest.save()
            return rep
        if entry and entry["sha256"] == sha:
            identity.claimed.setdefault(sha, key)
            if tags is not None and entry.get("tags", {}) != tags:
                entry["tags"] = dict(tags)  # metadata only: nothing is re-embedded
                manifest.save()
            return DocumentReport(
                key, "unchanged", pages=entry.get("pages", 0), chunks=entry.get("chunks", 0), sha256=sha,
                page_issues=_issues(entry.get("pages_without_text", []), entry.get("page_labels", {})),
                ocr_pages=sorted(int(n) for n in entry.get("ocr_pages", {})),
            )
        return sha

    def _write(self, manifest: Manifest, f: Path, sha: str, doc: ExtractedDocument | DocumentError,
               tags: dict[str, str] | None = None) -> DocumentReport:
        key = str(f)
        entry = manifest.documents.get(key)
        if isinstance(doc, DocumentError):
            rep = DocumentReport(key, "failed", error=str(doc), sha256=sha)
            if entry:
                rep.warnings.append("the previously ingested version is kept")
            return rep
        doc_id = (entry or {}).get("doc_id") or doc_id_for(key)  # a moved document keeps its id
        chunks, forced = chunk_document(doc, self.embedder, self.chunk_tokens, doc_id)
        labels = {str(p.number): p.label for p in doc.pages if not p.has_text}
        rep = DocumentReport(
            key, "updated" if entry else "added", pages=len(doc.pages), chunks=len(chunks), sha256=sha,
            page_issues=_issues(doc.pages_without_text, labels), warnings=list(doc.warnings),
            ocr_pages=sorted(doc.ocr_pages),
        )
        if forced:
            rep.warnings.append(f"{forced} over-long sentence(s) or table row(s) split to fit the embedder")
        _check_space(self.index.index_dir, chunks, f)  # never start a write the disk cannot hold
        # 1. announce the write, 2. write chunks, 3. commit the version, 4. drop older versions
        manifest.pending[doc_id] = {"op": "write", "sha256": sha, "source": key}
        manifest.save()
        failpoint("ingest.announced")
        vectors = self.embedder.embed([c.embed_text for c in chunks], batch_size=self.batch_size,
                                      lengths=[c.n_tokens for c in chunks])
        rep.embedded = len(chunks)
        self.index.write_chunks(chunks, vectors)
        stat = f.stat()
        manifest.documents[key] = {
            "doc_id": doc_id, "sha256": sha, "title": doc.title, "kind": doc.kind,
            "pages": len(doc.pages), "chunks": len(chunks), "ingested_at": now(),
            "pages_without_text": doc.pages_without_text, "page_labels": labels,
            "size": stat.st_size,
            **record_of(doc, stat.st_mtime),  # date, date_source, date_evidence (ingest/dates.py)
            "tags": dict(tags) if tags is not None else (entry or {}).get("tags", {}),
        }
        if doc.ocr_pages:  # provenance of OCR'd text, shown with citations of those pages
            manifest.documents[key]["ocr_pages"] = {str(n): v for n, v in sorted(doc.ocr_pages.items())}
        manifest.pending[doc_id] = {"op": "cleanup", "keep": sha, "source": key}
        manifest.save()
        failpoint("ingest.committed")
        if entry:
            self.index.delete_versions(doc_id, keep_sha=sha)
        return rep

    def _undo(self, manifest: Manifest, doc_id: str, sha: str) -> None:
        """Best effort after a failed write: drop the uncommitted version now (if the disk allows;
        otherwise the next run's `recover` does it, as after a crash)."""
        try:
            self.index.delete_version(doc_id, sha)
            if manifest.pending.get(doc_id, {}).get("sha256") == sha:
                del manifest.pending[doc_id]
                manifest.save()
        except Exception:  # still no space: the pending record stays for the next run
            log.warning("could not undo the interrupted write yet; the next ingest will")

    def remove(self, manifest: Manifest, key: str, keep_out: bool = False) -> DocumentReport:
        """Remove a document; `keep_out`: when its file still exists, record the exclusion so ingest
        and sync of its folder do not add it back (ingest/identity.py)."""
        entry = manifest.documents.pop(key)
        if keep_out and Path(key).exists():
            exclude(manifest, key, entry["sha256"])
        manifest.pending[entry["doc_id"]] = {"op": "cleanup", "keep": None, "source": key}
        manifest.save()
        self.index.delete_versions(entry["doc_id"])
        rep = DocumentReport(key, "removed", pages=entry.get("pages", 0), chunks=entry.get("chunks", 0), sha256=entry["sha256"])
        if key in manifest.excluded:
            rep.warnings.append(f"its file is still there: ingest and sync leave it out until "
                                f"`ragmed ingest --restore {key}`")
        return rep

    def _prune(self, manifest: Manifest) -> list[DocumentReport]:
        gone = [k for k in manifest.documents if not Path(k).exists()]
        return [self.remove(manifest, k) for k in gone]

    def finish(self, manifest: Manifest) -> None:
        """Clear cleanup records whose work is done; bring the BM25 index up to the committed set."""
        if manifest.pending:
            manifest.pending = {k: v for k, v in manifest.pending.items() if v.get("op") == "write"}
            manifest.save()
        pending = [(doc, op["sha256"]) for doc, op in manifest.pending.items() if op.get("op") == "write"]
        self.index.refresh_lexical(manifest, pending)


LOW_DISK_MB = 64  # kept free beyond a document's own needs (SQLite journal, vector index growth)
BYTES_PER_CHUNK = 16_384  # vector, HNSW links, text, metadata and full-text index, with room to spare


def _check_space(index_dir: Path, chunks, f: Path) -> None:
    """Refuse to start writing a document when the index's disk could fill up during the write: on a
    full disk Chroma's storage layer can fail in ways that are hard to recover from, or hang."""
    needed = LOW_DISK_MB + (len(chunks) * BYTES_PER_CHUNK + sum(len(c.text) for c in chunks) * 3) // 1_000_000
    free = _free_mb(index_dir)
    if free < needed:
        raise DiskFullError(
            f"The disk holding {index_dir} is full ({free} MB free; writing {f.name} needs about {needed} MB): "
            f"{f.name} was not added and the index is as it was. Free some space and run the same command again."
        )


def _disk_full(exc: BaseException, index_dir: Path) -> bool:
    """ENOSPC/EDQUOT anywhere in the exception chain, SQLite's 'database or disk is full', or any
    write error while the index's disk is nearly full (Chroma's storage layer reports a full disk
    as e.g. 'Error in compaction: Failed to apply logs', without the cause)."""
    import errno

    if _free_mb(index_dir) < LOW_DISK_MB:
        return True

    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        text = str(exc).lower()
        if "disk is full" in text or "no space left" in text:
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def _free_mb(path: Path) -> int:
    try:
        st = os.statvfs(path)
        return st.f_bavail * st.f_frsize // 1_000_000
    except OSError:
        return 0


def _issues(pages: list[int], labels: dict[str, str]) -> list[PageIssue]:
    return [
        PageIssue(p, labels.get(str(p), str(p)), "no extractable text (likely scanned or image-only)")
        for p in pages
    ]

