"""Work queues of the server.

- `ModelQueue`: one worker thread runs every request that may touch the LLM, so llama.cpp never runs
  two requests on one context; at most `capacity` requests wait or run, the next one is refused
  (`QueueFull` -> HTTP 503 with Retry-After) instead of piling up.
- `IngestJobs`: uploads are ingested one at a time by another thread; each job has a status the
  document list shows (queued, ingesting, indexed, unchanged, failed + the error).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
import time
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable

log = logging.getLogger(__name__)


class QueueFull(Exception):
    def __init__(self, retry_after: int):
        super().__init__(f"The model is busy; retry in about {retry_after} s.")
        self.retry_after = retry_after


class ModelQueue:
    """A bounded queue in front of one model worker thread."""

    def __init__(self, capacity: int = 8):
        self.capacity = max(1, capacity)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ragmed-model")
        self._lock = threading.Lock()
        self._pending = 0
        self._durations: list[float] = []  # recent job durations, for Retry-After
        self.completed = 0
        self.rejected = 0

    @property
    def pending(self) -> int:
        return self._pending

    def retry_after(self) -> int:
        recent = self._durations[-20:]
        per_job = sorted(recent)[len(recent) // 2] if recent else 5.0
        return max(1, min(120, round(per_job * max(1, self._pending))))

    def submit(self, fn: Callable[[], Any]) -> Future:
        with self._lock:
            if self._pending >= self.capacity:
                self.rejected += 1
                raise QueueFull(self.retry_after())
            self._pending += 1

        def run():
            t0 = time.perf_counter()
            try:
                return fn()
            finally:
                with self._lock:
                    self._pending -= 1
                    self.completed += 1
                    self._durations = (self._durations + [time.perf_counter() - t0])[-50:]

        try:
            return self._pool.submit(run)
        except RuntimeError:  # shutting down
            with self._lock:
                self._pending -= 1
            raise

    async def run(self, fn: Callable[[], Any]) -> Any:
        return await asyncio.wrap_future(self.submit(fn))

    def stats(self) -> dict[str, int]:
        return {"pending": self._pending, "capacity": self.capacity,
                "completed": self.completed, "rejected": self.rejected}

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


@dataclass
class IngestJob:
    id: str
    collection: str
    file_name: str
    path: str
    tags: dict[str, str] = field(default_factory=dict)
    status: str = "queued"  # queued | ingesting | indexed | unchanged | failed
    error: str = ""
    report: dict[str, Any] | None = None
    created: float = field(default_factory=time.time)
    finished: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "collection": self.collection, "file_name": self.file_name,
                "tags": self.tags, "status": self.status, "error": self.error, "report": self.report,
                "created": self.created, "finished": self.finished}


class IngestJobs:
    """Ingest uploads one at a time, in the background; remember the last jobs' outcomes."""

    KEEP = 200

    def __init__(self, ingest: Callable[[IngestJob], dict[str, Any]]):
        self._ingest = ingest
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ragmed-ingest")
        self._jobs: OrderedDict[str, IngestJob] = OrderedDict()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def submit(self, collection: str, file_name: str, path: str,
               tags: dict[str, str] | None = None) -> tuple[IngestJob, Future]:
        with self._lock:
            job = IngestJob(f"job-{next(self._ids)}", collection, file_name, path, dict(tags or {}))
            self._jobs[job.id] = job
            while len(self._jobs) > self.KEEP:
                self._jobs.popitem(last=False)
        return job, self._pool.submit(self._run, job)

    def _run(self, job: IngestJob) -> IngestJob:
        job.status = "ingesting"
        try:
            report = self._ingest(job)
            job.report = report
            docs = report.get("documents", [])
            failed = [d for d in docs if d.get("status") == "failed"]
            if failed:
                job.status, job.error = "failed", failed[0].get("error") or "ingest failed"
            else:
                job.status = "unchanged" if docs and all(d.get("status") == "unchanged" for d in docs) else "indexed"
        except Exception as exc:  # reported on the job, never swallowed
            log.warning("ingest job %s failed: %s", job.id, type(exc).__name__)
            job.status, job.error = "failed", str(exc) or type(exc).__name__
        job.finished = time.time()
        return job

    def call(self, fn: Callable[[], Any]) -> Future:
        """Run other index writes (removals) in the same thread, after the queued ingests."""
        return self._pool.submit(fn)

    def get(self, job_id: str) -> IngestJob | None:
        return self._jobs.get(job_id)

    def for_collection(self, collection: str) -> list[IngestJob]:
        return [j for j in list(self._jobs.values()) if j.collection == collection]

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
