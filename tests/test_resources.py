"""Resource bounds: a disk that fills up during an ingest leaves the index as it was. (Context
overflow and over-long questions: tests/test_ask.py and tests/test_generate.py.)"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from support import pdfgen
from conftest import SAMPLE_PDF


@pytest.fixture()
def tiny_disk(tmp_path):
    """A 128 MB tmpfs: a real file system that really fills up (needs root to mount)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root; the disk-full test cannot run as this user")
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=128m", "tmpfs", str(mnt)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def _fill(folder: Path, leave_bytes: int) -> Path:
    st = os.statvfs(folder)
    free = st.f_bavail * st.f_frsize
    filler = folder / "filler.bin"
    with filler.open("wb") as f:
        f.truncate(0)
        f.write(b"\0" * max(0, free - leave_bytes))
    return filler


@pytest.mark.slow
def test_disk_full_during_ingest_leaves_the_index_as_it_was(tiny_disk, tmp_path):
    from ragmed import DiskFullError, RagMed

    idx = tiny_disk / "idx"
    rag = RagMed(collection="disk", index_dir=idx)
    assert rag.ingest([SAMPLE_PDF]).ok
    before_docs = [d.to_dict() for d in rag.documents()]
    before_ids = rag.index.all_ids()
    big = tmp_path / "big-protocol.pdf"
    pdfgen.make_text_pdf(big, [[f"Fictional ward rule {i}: staff log every hand hygiene audit, glove change and "
                                f"sink check in the ward book, and the charge nurse signs page {i}."] * 4
                               for i in range(120)])
    filler = _fill(tiny_disk, leave_bytes=256 * 1024)
    # ragmed checks the free space before it writes a document: on a full disk Chroma's storage
    # layer can fail in ways that are hard to undo, or hang
    with pytest.raises(DiskFullError, match="is full.*big-protocol.pdf was not added.*index is as it was"):
        rag.ingest([big])
    # readers, in this process and a fresh one, see exactly the index of before
    fresh = RagMed(collection="disk", index_dir=idx)
    assert [d.to_dict() for d in fresh.documents()] == before_docs
    hits = fresh.search("hand hygiene audit glove change", k=5)
    assert hits and all(Path(h.source) == SAMPLE_PDF for h in hits)
    filler.unlink()  # space again: the same command now works, and nothing is left of the failed try
    report = fresh.ingest([big, SAMPLE_PDF])
    assert report.ok and [d.status for d in report.documents] == ["added", "unchanged"]
    ids = fresh.index.all_ids()
    assert set(before_ids) < set(ids) and len(ids) == len(set(ids))
    assert len(ids) == len(before_ids) + report.documents[0].chunks
