"""Document identity by content (ingest/identity.py), labels of colliding names, the no-op run."""

from __future__ import annotations

import shutil

from support import pdfgen

from ragmed import RagMed
from ragmed.ingest.identity import source_labels


def _pdf(path, sentence):
    return pdfgen.make_text_pdf(path, [[sentence]])


def test_a_renamed_file_is_a_move_nothing_embedded(tmp_path):
    d = tmp_path / "docs"
    d.mkdir()
    _pdf(d / "falls.pdf", "Refer a patient to the falls clinic after two falls in twelve months.")
    rag = RagMed(collection="ident", index_dir=tmp_path / "idx")
    rag.ingest([d])
    (d / "falls.pdf").rename(d / "falls-reviewed.pdf")
    report = rag.ingest([d])
    [r] = report.documents
    assert r.status == "moved" and r.moved_from == str(d / "falls.pdf") and report.embedded == 0
    assert [i.path for i in rag.documents()] == [str(d / "falls-reviewed.pdf")]
    found = RagMed(collection="ident", index_dir=tmp_path / "idx").search("falls clinic referral", k=5)
    assert {p.source for p in found} == {str(d / "falls-reviewed.pdf")}
    # the moved document is updated in place when its content changes later (old chunks gone)
    _pdf(d / "falls-reviewed.pdf", "Refer a patient to the falls clinic after one injurious fall.")
    assert rag.ingest([d]).documents[0].status == "updated"
    texts = [p.text for p in RagMed(collection="ident", index_dir=tmp_path / "idx").search("falls clinic", k=5)]
    assert len(texts) == 1 and "one injurious fall" in texts[0]


def test_the_same_content_twice_is_indexed_once(tmp_path):
    d = tmp_path / "docs"
    (d / "a").mkdir(parents=True)
    (d / "b").mkdir()
    _pdf(d / "a" / "sepsis.pdf", "Give antibiotics within one hour of recognising sepsis.")
    shutil.copy(d / "a" / "sepsis.pdf", d / "b" / "sepsis-copy.pdf")
    rag = RagMed(collection="dups", index_dir=tmp_path / "idx")
    report = rag.ingest([d])
    status = {r.path.rsplit("/", 1)[-1]: r for r in report.documents}
    assert status["sepsis.pdf"].status == "added"
    assert status["sepsis-copy.pdf"].status == "duplicate" and status["sepsis-copy.pdf"].duplicate_of.endswith("a/sepsis.pdf")
    assert len(rag.documents()) == 1
    assert len(rag.search("antibiotics sepsis", k=5)) == 1
    # again (e.g. uploaded twice): still a duplicate, still one document
    again = rag.ingest([d / "b" / "sepsis-copy.pdf"])
    assert again.documents[0].status == "duplicate" and len(rag.documents()) == 1


def test_a_removed_document_stays_removed_until_restored(tmp_path):
    d = tmp_path / "docs"
    d.mkdir()
    _pdf(d / "keep.pdf", "Hand hygiene takes twenty seconds.")
    _pdf(d / "old.pdf", "The withdrawn protocol used a different dose.")
    rag = RagMed(collection="excl", index_dir=tmp_path / "idx")
    rag.ingest([d])
    [removed] = rag.remove([d / "old.pdf"])
    assert removed.status == "removed" and "--restore" in removed.warnings[0]
    assert list(rag.excluded()) == [str(d / "old.pdf")]
    sync = rag.ingest([d], prune=True)
    held = [r for r in sync.documents if r.status == "excluded"]
    assert [r.path for r in held] == [str(d / "old.pdf")] and "--restore" in held[0].warnings[0]
    assert [i.path for i in rag.documents()] == [str(d / "keep.pdf")]
    back = rag.ingest([d], restore=True)
    assert {r.path: r.status for r in back.documents}[str(d / "old.pdf")] == "added"
    assert rag.excluded() == {} and len(rag.documents()) == 2


def test_colliding_names_are_labelled_by_their_folder(tmp_path):
    labels = source_labels(["/x/guidelines/2024/htn.pdf", "/x/guidelines/2025/htn.pdf", "/x/other.pdf",
                            "/a/same/dup.pdf", "/b/same/dup.pdf"])
    assert labels["/x/guidelines/2024/htn.pdf"] == "2024/htn.pdf"
    assert labels["/x/guidelines/2025/htn.pdf"] == "2025/htn.pdf"
    assert labels["/x/other.pdf"] == "other.pdf"
    assert labels["/a/same/dup.pdf"] == "a/same/dup.pdf"
    d = tmp_path / "guidelines"
    for year, target in (("2024", "140/90"), ("2025", "130/80")):
        (d / year).mkdir(parents=True)
        _pdf(d / year / "hypertension-protocol.pdf", f"The clinic blood pressure target is below {target} mmHg.")
    rag = RagMed(collection="labels", index_dir=tmp_path / "idx")
    rag.ingest([d])
    found = rag.search("blood pressure target", k=2)
    from ragmed.prompt.grounded import describe

    assert sorted(describe(p) for p in found) == ["2024/hypertension-protocol.pdf, page 1",
                                                  "2025/hypertension-protocol.pdf, page 1"]
    cites = rag.with_currency([__import__("ragmed.types", fromlist=["Citation"]).Citation(
        1, found[0].id, found[0].source, 1, "1", "", "q")])
    assert cites[0].label == found[0].label and "/" in cites[0].label


def test_unchanged_files_do_not_load_the_embedder(tmp_path):
    d = tmp_path / "docs"
    d.mkdir()
    _pdf(d / "a.pdf", "Check the blood glucose before insulin.")
    RagMed(collection="noop", index_dir=tmp_path / "idx").ingest([d])
    rag = RagMed(collection="noop", index_dir=tmp_path / "idx")
    report = rag.ingest([d])
    assert report.count("unchanged") == 1 and rag._embedder is None
    rag.remove([d / "a.pdf"])
    assert rag._embedder is None
