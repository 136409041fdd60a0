"""kill -9 during ingestion, at many points, then re-run: the index equals a clean run's."""

import json
import os
import signal
import subprocess
import sys
import time

from support import pdfgen
import pytest

from ragmed import RagMed


@pytest.fixture(scope="module")
def many(tmp_path_factory):
    d = tmp_path_factory.mktemp("many")
    for i in range(8):
        pdfgen.make_guideline_pdf(d / f"guideline-{i}.pdf", title=f"Fever Guideline Edition {i}")
    return d


def _ingest_cmd(folder, index_dir):
    return [sys.executable, "-m", "ragmed.cli", "ingest", str(folder), "--collection", "crash",
            "--index-dir", str(index_dir), "--json"]


def _manifest(index_dir):
    try:
        return json.loads((index_dir / "collections/crash/manifest.json").read_text())
    except (OSError, ValueError):
        return None


def _versions(index_dir):
    d = index_dir / "collections/crash/lexical/versions"
    return sorted(p.name for p in d.iterdir() if not p.name.startswith(".")) if d.is_dir() else []


def _assert_lexical_consistent(index_dir, chroma_ids):
    """The on-disk BM25 build is current and holds exactly the committed chunks, nothing else."""
    from ragmed.store.lexical import LexicalIndex, stamp_of

    rag = RagMed(collection="crash", index_dir=index_dir)
    manifest = rag.index.require_manifest()
    lex = LexicalIndex(rag.index.dir)
    assert lex.is_current(manifest)
    cur = json.loads((rag.index.dir / "lexical/current.json").read_text())
    assert cur["stamp"] == stamp_of(manifest)
    snap = lex._load(rag.index.dir / "lexical" / cur["dir"], cur["stamp"])
    assert sorted(r.id for r in snap.refs) == chroma_ids
    assert _versions(index_dir) == sorted(
        f"{d['doc_id']}.{d['sha256']}.json.gz" for d in manifest.documents.values()
    )
    assert len(list((rag.index.dir / "lexical").glob("bm25-*"))) == 1


def _state(index_dir):
    rag = RagMed(collection="crash", index_dir=index_dir)
    col = rag.index.chroma()
    got = col.get(include=["metadatas"])
    return sorted(got["ids"]), got["metadatas"], rag


@pytest.fixture(scope="module")
def clean(many, tmp_path_factory):
    idx = tmp_path_factory.mktemp("clean")
    out = subprocess.run(_ingest_cmd(many, idx), capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr
    ids, _, _ = _state(idx)
    assert len(ids) > 8
    _assert_lexical_consistent(idx, ids)
    return ids


def _kill_when(cmd, predicate, timeout=300):
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if predicate():
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                return True
            time.sleep(0.005)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return False


# kill points: (description, predicate on the manifest)
KILL_POINTS = [
    ("first document announced, before its chunks are written", lambda m: m and m["pending"] and not m["documents"]),
    ("third document announced", lambda m: m and len(m["documents"]) == 2 and any(p["op"] == "write" for p in m["pending"].values())),
    ("fifth document committed, before old versions are cleaned", lambda m: m and len(m["documents"]) == 5),
    ("seventh document announced", lambda m: m and len(m["documents"]) == 6 and any(p["op"] == "write" for p in m["pending"].values())),
    ("all committed, during the final BM25 rebuild", lambda m: m and len(m["documents"]) == 8 and not m["pending"]),
]
# kill points by failpoint (RAGMED_FAILPOINT=name:n kills the ingest process at exactly that step)
FAILPOINTS = [
    "ingest.upserted:2",  # second document's vectors written, its terms not yet
    "lexical.version_written:4",  # fourth document's terms written, version not yet committed
    "ingest.committed:6",  # sixth document committed, BM25 index not yet rebuilt
    "lexical.rebuild_saved:1",  # new BM25 build on disk, not yet current
    "lexical.current_written:1",  # new build current, old builds not yet deleted
    "ingest.announced:7",  # seventh document announced in the manifest, nothing of it written
    "manifest.tmp_written:9",  # inside a manifest save: new manifest fsynced, not yet renamed
]


@pytest.mark.parametrize("where,predicate", KILL_POINTS, ids=[k[0] for k in KILL_POINTS])
def test_kill_then_rerun_equals_clean_run(many, clean, tmp_path, where, predicate):
    idx = tmp_path / "idx"
    killed = _kill_when(_ingest_cmd(many, idx), lambda: predicate(_manifest(idx)))
    assert killed, f"ingestion finished before the kill point ({where})"
    # Readers never see half a document: every committed version is complete, nothing else shows.
    m = _manifest(idx)
    if m and m["documents"]:
        ids, metas, rag = _state(idx)
        committed = {d["sha256"]: d["chunks"] for d in m["documents"].values()}
        for sha, n in committed.items():
            assert sum(1 for x in metas if x["file_sha256"] == sha) == n
        for p in rag.search("paracetamol", k=20):
            assert p.file_sha256 in committed
    out = subprocess.run(_ingest_cmd(many, idx), capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr
    ids, metas, _ = _state(idx)
    assert ids == clean
    assert len(ids) == len(set(ids))
    m = _manifest(idx)
    assert m["pending"] == {} and len(m["documents"]) == 8
    assert sum(d["chunks"] for d in m["documents"].values()) == len(ids)
    _assert_lexical_consistent(idx, ids)


@pytest.mark.parametrize("point", FAILPOINTS)
def test_kill_at_failpoint_then_rerun(many, clean, tmp_path, point):
    idx = tmp_path / "idx"
    env = {**os.environ, "RAGMED_FAILPOINT": point}
    out = subprocess.run(_ingest_cmd(many, idx), capture_output=True, text=True, timeout=900, env=env)
    assert out.returncode == -signal.SIGKILL, f"the failpoint {point} was not reached: {out.stderr[-500:]}"
    # A reader right after the crash: lexical search sees only committed versions (built in memory).
    m = _manifest(idx)
    committed = {d["sha256"] for d in m["documents"].values()}
    rag = RagMed(collection="crash", index_dir=idx)
    hits = rag.search("paracetamol fever dose", k=50, mode="lexical")
    assert hits and {p.file_sha256 for p in hits} <= committed
    out = subprocess.run(_ingest_cmd(many, idx), capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr
    ids, _, _ = _state(idx)
    assert ids == clean
    _assert_lexical_consistent(idx, ids)


def test_kill_while_replacing_changed_files(many, clean, tmp_path):
    """Kill during an update of changed files; the re-run holds only the new versions."""
    folder = tmp_path / "docs"
    folder.mkdir()
    for f in many.iterdir():
        (folder / f.name).write_bytes(f.read_bytes())
    idx = tmp_path / "idx"
    assert subprocess.run(_ingest_cmd(folder, idx), capture_output=True, timeout=900).returncode == 0
    for i in range(8):
        pdfgen.make_guideline_pdf(folder / f"guideline-{i}.pdf", title=f"Fever Guideline Revision {i}")
    first = _manifest(idx)["documents"]
    old = {d["sha256"] for d in first.values()}
    killed = _kill_when(
        _ingest_cmd(folder, idx),
        lambda: (m := _manifest(idx)) and sum(d["sha256"] not in old for d in m["documents"].values()) == 3,
    )
    assert killed
    assert subprocess.run(_ingest_cmd(folder, idx), capture_output=True, timeout=900).returncode == 0
    ids, metas, _ = _state(idx)
    assert not any(x["file_sha256"] in old for x in metas)
    assert len({x["file_sha256"] for x in metas}) == 8
    fresh = tmp_path / "fresh"
    assert subprocess.run(_ingest_cmd(folder, fresh), capture_output=True, timeout=900).returncode == 0
    assert ids == _state(fresh)[0]
    _assert_lexical_consistent(idx, ids)
