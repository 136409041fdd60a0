"""Server-side conversation threads (the web page's threads; `/v1/ask` with `"thread"`).

Conversations hold patient details, so:
- a thread is one JSON file `<index_dir>/threads/<id>.json`, in a folder made user-only (0700),
  written atomically (files 0600, `files.atomic_write_json`);
- deleting a thread deletes its file; threads not used for `retention_days` are deleted when the
  store is next opened or listed (`ragmed serve --thread-retention-days`, default 30; 0 keeps no
  threads: the routes answer 404 and `/v1/ask` refuses `thread`);
- nothing of a thread's text is ever logged (this module logs nothing at all).

A stored turn: question, the answer shown (checked sentences or ragmed's own refusal text), the
search query used, citations (document, page, quote), whether ragmed abstained, and the time.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from ..errors import CollectionNotFoundError, InputError
from ..files import atomic_write_json, private_dir
from ..ground.release import for_clinician
from ..types import Turn

DEFAULT_RETENTION_DAYS = 30.0
MAX_THREADS = 500
MAX_TURNS = 200
TITLE_CHARS = 80
_ID = re.compile(r"^[0-9a-f]{32}$")


class ThreadStore:
    """Threads in `root` (see the module docstring); safe to use from the server's threads."""

    def __init__(self, root: Path, retention_days: float = DEFAULT_RETENTION_DAYS):
        self.root = Path(root)
        self.retention_days = float(retention_days)
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.retention_days > 0

    def _path(self, thread_id: str) -> Path:
        if not self.enabled:
            raise CollectionNotFoundError("Threads are off on this server (ragmed serve --thread-retention-days 0).")
        if not _ID.match(thread_id or ""):
            raise CollectionNotFoundError(f"No thread {thread_id!r}.")
        return self.root / f"{thread_id}.json"

    def _read(self, path: Path) -> dict[str, Any]:
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise CollectionNotFoundError(f"No thread {path.stem!r} (deleted, or older than the "
                                          f"{self.retention_days:g}-day retention).") from None

    def purge(self, now: float | None = None) -> int:
        """Delete threads unused for longer than the retention; returns how many."""
        if not self.root.is_dir():
            return 0
        cutoff = (now or time.time()) - self.retention_days * 86400
        gone = 0
        for f in self.root.glob("*.json"):
            try:
                if f.stat().st_mtime < cutoff or not self.enabled:
                    f.unlink()
                    gone += 1
            except FileNotFoundError:
                pass
        return gone

    def create(self, title: str = "", collection: str = "") -> dict[str, Any]:
        if not self.enabled:
            self._path("")
        with self._lock:
            private_dir(self.root)
            self.purge()
            if sum(1 for _ in self.root.glob("*.json")) >= MAX_THREADS:
                raise InputError(f"This server keeps at most {MAX_THREADS} threads: delete old ones first.")
            now = time.time()
            thread = {"id": uuid.uuid4().hex, "title": " ".join(title.split())[:TITLE_CHARS],
                      "collection": collection, "created": now, "updated": now, "turns": []}
            atomic_write_json(self._path(thread["id"]), thread)
            return thread

    def list(self) -> list[dict[str, Any]]:
        """Threads, most recently used first: id, title, collection, created, updated, turns (count)."""
        if not self.enabled or not self.root.is_dir():
            return []
        with self._lock:
            self.purge()
            out = []
            for f in self.root.glob("*.json"):
                try:
                    t = self._read(f)
                except (CollectionNotFoundError, ValueError):
                    continue
                out.append({**{k: t.get(k) for k in ("id", "title", "collection", "created", "updated")},
                            "turns": len(t.get("turns", []))})
            return sorted(out, key=lambda t: -(t["updated"] or 0))

    def get(self, thread_id: str) -> dict[str, Any]:
        return self._read(self._path(thread_id))

    def history(self, thread_id: str) -> list[Turn]:
        """The thread's turns as history for the next question."""
        return [Turn(t["question"], t.get("answer", ""), t.get("query", "")) for t in self.get(thread_id)["turns"]]

    def append(self, thread_id: str, answer: dict[str, Any]) -> dict[str, Any]:
        """Add an answered turn (an `Answer.to_dict()`); returns the thread's summary."""
        path = self._path(thread_id)
        with self._lock:
            thread = self._read(path)
            doc_of = {p.get("id"): p.get("doc_id") for p in answer.get("passages", [])}
            citations = [{**c, "doc_id": doc_of.get(c.get("passage_id"))} for c in answer.get("citations", [])]
            turn = {"question": answer.get("question", ""), "answer": answer.get("answer", ""),
                    "query": answer.get("search_query", ""), "citations": citations,
                    "notes": for_clinician(answer.get("notices") or []),  # read before any dose, also later
                    "abstained": bool(answer.get("abstained")), "model": answer.get("model", ""),
                    "time": time.time()}
            thread["turns"] = (thread.get("turns", []) + [turn])[-MAX_TURNS:]
            thread["updated"] = turn["time"]
            if not thread.get("title"):
                thread["title"] = " ".join(turn["question"].split())[:TITLE_CHARS]
            atomic_write_json(path, thread)
            return {k: thread[k] for k in ("id", "title")} | {"turns": len(thread["turns"])}

    def delete(self, thread_id: str) -> dict[str, Any]:
        path = self._path(thread_id)
        with self._lock:
            try:
                path.unlink()
            except FileNotFoundError:
                raise CollectionNotFoundError(f"No thread {thread_id!r}.") from None
        return {"id": thread_id, "deleted": True}


__all__ = ["ThreadStore", "DEFAULT_RETENTION_DAYS"]
