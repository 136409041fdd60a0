"""Extract documents in a separate, limited process, one document ahead of the embedder.

A malicious or broken PDF (a decompression bomb, cyclic objects, a parser bug that loops) must not
hang, exhaust or crash the ingestion of the others. Each document is parsed in a worker process:

- memory: the worker's address space is capped (`RLIMIT_AS`, default 2048 MB);
- time: the worker stops a document after `time_limit_s` (default 120 s) with an interval timer;
  if it does not answer even then (stuck in C code), the parent kills and replaces it; each page
  read by OCR restarts the clock (ocr.on_page: OCR takes seconds per page, a long scan is not a hang);
- crash: a worker that dies (segfault, OOM kill) is replaced, and only that document fails.

It also pipelines: while the parent embeds document i, the worker already parses document i+1.
Limits and the switch are settings (config.py): RAGMED_DOC_TIME_LIMIT_S, RAGMED_DOC_MEMORY_LIMIT_MB;
`RAGMED_ISOLATE=0` parses in-process (no limits), for debugging.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
from multiprocessing.connection import Connection
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from ..config import DEFAULT_DOC_MEMORY_LIMIT_MB, DEFAULT_DOC_TIME_LIMIT_S, Settings
from ..errors import DocumentError
from ..failpoints import failpoint
from ..types import ExtractedDocument

log = logging.getLogger(__name__)

DEFAULT_TIME_LIMIT_S = DEFAULT_DOC_TIME_LIMIT_S
DEFAULT_MEMORY_LIMIT_MB = DEFAULT_DOC_MEMORY_LIMIT_MB
GRACE_S = 10.0  # beyond the worker's own timer, before the parent kills it


@dataclass(frozen=True)
class Limits:
    time_s: float = DEFAULT_TIME_LIMIT_S
    memory_mb: int = DEFAULT_MEMORY_LIMIT_MB

    @classmethod
    def from_settings(cls, settings: Settings) -> "Limits":
        """The limits of `settings` (doc_time_limit_s, doc_memory_limit_mb; config.py)."""
        return cls(settings.doc_time_limit_s, settings.doc_memory_limit_mb)


class _Timeout(BaseException):
    """Raised by the worker's timer (BaseException: parser code must not swallow it)."""


def _worker(reader, writer, limits: Limits) -> None:  # pragma: no cover - runs in the child process
    import resource
    import signal

    try:
        cap = limits.memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    except (ValueError, OSError):  # not supported here (e.g. macOS): time limit only
        pass

    def on_alarm(signum, frame):
        raise _Timeout()

    signal.signal(signal.SIGALRM, on_alarm)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl+C
    from . import ocr
    from .formats import extract_file

    def ocr_page_started():  # each OCR'd page gets the full time limit (ocr.on_page); the parent, told, waits again
        signal.setitimer(signal.ITIMER_REAL, limits.time_s)
        writer.send(("alive", None))

    ocr.on_page = ocr_page_started

    while True:
        try:
            job = reader.recv()
        except EOFError:
            return
        if job is None:
            return
        path, sha, *rest = job  # (path, sha256[, ocr mode])
        failpoint("extract.parse")  # crash tests: RAGMED_FAILPOINT=extract.parse:N kills this worker
        signal.setitimer(signal.ITIMER_REAL, limits.time_s)
        try:
            result = ("ok", extract_file(Path(path), sha, *rest))
        except _Timeout:
            result = ("error", f"took longer than the {limits.time_s:g} s limit per document (RAGMED_DOC_TIME_LIMIT_S)")
        except MemoryError:
            result = ("error", f"needs more than the {limits.memory_mb} MB memory limit per document "
                               "(RAGMED_DOC_MEMORY_LIMIT_MB); likely a decompression bomb")
        except DocumentError as exc:
            result = ("error", str(exc))
        except RecursionError:
            result = ("error", "unreadable PDF: its objects are nested too deeply or refer to themselves")
        except Exception as exc:  # a parser bug on this file: report it, keep the worker
            result = ("error", f"unreadable file ({type(exc).__name__}: {exc})"[:300])
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        try:
            writer.send(result)
        except Exception as exc:  # e.g. unpicklable: send a plain error instead
            writer.send(("error", f"could not pass the extracted text back ({type(exc).__name__})"))


class IsolatedExtractor:
    """Extract files in order in a limited worker process, one file ahead."""

    def __init__(self, limits: Limits | None = None):
        self.limits = limits or Limits.from_settings(Settings.from_env())
        self._proc: subprocess.Popen | None = None
        self._to = self._from = None

    def _start(self) -> None:
        # a fresh interpreter (not fork: the parent holds threads; not multiprocessing's spawn: it
        # re-imports the caller's __main__), talking over its stdin/stdout
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "ragmed.ingest.isolate", str(self.limits.time_s), str(self.limits.memory_mb)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, close_fds=True,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
        self._to = Connection(os.dup(self._proc.stdin.fileno()), readable=False)
        self._from = Connection(os.dup(self._proc.stdout.fileno()), writable=False)
        self._proc.stdin.close()
        self._proc.stdout.close()

    def _stop(self, kill: bool = False) -> None:
        if self._proc is None:
            return
        if not kill:
            with contextlib.suppress(OSError, ValueError):
                self._to.send(None)
        for conn in (self._to, self._from):
            with contextlib.suppress(OSError):
                conn.close()
        try:
            self._proc.wait(0 if kill else 5)
        except subprocess.TimeoutExpired:
            pass
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait(10)
        self._proc = self._to = self._from = None

    def _send(self, path: Path, sha: str, *options) -> None:
        if self._proc is None or self._proc.poll() is not None:
            self._stop(kill=True)
            self._start()
        try:
            self._to.send((str(path), sha, *options))
        except OSError:  # the worker died after its last answer: start another
            self._stop(kill=True)
            self._start()
            self._to.send((str(path), sha, *options))

    def _receive(self) -> ExtractedDocument | DocumentError:
        try:
            while self._from.poll(self.limits.time_s + GRACE_S):
                status, value = self._from.recv()
                if status == "alive":  # an OCR'd page started: its own time limit (ocr.on_page)
                    continue
                return value if status == "ok" else DocumentError(value)
            self._stop(kill=True)
            return DocumentError(f"took longer than the {self.limits.time_s:g} s limit per document and was stopped")
        except (EOFError, OSError):
            code = self._proc.wait(10) if self._proc is not None else None
            self._stop(kill=True)
            why = ("crashed the parser: its process was killed (SIGKILL, often the system running out of memory)"
                   if code in (-9, 137) else f"crashed the parser (exit code {code})")
            return DocumentError(f"unreadable file: it {why}; the other files are not affected")

    def map(self, jobs: Iterable[tuple]) -> Iterator[tuple[Path, ExtractedDocument | DocumentError]]:
        """Yield (path, document or DocumentError) in order for jobs (path, sha256[, ocr mode]); the
        next file is parsed while the caller works on the current one."""
        it = iter(jobs)
        current = next(it, None)
        if current is None:
            return
        try:
            self._send(*current)
            while current is not None:
                result = self._receive()
                following = next(it, None)
                if following is not None:
                    self._send(*following)  # parsed while the caller embeds `current`
                yield current[0], result
                current = following
        finally:
            self._stop(kill=sys.exc_info()[0] is not None)


class InProcessExtractor:
    """The same interface without a process or limits (RAGMED_ISOLATE=0)."""

    def map(self, jobs):
        from .formats import extract_file

        for path, sha, *rest in jobs:
            try:
                yield path, extract_file(path, sha, *rest)
            except DocumentError as exc:
                yield path, exc


def extractor(settings: Settings | None = None):
    """The extractor `settings` ask for (default: `Settings.from_env()`): isolated with its limits,
    or in-process when `isolate` is off (RAGMED_ISOLATE=0)."""
    settings = settings or Settings.from_env()
    if not settings.isolate:
        return InProcessExtractor()
    return IsolatedExtractor(Limits.from_settings(settings))


__all__ = ["IsolatedExtractor", "InProcessExtractor", "Limits", "extractor"]


if __name__ == "__main__":  # the worker process: python -m ragmed.ingest.isolate TIME_S MEMORY_MB
    _reader = Connection(os.dup(0), writable=False)
    _writer = Connection(os.dup(1), readable=False)
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # stray prints must not corrupt the channel
    _worker(_reader, _writer, Limits(float(sys.argv[1]), int(sys.argv[2])))
