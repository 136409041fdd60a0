"""Current guidance wins (issue 25): editions, superseded marks and disagreeing sources, through the
Python API, the CLI (text and --json), LangChain and the answer pipeline with a real model. Real
components: Chroma, the bundled MiniLM embedder, SmolLM2. The documents are the benchmark's
generated fictional protocols (ragmed/eval/editions.py, seed 3)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ragmed.cli import cli
from ragmed.eval.editions import world
from ragmed.store.versions import editions, prefer_current, series_key

SEED = 3


@pytest.fixture(scope="module")
def editions_rag(tmp_path_factory):
    from ragmed import RagMed

    w = world(SEED)
    folder = tmp_path_factory.mktemp("editions")
    for d in w.docs:
        (folder / d.name).write_text(d.text, encoding="utf-8")
    rag = RagMed(collection="editions", index_dir=folder / "idx", max_tokens=96)
    assert rag.ingest([folder]).ok
    paths = {d.name: str((folder / d.name).resolve()) for d in w.docs}
    return rag, w, paths


def _question(w, expect: str, editions_pair: bool = True):
    for q in w.questions:
        if q.expect == expect and (expect != "unchanged" or
                                   any(d.supersedes for d in w.docs if d.name in q.docs) == editions_pair):
            return q
    raise AssertionError(f"seed {SEED} has no {expect} question")


def test_series_key_and_edition_order():
    assert series_key("Hypertension protocol 2023 (v2)") == series_key("Hypertension Protocol, March 2024")
    assert series_key("Guideline part 1") != series_key("Guideline part 2")
    docs = {"/a/p-2021.md": {"title": "Gout protocol 2021", "date": "2021-04"},
            "/a/p-2023.md": {"title": "Gout protocol 2023", "date": "2023-02"},
            "/a/copy.md": {"title": "Asthma plan", "date": "2022"}, "/a/copy2.md": {"title": "Asthma plan", "date": "2022"}}
    eds = editions(docs)
    assert eds.superseded("/a/p-2021.md").superseded_by == "/a/p-2023.md"
    assert eds.superseded("/a/p-2023.md") is None
    assert "/a/copy.md" not in eds.of  # same title, same date: copies, not editions
    # declared: wins over dates, and a missing predecessor is reported
    docs["/a/p-2021.md"]["tags"] = {"supersedes": "/a/p-2023.md"}
    docs["/a/copy2.md"]["tags"] = {"supersedes": "/a/gone.md"}
    eds = editions(docs)
    assert eds.superseded("/a/p-2023.md").superseded_by == "/a/p-2021.md"
    assert any("gone.md" in p for p in eds.problems)


def test_prefer_current_moves_a_superseded_passage_after_its_current_edition():
    from types import SimpleNamespace as P

    eds = editions({"/old.md": {"title": "Gout protocol 2021", "date": "2021"},
                    "/new.md": {"title": "Gout protocol 2023", "date": "2023"}, "/x.md": {"title": "Other", "date": "2020"}})
    got = prefer_current([P(source="/old.md", id=1), P(source="/x.md", id=2), P(source="/new.md", id=3)], eds)
    assert [p.id for p in got] == [2, 3, 1]
    alone = prefer_current([P(source="/old.md", id=1), P(source="/x.md", id=2)], eds)
    assert [p.id for p in alone] == [1, 2]  # the current edition not among them: kept, marked later


def test_documents_list_marks_the_superseded_edition(editions_rag):
    rag, w, paths = editions_rag
    old = next(d for d in w.docs if d.supersedes)  # the newer edition names the one it replaces
    infos = {Path(i.path).name: i for i in rag.documents()}
    assert infos[old.supersedes].superseded_by == paths[old.name]
    assert infos[old.supersedes].superseded_by_date == old.date  # read from "Version 2.0 - Month YYYY"
    assert infos[old.name].superseded_by == "" and infos[old.name].editions == 2
    out = CliRunner().invoke(cli, ["docs", "list", "-c", "editions", "--index-dir", str(rag.settings.index_dir)])
    assert out.exit_code == 0, out.output
    assert f"SUPERSEDED by {old.name} (dated {old.date})" in out.output


def test_evidence_on_a_changed_fact_prefers_the_current_edition_and_shows_the_change(editions_rag):
    rag, w, paths = editions_rag
    q = _question(w, "changed")
    old, new = (paths[n] for n in q.docs)
    a = rag.evidence(q.text)
    assert a.evidence and a.evidence[0].source == new
    for e in a.evidence:  # every sentence of the old edition says so, with the new edition's date
        assert bool(e.superseded) == (e.source == old)
        if e.source == old:
            assert "superseded by the edition of" in e.superseded and f"({e.superseded})" in a.answer
    assert a.conflicts, a.notices
    c = a.conflicts[0]
    assert c.editions and c.a.source == new and c.b.source == old and c.b.superseded
    assert {" ".join(c.a.text.split()), " ".join(c.b.text.split())} == set(q.statements)
    assert any(n.startswith("Changed between editions:") for n in a.notices)
    d = a.to_dict()
    assert d["conflicts"][0]["editions"] is True and d["conflicts"][0]["b"]["date"]


def test_unchanged_facts_report_no_false_conflict(editions_rag):
    rag, w, _ = editions_rag
    planted = {frozenset(" ".join(s.split()) for s in q.statements) for q in w.questions if q.statements}
    for q in [x for x in w.questions if x.expect == "unchanged"][:6]:
        a = rag.evidence(q.text)
        found = [frozenset({" ".join(c.a.text.split()), " ".join(c.b.text.split())}) for c in a.conflicts]
        assert all(f in planted for f in found), (q.text, [c.summary() for c in a.conflicts])


def test_disagreeing_guidelines_are_shown_with_both_dates(editions_rag):
    rag, w, paths = editions_rag
    q = _question(w, "disagree")
    a = rag.evidence(q.text)
    assert a.conflicts, (q.text, a.answer)
    c = a.conflicts[0]
    assert not c.editions and {c.a.source, c.b.source} == {paths[n] for n in q.docs}
    assert c.a.date > c.b.date  # the newer statement first, each with its document's date
    line = next(n for n in a.notices if n.startswith("Sources disagree:"))
    assert c.a.date in line and c.b.date in line


def test_cli_ask_evidence_text_and_json(editions_rag):
    rag, w, _ = editions_rag
    q = _question(w, "changed")
    base = ["ask", q.text, "--mode", "evidence", "-c", "editions", "--index-dir", str(rag.settings.index_dir)]
    out = CliRunner().invoke(cli, base)
    assert out.exit_code == 0, out.output
    assert "Changed between editions:" in out.output
    data = json.loads(CliRunner().invoke(cli, [*base, "--json"]).output)
    assert data["conflicts"] and data["conflicts"][0]["editions"]
    old = [c for c in data["citations"] if c["superseded"]]
    assert all(c["superseded_by_date"] for c in old)


def test_ingest_supersedes_declares_an_edition(tmp_path):
    from ragmed import RagMed

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "chronic-pain-2016.md").write_text("# Opioids for chronic pain\n\nVersion 1 - March 2016\n\n"
                                               "Avoid increasing the dose to 90 MME per day or more.\n")
    (docs / "pain-2022.md").write_text("# Clinical practice guideline for prescribing opioids for pain\n\n"
                                       "Version 2 - November 2022\n\nAvoid increasing the dose to 50 MME per day or more.\n")
    idx = ["-c", "declared", "--index-dir", str(tmp_path / "idx")]
    assert CliRunner().invoke(cli, ["ingest", str(docs / "chronic-pain-2016.md"), *idx]).exit_code == 0
    out = CliRunner().invoke(cli, ["ingest", str(docs / "pain-2022.md"), "--supersedes",
                                   str(docs / "chronic-pain-2016.md"), *idx])
    assert out.exit_code == 0, out.output
    rag = RagMed(collection="declared", index_dir=tmp_path / "idx")
    infos = {Path(i.path).name: i for i in rag.documents()}
    assert infos["chronic-pain-2016.md"].superseded_by.endswith("pain-2022.md")
    assert infos["chronic-pain-2016.md"].superseded_by_date == "2022-11"
    out = CliRunner().invoke(cli, ["ingest", str(docs / "pain-2022.md"), "--supersedes", "nowhere.md", *idx])
    assert "not in this collection" in out.output


def test_langchain_metadata_marks_superseded_passages(editions_rag):
    pytest.importorskip("langchain_core")
    from ragmed.integrations.langchain import RagMedRetriever

    rag, w, paths = editions_rag
    q = _question(w, "changed")
    docs = RagMedRetriever(rag=rag, k=8).invoke(q.text)
    old = [d for d in docs if d.metadata["source"] == paths[q.docs[0]]]
    new = [d for d in docs if d.metadata["source"] == paths[q.docs[1]]]
    assert new and all("superseded" not in d.metadata for d in new)
    assert old and all(d.metadata["superseded_by"] == paths[q.docs[1]] and d.metadata["superseded_by_date"]
                       for d in old)
    assert docs.index(new[0]) < docs.index(old[0])  # retrieval prefers the current edition
    assert all(d.metadata["date_source"] == "document text" for d in docs)


@pytest.mark.slow
def test_ask_with_a_model_carries_the_conflict_and_superseded_citations(editions_rag):
    rag, w, paths = editions_rag
    q = _question(w, "changed")
    a = rag.ask(q.text)
    assert a.conflicts and a.conflicts[0].editions
    assert any(n.startswith("Changed between editions:") for n in a.notices)
    for c in a.citations:
        assert bool(c.superseded) == (c.source == paths[q.docs[0]])
    assert a.to_dict()["conflicts"][0]["a"]["source"] == paths[q.docs[1]]
