"""The server's state and the work behind its routes, kept apart from HTTP details.

One `Service` per server process: the settings, a `RagMed` per collection (they share the embedder,
Chroma client and the one llama.cpp model of the process), the model queue and the ingest jobs.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, AsyncIterator

from .. import oplog
from ..api import RagMed
from ..config import Settings
from ..errors import CollectionNotFoundError, InputError
from ..ingest.pipeline import doc_id_for
from ..files import private_dir
from .errors import STATUS, error_body, error_payload, status_of  # noqa: F401 - re-exported
from .jobs import IngestJob, IngestJobs, ModelQueue
from .security import TokenCheck, inside, safe_upload_name

PDF_MAGIC = b"%PDF-"


@dataclass(frozen=True)
class ServerConfig:
    settings: Settings
    host: str = "127.0.0.1"
    port: int = 8000
    token: str | None = None
    queue_size: int = 8  # requests waiting for or using the model; the next gets 503
    max_upload_mb: float = 50.0
    upload_dir: Path | None = None  # default: <index_dir>/uploads/<collection>/
    staff_token: str | None = None  # may ask, search and read; `token` is the admin's (security.py)
    trash_days: float = 30.0  # removed documents are restorable this long (ragmed/trash.py)
    preload: bool = False  # load the embedder and the model when the server starts (`ragmed serve`)
    thread_retention_days: float = 30.0  # server-side threads (threads.py); 0: no threads kept

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def uploads(self) -> Path:
        return Path(self.upload_dir) if self.upload_dir else Path(self.settings.index_dir) / "uploads"


def sse(event: str, data: Any) -> bytes:
    """One server-sent event (data is JSON, on one line)."""
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


class ClientGone(Exception):
    """Raised inside generation when the streaming client has disconnected (stops the model)."""


class Service:
    MAX_RAGS = 32

    def __init__(self, config: ServerConfig):
        self.config = config
        self.settings = config.settings
        self.auth = TokenCheck(config.token, config.staff_token)
        self.models = ModelQueue(config.queue_size)
        self.ingests = IngestJobs(self._ingest)
        self._rags: OrderedDict[tuple, RagMed] = OrderedDict()
        from .threads import ThreadStore

        self.threads = ThreadStore(Path(self.settings.index_dir) / "threads", config.thread_retention_days)
        self.threads.purge()
        self._lock = threading.Lock()

    # -- collections -------------------------------------------------------------------------
    def rag(self, collection: str | None = None, **overrides: Any) -> RagMed:
        """The RagMed of a collection (with generation overrides), created once and reused."""
        name = collection or self.settings.collection
        key = (name, tuple(sorted((k, v) for k, v in overrides.items() if v is not None)))
        with self._lock:
            rag = self._rags.get(key)
            if rag is None:
                rag = RagMed(settings=self.settings, collection=name, **dict(key[1]))
                self._rags[key] = rag
                while len(self._rags) > self.MAX_RAGS:
                    self._rags.popitem(last=False)
            else:
                self._rags.move_to_end(key)
            return rag

    def collections(self) -> list[dict[str, Any]]:
        from ..store.collection import Collection

        out = []
        for name in Collection.list_names(Path(self.settings.index_dir), self.settings.chroma_url or None):
            m = self.rag(name).index.manifest(cached=True)
            docs = m.documents if m else {}
            out.append({"name": name, "documents": len(docs),
                        "chunks": sum(int(d.get("chunks", 0)) for d in docs.values())})
        return out

    def upload_dir(self, collection: str) -> Path:
        self.rag(collection)  # validates the name
        return self.config.uploads / collection

    def documents(self, collection: str) -> dict[str, Any]:
        rag = self.rag(collection)
        uploads = self.config.uploads.resolve() / collection
        docs = []
        if rag.index.exists():
            for info in rag.documents():
                d = info.to_dict()
                d["doc_id"] = doc_id_for(info.path)
                d["file_name"] = Path(info.path).name
                d["uploaded"] = Path(info.path).parent == uploads
                d["status"] = "indexed"
                docs.append(d)
        jobs = [j.to_dict() for j in self.ingests.for_collection(collection)]
        return {"collection": collection, "exists": rag.index.exists(), "documents": docs, "jobs": jobs}

    def document_path(self, collection: str, doc_id: str) -> Path:
        """The file of an indexed document (only documents in the manifest are ever served)."""
        rag = self.rag(collection)
        for info in rag.index.require_manifest(cached=True).infos():
            if doc_id_for(info.path) == doc_id:
                return Path(info.path)
        raise CollectionNotFoundError(f"No document {doc_id!r} in collection {collection!r}.")

    def set_date(self, collection: str, doc_id: str, date: str) -> dict[str, Any]:
        """Correct a document's date (RagMed.set_date); the document's record as listed."""
        info = self.rag(collection).set_date(self.document_path(collection, doc_id), date)
        return {**info.to_dict(), "doc_id": doc_id, "file_name": Path(info.path).name}

    # -- uploads -------------------------------------------------------------------------------
    def store_upload(self, collection: str, file_name: str | None, data_file, size: int) -> Path:
        """Write an uploaded PDF into the collection's upload folder (atomically); nothing is
        written when the name, size or content is rejected."""
        if size > self.config.max_upload_bytes:
            raise UploadTooLarge(size, self.config.max_upload_bytes)
        name = safe_upload_name(file_name)
        folder = self.upload_dir(collection)
        head = data_file.read(1024)
        if PDF_MAGIC not in head:
            raise InputError(f"{name} is not a PDF (its content does not start with %PDF-).")
        private_dir(folder)
        target = inside(folder, name)
        fd, tmp = tempfile.mkstemp(prefix=".upload-", suffix=".part", dir=folder)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(head)
                while chunk := data_file.read(1 << 20):
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return target

    def _ingest(self, job: IngestJob) -> dict[str, Any]:
        t0 = time.perf_counter()
        # an upload is an explicit request: it ingests a document removed before (`restore`)
        report = self.rag(job.collection).ingest([job.path], tags=job.tags or None, restore=True)
        for d in report.documents:
            oplog.event("ingest", collection=job.collection, file=Path(d.path).name, status=d.status,
                        pages=d.pages, chunks=d.chunks, unreadable_pages=len(d.page_issues),
                        seconds=time.perf_counter() - t0)
        return report.to_dict()

    def trash(self, collection: str):
        from ..trash import Trash

        return Trash(self.rag(collection), self.config.trash_days)

    def remove(self, collection: str, doc_id: str) -> dict[str, Any]:
        """Move a document to the collection's trash (in the ingest thread, so it never races an
        ingest): a file the server stored from an upload is moved there, any other is copied."""
        path = self.document_path(collection, doc_id)
        uploads = (self.config.uploads / collection).resolve()
        done = self.ingests.call(lambda: self.trash(collection).remove([path], owned=uploads)).result()
        report, entry = done[0]
        oplog.event("remove", collection=collection, doc_id=doc_id, status=report.status)
        return {**report.to_dict(), "trash": entry.to_dict() if entry else None}

    def restore(self, collection: str, entry_id: str) -> dict[str, Any]:
        """Put a trashed document back into the index (in the ingest thread)."""
        report = self.ingests.call(lambda: self.trash(collection).restore(entry_id)).result()
        oplog.event("restore", collection=collection, entry=entry_id, ok=report.ok)
        return report.to_dict()

    # -- start and answers -------------------------------------------------------------------------
    def preload(self) -> dict[str, float]:
        """Load the embedder and the chat model now, so the first question does not wait for them;
        returns and logs the seconds each took."""
        rag = self.rag()
        t0 = time.perf_counter()
        rag.embedder.embed_query("warm-up")
        if rag.index.exists():  # the collection's lexical index and vectors, read once
            rag.search("warm-up", 1)
        t1 = time.perf_counter()
        loaded = {"embedder_s": t1 - t0}
        if not self.settings.generator_url:
            rag.generator  # noqa: B018 - loads the model (llama.cpp maps the weights)
            loaded["model_s"] = time.perf_counter() - t1
        oplog.event("loaded", embedder=rag.settings.embedder, model=self.settings.model, **loaded)
        return loaded

    def logged(self, mode: str, collection: str, fn):
        """Run an answer and log its duration and outcome (never its text)."""
        t0 = time.perf_counter()
        try:
            answer = fn()
        except Exception as exc:
            oplog.event("answer", mode=mode, collection=collection,
                        outcome="cancelled" if isinstance(exc, ClientGone) else "error", error=type(exc).__name__,
                        seconds=time.perf_counter() - t0)
            raise
        oplog.event("answer", mode=mode, collection=collection, outcome=oplog.outcome(answer),
                    citations=len(answer.citations), seconds=time.perf_counter() - t0)
        return answer

    # -- answers -------------------------------------------------------------------------------
    def ask_events(self, rag: RagMed, question: str, **kwargs: Any) -> AsyncIterator[tuple[str, dict]]:
        """Submit a streamed ask to the model queue now (so a full queue fails before the response
        starts) and return `RagMed.ask_stream`'s events as (kind, data): queued, evidence, reasoning
        text, answer (a checked, supported sentence) and flagged (a checked sentence that is not
        supported: its claim, not answer text), then final or error. `/v1/ask` sends them as
        server-sent events (`sse`), `/v1/chat/completions` as OpenAI chunks. After `evidence`, a `stage`
        event says whether the model must be loaded first ("loading") or reads the passages now
        ("reading"), and another ("writing") comes with the model's first token, so the page never
        shows a model load as retrieval nor the writing as reading."""
        loop = asyncio.get_running_loop()
        events: asyncio.Queue = asyncio.Queue()
        gone = threading.Event()

        def put(item) -> None:
            loop.call_soon_threadsafe(events.put_nowait, item)

        writing = threading.Event()

        def stop_if_gone(_piece: str) -> None:
            if gone.is_set():
                raise ClientGone()
            if not writing.is_set():  # the model's first token: it has read the passages, now it writes
                writing.set()
                put(("stage", {"stage": "writing"}))

        def run():
            for event in rag.ask_stream(question, on_text=stop_if_gone, **kwargs):
                if event.kind == "final":
                    return event.answer
                put((event.kind, event_data(event)))
                if event.kind == "evidence":  # the model reads the passages next; say so if it must load first
                    put(("stage", {"stage": "loading" if rag._generator is None else "reading"}))

        def job():
            return self.logged("stream", rag.settings.collection, run)

        future = self.models.submit(job)
        position = self.models.pending
        future.add_done_callback(lambda f: put(("done", None)))

        async def stream() -> AsyncIterator[tuple[str, dict]]:
            try:
                yield "queued", {"position": position}
                while True:
                    kind, data = await events.get()
                    if kind == "done":
                        break
                    yield kind, data
                exc = future.exception()
                if exc is not None:
                    yield "error", error_body(exc)
                else:
                    yield "final", future.result().to_dict()
            finally:
                gone.set()

        return stream()

    def close(self) -> None:
        self.models.shutdown()
        self.ingests.shutdown()


class UploadTooLarge(Exception):
    def __init__(self, size: int, limit: int):
        super().__init__(f"The upload is {size / 1e6:.1f} MB; the limit is {limit / 1e6:.1f} MB "
                         "(ragmed serve --max-upload-mb).")


def event_data(event) -> dict[str, Any]:
    """The JSON of one `AskEvent` (not "final"): its text, its checked claim, its data."""
    d: dict[str, Any] = dict(event.data)
    if event.kind in ("reasoning", "answer", "evidence"):
        d["text"] = event.text
    if event.claim is not None:
        d["claim"] = event.claim.to_dict()
    return d


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:24]}"


def now() -> int:
    return int(time.time())


__all__ = ["ServerConfig", "Service", "sse", "error_body", "error_payload", "status_of", "event_data",
           "UploadTooLarge", "ClientGone"]
