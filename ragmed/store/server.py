"""Server-side records of ragmed on a Chroma server: manifests, calibrations and writer leases.

In server mode (`chroma_url`, `--chroma-url`, `RAGMED_CHROMA_URL`) several workstations share one
index on a Chroma server (`chroma run`). Besides each collection's chunks (store/chroma.py), the
server holds ragmed's own records in one collection, `ragmed.meta` ('.' never occurs in a ragmed name):

    manifest:<name>          the manifest JSON (one record: a save is one atomic write, still the
                             single commit point)
    calibration:<name>       the fitted abstention gate (JSON of ground/gate.py's Calibration)
    lease:<name>:<slot>      the writer lease (holder host and pid, expiry), see `Lease`

Meta records carry no meaning in their vector; Chroma needs one, so each gets `[1.0]`.
"""

from __future__ import annotations

from ..files import pid_alive

import contextlib
import json
import logging
import os
import socket
import threading
import uuid
from typing import Any, Callable

from ..errors import IndexBusyError
from .chroma import chroma_http_client

log = logging.getLogger(__name__)

META_COLLECTION = "ragmed.meta"
_METAS: dict[str, Any] = {}  # server url -> its ragmed.meta collection (one per process)
_ONE = [[1.0]]


def meta_op(url: str, op: Callable[[Any], Any]) -> Any:
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


class ServerManifestStore:
    """A collection's manifest as one record of the server's ragmed.meta collection.

    `lease` is set by the collection while it holds the writer lease: a write first checks that
    the lease is still held, so a writer taken over by another workstation never commits."""

    def __init__(self, url: str, name: str):
        self.url, self.name = url, name
        self.lease: "Lease | None" = None
        self.id = f"manifest:{name}"
        self.where = f"{self.id} in {META_COLLECTION} on {url}"

    def read(self) -> str | None:
        got = meta_op(self.url, lambda c: c.get(ids=[self.id], include=["documents"]))
        return got["documents"][0] if got["ids"] else None

    def write(self, data: dict[str, Any]) -> None:
        if self.lease is not None:
            self.lease.check()  # never commit after another workstation took the collection over
        text = json.dumps(data, sort_keys=True, ensure_ascii=False)
        meta = {"kind": "manifest", "collection": self.name, "format": int(data.get("format", 0)),
                "updated_at": str(data.get("updated_at", ""))}
        meta_op(self.url, lambda c: c.upsert(ids=[self.id], documents=[text], metadatas=[meta], embeddings=_ONE))

    def delete(self) -> None:
        meta_op(self.url, lambda c: c.delete(ids=[self.id]))



class Lease:
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
        got = meta_op(self.url, lambda c: c.get(
            where={"$and": [{"kind": "lease"}, {"collection": self.name}]}, include=["metadatas"]))
        return sorted(got["metadatas"] or [], key=lambda m: int(m["slot"]))

    def now(self) -> float:
        """The server's clock, in seconds (every workstation compares expiries on the same clock)."""
        return chroma_http_client(self.url).heartbeat() / 1e9

    def live(self, rec: dict[str, Any], now: float) -> bool:
        if rec.get("released") or float(rec.get("expires", 0)) <= now:
            return False
        if rec.get("host") == self.host and int(rec.get("pid", 0)) != self.pid and not pid_alive(int(rec["pid"])):
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
        meta_op(self.url, lambda c: c.add(ids=[sid], documents=[f"{self.host} pid {self.pid}"],
                                           metadatas=[meta], embeddings=_ONE))
        got = meta_op(self.url, lambda c: c.get(ids=[sid], include=["metadatas"]))
        won = got["metadatas"][0] if got["ids"] else None
        if won is None or won.get("token") != self.token:
            return won or meta  # another workstation took this slot first
        self.slot = slot
        old = [self._id(int(r["slot"])) for r in recs]
        if old:
            meta_op(self.url, lambda c: c.delete(ids=old))
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
        meta_op(self.url, lambda c: c.upsert(ids=[self._id(self.slot)], documents=[f"{self.host} pid {self.pid}"],
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
                    meta_op(self.url, lambda c: c.upsert(ids=[self._id(self.slot)], documents=["released"],
                                                          metadatas=[meta], embeddings=_ONE))


def read_calibration(url: str, name: str) -> str | None:
    """The JSON text of a collection's calibration record, None when there is none."""
    rid = f"calibration:{name}"
    got = meta_op(url, lambda c: c.get(ids=[rid], include=["documents"]))
    return got["documents"][0] if got["ids"] else None


def write_calibration(url: str, name: str, data: dict[str, Any]) -> None:
    """Store a collection's calibration (one upsert: atomic for readers)."""
    rid = f"calibration:{name}"
    text = json.dumps(data, sort_keys=True)
    meta = {"kind": "calibration", "collection": name}
    meta_op(url, lambda c: c.upsert(ids=[rid], documents=[text], metadatas=[meta], embeddings=_ONE))


def collection_names(url: str) -> list[str]:
    """The ragmed collections on a Chroma server (those with a manifest record)."""
    got = meta_op(url, lambda c: c.get(where={"kind": "manifest"}, include=["metadatas"]))
    return sorted(m["collection"] for m in got["metadatas"] or [])
