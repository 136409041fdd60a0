"""Concurrency on one index: a second writer fails fast with the holder's pid; readers keep working
during an ingest by another process and see the old or the new version of a document, never a mix."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from support import pdfgen
from conftest import ROOT

V1 = "Version one of the fictional ward protocol: staff clean their hands before each patient contact."
V2 = "Version two of the fictional ward protocol: staff clean their hands and change gloves between patients."


def _held(lock: Path) -> bool:
    """Whether another process holds the collection's writer lock."""
    if not lock.exists():
        return False
    fd = os.open(lock, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


def _pages(text: str, n: int) -> list[list[str]]:
    return [[f"{text} Section {i}: wards keep a log of hand hygiene audits, glove stock and sink checks."] * 3
            for i in range(n)]


@pytest.mark.slow
def test_second_writer_refused_and_readers_never_see_a_mix(tmp_path):
    from ragmed import IndexBusyError, RagMed

    docs = tmp_path / "docs"
    docs.mkdir()
    doc = docs / "ward-protocol.pdf"
    pdfgen.make_text_pdf(doc, _pages(V1, 3))
    idx = tmp_path / "idx"
    reader = RagMed(collection="conc", index_dir=idx)
    assert reader.ingest([docs]).ok
    sha1 = reader.documents()[0].sha256
    pdfgen.make_text_pdf(doc, _pages(V2, 150))  # a bigger new version: its ingest takes a while

    writer = subprocess.Popen([sys.executable, "-m", "ragmed.cli", "ingest", str(docs), "-c", "conc",
                               "--index-dir", str(idx)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, cwd=ROOT)
    lock = idx / "collections" / "conc" / "write.lock"
    seen: list[str] = []

    def read() -> None:
        hits = reader.search("ward protocol hand hygiene gloves", k=6)
        shas = {h.file_sha256 for h in hits if Path(h.source) == doc}
        assert len(shas) == 1, f"one search mixed versions: {shas}"
        seen.append(shas.pop())

    deadline = time.monotonic() + 300
    while not _held(lock):
        assert writer.poll() is None, writer.communicate()
        assert time.monotonic() < deadline, "the writer never took the lock"
        read()
        time.sleep(0.05)
    # a second writer (this process) waits briefly, then gets the holder's pid instead of hanging
    other = tmp_path / "other"
    other.mkdir()
    pdfgen.make_text_pdf(other / "other.pdf", _pages("An unrelated fictional note.", 1))
    with pytest.raises(IndexBusyError, match=rf"busy.*pid {writer.pid}"):
        RagMed(collection="conc", index_dir=idx).ingest([other])
    while writer.poll() is None:  # readers keep working during the ingest
        read()
        assert time.monotonic() < deadline, "the writer did not finish"
    out, err = writer.communicate()
    assert writer.returncode == 0, err
    read()  # after the commit: the new version
    sha2 = reader.documents()[0].sha256
    assert sha2 != sha1
    assert set(seen) <= {sha1, sha2} and seen[0] == sha1 and seen[-1] == sha2
    first_new = seen.index(sha2)
    assert all(s == sha2 for s in seen[first_new:]), "a reader went back to the old version"
    # the long-lived reader sees the new text through dense search too (its vector index reloaded)
    dense = reader.search("change gloves between patients", k=3, mode="dense")
    assert dense and all(h.file_sha256 == sha2 for h in dense if Path(h.source) == doc)
    assert "Version two" in dense[0].text
    assert RagMed(collection="conc", index_dir=idx).ingest([other]).ok  # and the lock is free again
