import json
import os
import shutil
import subprocess
import sys

from support import pdfgen
import pytest

from ragmed import IndexMismatchError, RagMed


def _by_name(report):
    return {os.path.basename(d.path): d for d in report.documents}


def test_batch_reports_every_file_and_carries_on(corpus, tmp_path):
    rag = RagMed(collection="batch", index_dir=tmp_path / "idx")
    report = rag.ingest([corpus["dir"]])
    docs = _by_name(report)
    assert not report.ok
    for ok in ("guideline.pdf", "no-outline.pdf", "blank-page.pdf", "empty-password.pdf", "notes.md"):
        assert docs[ok].status == "added", docs[ok]
        assert docs[ok].chunks > 0
    assert "encrypted" in docs["encrypted.pdf"].error and "password" in docs["encrypted.pdf"].error
    assert "corrupt" in docs["corrupt.pdf"].error
    assert "not a PDF" in docs["not-a-pdf.pdf"].error
    assert "empty file" in docs["empty.pdf"].error
    blank = docs["blank-page.pdf"]
    assert [i.page for i in blank.page_issues] == [2]
    assert "likely scanned" in blank.page_issues[0].problem
    assert docs["guideline.pdf"].pages == 5
    # Failed files leave nothing behind; good ones are searchable with provenance.
    listed = {os.path.basename(i.path) for i in rag.documents()}
    assert listed == {"guideline.pdf", "no-outline.pdf", "blank-page.pdf", "empty-password.pdf", "notes.md"}
    hit = rag.search("How long should the respiratory rate be counted?", k=3)[0]
    assert "60 seconds" in hit.text
    assert hit.page == 3 and hit.page_label == "2"
    assert hit.section[-1] == "2.1 Vital signs"
    assert len(hit.file_sha256) == 64 and hit.end > hit.start


def test_cli_json_report_and_exit_code(corpus, tmp_path):
    cmd = [sys.executable, "-m", "ragmed.cli", "ingest", str(corpus["dir"]), "--collection", "clijson",
           "--index-dir", str(tmp_path / "idx"), "--json"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert out.returncode == 1, out.stderr
    data = json.loads(out.stdout)
    assert {"path", "status", "pages", "chunks", "error"} <= set(data["documents"][0])
    statuses = {os.path.basename(d["path"]): d["status"] for d in data["documents"]}
    assert statuses["corrupt.pdf"] == "failed" and statuses["guideline.pdf"] == "added"
    # a batch with only good files exits 0, and the text report names each file
    good = tmp_path / "good"
    good.mkdir()
    # (new content: a copy of a file already indexed would be reported as a duplicate, ingest/identity.py)
    (good / "notes.md").write_text("# Ward notes\n\n## Visiting\n\nVisiting hours end at 8 pm on the ward.\n")
    out = subprocess.run(cmd[:4] + [str(good)] + cmd[5:-1], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    assert "added" in out.stdout and "notes.md" in out.stdout


def test_reingest_unchanged_embeds_nothing(good_dir, tmp_path):
    rag = RagMed(collection="incr", index_dir=tmp_path / "idx")
    first = rag.ingest([good_dir])
    assert first.ok and first.embedded > 0
    ids = rag.index.all_ids()
    before = rag.embedder.embedded
    again = RagMed(collection="incr", index_dir=tmp_path / "idx")
    again._embedder = rag.embedder  # same counting embedder
    second = again.ingest([good_dir])
    assert [d.status for d in second.documents] == ["unchanged", "unchanged"]
    assert second.embedded == 0 and rag.embedder.embedded == before
    assert rag.index.all_ids() == ids


def test_changed_file_leaves_no_stale_chunks(good_dir, tmp_path):
    rag = RagMed(collection="change", index_dir=tmp_path / "idx")
    rag.ingest([good_dir])
    old_ids = set(rag.index.all_ids())
    pdfgen.make_guideline_pdf(good_dir / "guideline.pdf", title="Second Edition of the Fever Guideline")
    report = rag.ingest([good_dir])
    assert _by_name(report)["guideline.pdf"].status == "updated"
    assert _by_name(report)["protocol.pdf"].status == "unchanged"
    new_ids = set(rag.index.all_ids())
    # protocol chunks unchanged; every guideline chunk is new (old version fully gone)
    col = rag.index.chroma()
    metas = col.get(include=["metadatas"])["metadatas"]
    shas = {m["source"]: set() for m in metas}
    for m in metas:
        shas[m["source"]].add(m["file_sha256"])
    assert all(len(v) == 1 for v in shas.values())
    assert old_ids != new_ids and len(new_ids) == rag.index.count()
    assert all(p.title == "Second Edition of the Fever Guideline" for p in rag.search("paracetamol dose", k=5) if p.source.endswith("guideline.pdf"))


def test_prune_and_remove(good_dir, tmp_path):
    rag = RagMed(collection="prune", index_dir=tmp_path / "idx")
    rag.ingest([good_dir])
    (good_dir / "protocol.pdf").unlink()
    report = rag.ingest([good_dir], prune=True)
    assert _by_name(report)["protocol.pdf"].status == "removed"
    assert [os.path.basename(d.path) for d in rag.documents()] == ["guideline.pdf"]
    assert all(p.source.endswith("guideline.pdf") for p in rag.search("blood pressure", k=10))
    removed = rag.remove([good_dir / "guideline.pdf"])
    assert removed[0].status == "removed"
    assert rag.documents() == [] and rag.index.count() == 0
    assert rag.remove([good_dir / "nope.pdf"])[0].failed


def test_mismatched_embedder_or_chunker_is_refused(good_dir, tmp_path):
    rag = RagMed(collection="mix", index_dir=tmp_path / "idx")
    rag.ingest([good_dir / "guideline.pdf"])
    other = RagMed(collection="mix", index_dir=tmp_path / "idx", chunk_tokens=100)
    with pytest.raises(IndexMismatchError, match="--rebuild"):
        other.ingest([good_dir])
    rebuilt = other.ingest([good_dir], rebuild=True)
    assert rebuilt.ok and rebuilt.count("added") == 2
    manifest = json.loads((tmp_path / "idx/collections/mix/manifest.json").read_text())
    assert manifest["build"]["chunker"]["max_tokens"] == 100
    assert manifest["build"]["embedder"] == "all-MiniLM-L6-v2" and manifest["build"]["dimension"] == 384
    # a collection built by another embedder is refused at search time with the fix in the message
    manifest["build"]["embedder"] = "some-other-model"
    (tmp_path / "idx/collections/mix/manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexMismatchError, match="rebuild"):
        RagMed(collection="mix", index_dir=tmp_path / "idx", embedder="all-MiniLM-L6-v2").search("fever")


def test_a_collection_of_an_older_chunker_version_says_to_rebuild(good_dir, tmp_path):
    from ragmed.ingest.chunker import CHUNKER_VERSION

    rag = RagMed(collection="old", index_dir=tmp_path / "idx")
    rag.ingest([good_dir / "guideline.pdf"])
    path = tmp_path / "idx/collections/old/manifest.json"
    manifest = json.loads(path.read_text())
    manifest["build"]["chunker"]["version"] = "1"  # as built before extraction changed (issue 20)
    path.write_text(json.dumps(manifest))
    old = RagMed(collection="old", index_dir=tmp_path / "idx")
    assert old.search("blood pressure", k=1)  # still searchable
    with pytest.raises(IndexMismatchError, match=r"older ragmed \(chunker version 1; .* version "
                       + CHUNKER_VERSION + r".*ingest --rebuild --collection old"):
        old.ingest([good_dir])
    assert old.ingest([good_dir], rebuild=True).ok
    assert json.loads(path.read_text())["build"]["chunker"]["version"] == CHUNKER_VERSION != "1"


def test_second_writer_fails_fast_with_pid(good_dir, tmp_path):
    from ragmed import IndexBusyError

    rag = RagMed(collection="busy", index_dir=tmp_path / "idx")
    rag.ingest([good_dir / "guideline.pdf"])
    with rag.index.write_lock():
        with pytest.raises(IndexBusyError, match=f"pid {os.getpid()}"):
            with rag.index.write_lock(wait_s=0.2):
                pass


def test_bad_paths_are_reported(tmp_path):
    rag = RagMed(collection="paths", index_dir=tmp_path / "idx")
    (tmp_path / "x.xlsx").write_text("nope")  # (.docx is read since ingest/docx.py)
    report = rag.ingest([tmp_path / "missing.pdf", tmp_path / "x.xlsx"])
    errors = sorted(d.error for d in report.documents)
    assert errors[0].startswith("no such file") and "unsupported file type .xlsx" in errors[1]
