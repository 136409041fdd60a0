"""The collection manifest: how an index was built and which document versions are committed.

The manifest is the source of truth for what readers see. Chunks of a document version become
visible only once the manifest names that version, and the manifest is replaced atomically
(write a temporary file, fsync, rename), so an interrupted ingestion never shows half a document.
Before writing a document's chunks, ingestion records the version as *pending*; a later run
removes the chunks of pending versions that never got committed.

Where the manifest is kept is a *store*, chosen by the collection (store/collection.py):
`manifest.json` on disk (`FileStore`), or in server mode (`--chroma-url`) one record in the Chroma
server's `ragmed.meta` collection (store/server.py), so every workstation reads the same one. Either
way a save is one atomic write, the single commit point.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import IndexMismatchError, RagmedError
from ..failpoints import failpoint
from ..types import DocumentInfo, document_date

from ..files import atomic_write_json, now  # noqa: E402,F401 (re-exported)

FORMAT = 1


class FileStore:
    """The manifest as a JSON file on local disk (embedded mode)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.where = str(self.path)

    def read(self) -> str | None:
        if not self.path.exists():
            return None
        return self.path.read_text(encoding="utf-8")

    def write(self, data: dict[str, Any]) -> None:
        atomic_write_json(self.path, data, before_replace=lambda: failpoint("manifest.tmp_written"))
        _OWN_WRITES[str(self.path)] = file_key(self.path)


_OWN_WRITES: dict[str, tuple] = {}


def file_key(path: Path) -> tuple | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def written_here(path: Path, key: tuple) -> bool:
    """Whether this process wrote the manifest version with this stat key (else another did)."""
    return _OWN_WRITES.get(str(path)) == key


def document_date_source(record: dict[str, Any]) -> str:
    """Where a manifest record's `types.document_date` came from: "tag" for a `date` tag, else the
    source ingestion recorded with its date (`date_source`: "document text", "file modified", ... as
    in ingest/dates.py), "" when unknown. The one rule for listings and LangChain metadata."""
    return "tag" if (record.get("tags") or {}).get("date") else str(record.get("date_source", "") or "")


@dataclass
class Manifest:
    """A collection's manifest. `store` is where it is kept: anything with `read() -> str | None`,
    `write(dict)` and `where` (a description for messages): `FileStore` or the server's record."""

    store: Any = field(compare=False, repr=False)
    collection: str
    build: dict[str, Any]
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)
    pending: dict[str, dict[str, str]] = field(default_factory=dict)  # doc_id -> {sha256, source}
    # documents removed by `docs remove` whose files may still be in an ingested folder: kept out of
    # ingest and sync until `ingest --restore` (ingest/identity.py). path -> {sha256, removed_at}
    excluded: dict[str, dict[str, str]] = field(default_factory=dict)
    created_at: str = field(default_factory=now)
    updated_at: str = field(default_factory=now)

    @classmethod
    def load(cls, store: Any) -> "Manifest | None":
        """The manifest kept in `store`, None when there is none."""
        try:
            text = store.read()
        except OSError as exc:
            raise RagmedError(
                f"The index manifest {store.where} is unreadable ({exc}). Rebuild the collection with "
                "`ragmed ingest --rebuild PATH...`."
            ) from exc
        return None if text is None else cls.parse(store, text)

    @classmethod
    def parse(cls, store: Any, text: str) -> "Manifest":
        """A manifest from its JSON text (as read from `store`)."""
        where = store.where
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise RagmedError(
                f"The index manifest {where} is unreadable ({exc}). Rebuild the collection with "
                "`ragmed ingest --rebuild PATH...`."
            ) from exc
        if data.get("format") != FORMAT:
            shown = store.path.parent if isinstance(store, FileStore) else where
            raise IndexMismatchError(
                f"The index at {shown} has manifest format {data.get('format')}; this ragmed "
                f"reads format {FORMAT}. Rebuild it with `ragmed ingest --rebuild PATH...`."
            )
        return cls(
            store=store, collection=data["collection"], build=data["build"],
            documents=data.get("documents", {}), pending=data.get("pending", {}),
            excluded=data.get("excluded", {}),
            created_at=data.get("created_at", now()), updated_at=data.get("updated_at", now()),
        )

    def save(self) -> None:
        self.updated_at = now()
        self.store.write(
            {
                "format": FORMAT, "collection": self.collection, "build": self.build,
                "documents": self.documents, "pending": self.pending, "excluded": self.excluded,
                "created_at": self.created_at, "updated_at": self.updated_at,
            },
        )

    def check_build(self, build: dict[str, Any]) -> None:
        """Refuse to mix embedders or chunkers within one collection."""
        mine, theirs = self.build, build
        problems = []
        if mine.get("embedder") != theirs.get("embedder"):
            problems.append(f"embedder {mine.get('embedder')!r} (requested {theirs.get('embedder')!r})")
        elif mine.get("dimension") != theirs.get("dimension"):
            problems.append(f"dimension {mine.get('dimension')} (requested {theirs.get('dimension')})")
        else:  # torch and onnx give the same vectors; each int8 scheme is a family of its own
            from ..embed.onnx import vector_family

            f_mine, f_theirs = vector_family(mine), vector_family(theirs)
            if f_mine != f_theirs:
                problems.append(
                    f"embedder backend {mine.get('embedder_backend', 'torch')!r}, vectors {f_mine!r} (requested "
                    f"{theirs.get('embedder_backend', 'torch')!r}, vectors {f_theirs!r}; not interchangeable)")
        if mine.get("chunker") != theirs.get("chunker") and theirs.get("chunker") is not None:
            old_v, new_v = (mine.get("chunker") or {}).get("version"), theirs["chunker"].get("version")
            if not problems and old_v != new_v:  # ragmed changed, not the user's settings
                raise IndexMismatchError(
                    f"Collection {self.collection!r} was built by an older ragmed (chunker version {old_v}; "
                    f"this one reads and chunks documents as version {new_v}: see CHUNKER_VERSION in "
                    "ragmed/ingest/chunker.py). It can still be searched, but new or changed documents "
                    "cannot be mixed into it. Rebuild it once from its documents: "
                    f"`ragmed ingest --rebuild --collection {self.collection} PATH...` (the files and "
                    "folders it holds: `ragmed docs list`).")
            problems.append(f"chunker settings {mine.get('chunker')} (requested {theirs.get('chunker')})")
        if problems:
            raise IndexMismatchError(
                f"Collection {self.collection!r} was built with " + "; ".join(problems) + ". "
                "Use the same settings, or rebuild it with the new ones: "
                f"`ragmed ingest --rebuild --collection {self.collection} PATH...` "
                "(or pick another --collection)."
            )

    def committed_shas(self) -> list[str]:
        return sorted({d["sha256"] for d in self.documents.values()})

    def infos(self) -> list[DocumentInfo]:
        return [
            DocumentInfo(
                path=p, sha256=d["sha256"], title=d.get("title", ""), pages=d.get("pages", 0),
                chunks=d.get("chunks", 0), ingested_at=d.get("ingested_at", ""),
                pages_without_text=tuple(d.get("pages_without_text", [])),
                date=document_date(d), tags=dict(d.get("tags", {})),
                date_source=document_date_source(d),
                date_evidence=d.get("date_evidence", ""),
            )
            for p, d in sorted(self.documents.items())
        ]
