"""Typed records of ingestion: what happened to each file of a run, and the documents of a
collection (also importable from `ragmed.types`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


def _dict(obj: Any) -> dict[str, Any]:
    return asdict(obj)


@dataclass
class PageIssue:
    page: int
    label: str
    problem: str  # e.g. "no extractable text (likely scanned)"

    def to_dict(self) -> dict[str, Any]:
        return _dict(self)


@dataclass
class DocumentReport:
    """What ingestion did with one file."""

    path: str
    # "added" | "updated" | "unchanged" | "removed" | "failed"; identity (ingest/identity.py):
    # "moved" (same content, new path: nothing embedded), "duplicate" (content indexed under
    # `duplicate_of`), "excluded" (removed on purpose; `ingest --restore`); "skipped": a file in a
    # folder that is not read (`error` says why)
    status: str
    pages: int = 0
    chunks: int = 0
    error: str | None = None
    sha256: str | None = None
    page_issues: list[PageIssue] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    embedded: int = 0  # chunks embedded for this file in this run
    moved_from: str | None = None  # "moved": the path the document was indexed under
    duplicate_of: str | None = None  # "duplicate": the indexed path with the same content
    ocr_pages: list[int] = field(default_factory=list)  # pages whose text was read by OCR

    @property
    def failed(self) -> bool:
        return self.status == "failed"

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "status": self.status,
            "pages": self.pages,
            "chunks": self.chunks,
            "error": self.error,
            "sha256": self.sha256,
            "embedded": self.embedded,
            "page_issues": [p.to_dict() for p in self.page_issues],
            "warnings": list(self.warnings),
            "moved_from": self.moved_from,
            "duplicate_of": self.duplicate_of,
            "ocr_pages": list(self.ocr_pages),
        }


@dataclass
class IngestReport:
    """The per-file result of `RagMed.ingest`."""

    collection: str
    documents: list[DocumentReport] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not any(d.failed for d in self.documents)

    @property
    def failed(self) -> list[DocumentReport]:
        return [d for d in self.documents if d.failed]

    def count(self, status: str) -> int:
        return sum(1 for d in self.documents if d.status == status)

    @property
    def embedded(self) -> int:
        return sum(d.embedded for d in self.documents)

    def to_dict(self) -> dict[str, Any]:
        return {
            "collection": self.collection,
            "ok": self.ok,
            "seconds": round(self.seconds, 3),
            "embedded": self.embedded,
            "documents": [d.to_dict() for d in self.documents],
        }


@dataclass(frozen=True)
class DocumentInfo:
    """A document as recorded in an index's manifest."""

    path: str
    sha256: str
    title: str
    pages: int
    chunks: int
    ingested_at: str
    pages_without_text: tuple[int, ...] = ()
    date: str = ""  # the document's date (its `date` tag, PDF creation date or file date)
    tags: dict[str, str] = field(default_factory=dict)
    date_source: str = ""  # "document text", "pdf metadata", "file modified", "set by admin", "tag" (ingest/dates.py)
    date_evidence: str = ""  # the words the date was read from
    superseded_by: str = ""  # path of the current edition when this one is superseded (store/versions.py)
    superseded_by_date: str = ""
    editions: int = 1  # editions of this guideline in the collection

    def to_dict(self) -> dict[str, Any]:
        d = _dict(self)
        d["pages_without_text"] = list(self.pages_without_text)
        return d
