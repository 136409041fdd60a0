"""Malformed and hostile inputs: each gets a clear per-file error within bounded time and memory,
and the rest of the batch is ingested (real pypdf in ragmed's isolated worker, real index)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from support import fuzzpdf
from support import hostile
from support import pdfgen
from conftest import SAMPLE_PDF

FUZZ_CASES = 40


@pytest.fixture(scope="module")
def hostile_batch(tmp_path_factory):
    """The whole hostile folder ingested in one run, with a 250 MB memory limit per document."""
    from ragmed import RagMed

    folder = tmp_path_factory.mktemp("hostile") / "in"
    cases = hostile.make_all(folder)
    old = os.environ.get("RAGMED_DOC_MEMORY_LIMIT_MB")
    os.environ["RAGMED_DOC_MEMORY_LIMIT_MB"] = "250"
    try:
        rag = RagMed(collection="hostile", index_dir=tmp_path_factory.mktemp("hidx"))
        report = rag.ingest([folder])
    finally:
        if old is None:
            os.environ.pop("RAGMED_DOC_MEMORY_LIMIT_MB")
        else:
            os.environ["RAGMED_DOC_MEMORY_LIMIT_MB"] = old
    return rag, cases, report


def test_every_hostile_file_gets_its_own_outcome(hostile_batch):
    rag, cases, report = hostile_batch
    by_name = {Path(d.path).name: d for d in report.documents}
    assert set(by_name) == set(cases), set(cases) ^ set(by_name)
    for name, expect in cases.items():
        d = by_name[name]
        if expect == "fail":
            assert d.status == "failed" and d.error and len(d.error) < 400, (name, d.to_dict())
        elif expect == "ok":
            assert d.status == "added" and d.chunks >= 1, (name, d.to_dict())
        else:
            assert d.status in ("added", "failed") and (d.status == "added" or d.error), (name, d.to_dict())
    assert not report.ok  # failures are reported, and the exit code of `ragmed ingest` says so


def test_hostile_errors_say_what_happened(hostile_batch):
    _, _, report = hostile_batch
    err = {Path(d.path).name: d.error or "" for d in report.documents}
    assert "memory limit" in err["bomb.pdf"] or "decompressing" in err["bomb.pdf"]
    assert "cyclic" in err["cyclic-pages.pdf"].lower()
    assert "needs a password" in err["encrypted.pdf"]
    assert "not a PDF" in err["not-a-pdf.pdf"] and "empty file" in err["empty.pdf"]
    assert "no pages" in err["zero-pages.pdf"]
    assert "no extractable text" in err["many-pages.pdf"] and "3000 pages" in err["many-pages.pdf"]
    for name in ("loop-a.pdf", "loop-b.pdf", "dangling.pdf", "fifo.pdf"):
        assert "not a regular file" in err[name] or "broken link" in err[name], (name, err[name])


def test_the_good_files_of_a_hostile_batch_are_searchable(hostile_batch):
    rag, _, report = hostile_batch
    added = {Path(d.path).name for d in report.documents if d.status == "added"}
    assert {"good.pdf", "broken-xref.pdf", "cyclic-outline.pdf", "invalid-utf16.pdf"} <= added
    hits = rag.search("looping outline fictional fever", k=3)
    assert any(Path(h.source).name == "cyclic-outline.pdf" for h in hits)
    titles = {d.title for d in rag.documents()}
    assert "invalid-utf16" in titles  # a mis-decoded UTF-16 title falls back to the file name
    assert all(t.isprintable() for t in titles)
    # re-running changes nothing: good files unchanged, bad ones fail again the same way
    again = rag.ingest([Path(report.documents[0].path).parent])
    statuses = {Path(d.path).name: d.status for d in again.documents}
    assert all(statuses[n] == "unchanged" for n in added)
    assert again.embedded == 0


def test_time_limit_stops_a_document(tmp_path):
    from ragmed.errors import DocumentError
    from ragmed.ingest.extract import file_sha256
    from ragmed.ingest.isolate import IsolatedExtractor, Limits

    pdf = tmp_path / "g.pdf"
    pdfgen.make_guideline_pdf(pdf)
    fast = list(IsolatedExtractor(Limits(time_s=0.001)).map([(pdf, file_sha256(pdf))]))
    assert isinstance(fast[0][1], DocumentError) and "limit per document" in str(fast[0][1])
    ok = list(IsolatedExtractor(Limits(time_s=30)).map([(pdf, file_sha256(pdf))]))
    assert ok[0][1].pages and len(ok[0][1].pages) == 5


def test_a_parser_crash_loses_only_that_file(tmp_path, monkeypatch):
    """The worker is killed (SIGKILL) at its 2nd document; a fresh one takes the rest."""
    from ragmed import RagMed

    folder = tmp_path / "docs"
    folder.mkdir()
    for i in range(4):
        pdfgen.make_text_pdf(folder / f"doc{i}.pdf", [[f"Fictional protocol number {i} about ward hygiene and hand washing."]])
    rag = RagMed(collection="crashy", index_dir=tmp_path / "idx")
    monkeypatch.setenv("RAGMED_FAILPOINT", "extract.parse:2")
    first = {Path(d.path).name: d for d in rag.ingest([folder]).documents}
    assert [first[f"doc{i}.pdf"].status for i in range(4)] == ["added", "failed", "added", "failed"]
    assert "crashed the parser" in first["doc1.pdf"].error
    monkeypatch.delenv("RAGMED_FAILPOINT")
    second = {Path(d.path).name: d.status for d in rag.ingest([folder]).documents}
    assert second == {"doc0.pdf": "unchanged", "doc1.pdf": "added", "doc2.pdf": "unchanged", "doc3.pdf": "added"}


def test_fuzzed_pdfs_never_escape_as_exceptions(tmp_path):
    """Mutations of real PDFs (hypothesis, fixed seed): every file is a document or a clear error."""
    from ragmed.ingest.extract import file_sha256
    from ragmed.ingest.isolate import IsolatedExtractor, Limits

    seeds = [SAMPLE_PDF, tmp_path / "guideline.pdf"]
    pdfgen.make_guideline_pdf(seeds[1])
    files = fuzzpdf.generate(seeds, tmp_path / "fuzz", FUZZ_CASES, seed=1)
    assert len(files) == FUZZ_CASES
    results = [r for _, r in IsolatedExtractor(Limits(time_s=20, memory_mb=1024)).map(
        [(f, file_sha256(f)) for f in files])]
    assert len(results) == FUZZ_CASES
    for r in results:
        if fuzzpdf.classify(r) == "ok":
            fuzzpdf.check_document(r)
        else:
            assert str(r) and "\n" not in str(r) and len(str(r)) <= 400
    kinds = fuzzpdf.tally(results)
    assert kinds["ok"] >= 1 and sum(kinds.values()) == FUZZ_CASES
    assert kinds["crash"] == 0, kinds  # pypdf raises; the worker never died on these
