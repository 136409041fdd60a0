"""Evidence mode: ranked, cited sentences from the retrieved passages, with no model at all."""

from __future__ import annotations

import json

from click.testing import CliRunner

from ragmed import RagMed
from ragmed.cli import cli

Q = "What starting dose of amlodipine is used?"


def test_evidence_ranks_cited_sentences_without_any_model(demo_rag):
    # A model that does not exist: evidence mode must never need one.
    rag = RagMed(collection="demo", index_dir=demo_rag.index.index_dir, model="no-such-model.gguf")
    a = rag.evidence(Q, k=3)
    assert rag._generator is None
    assert a.evidence and "amlodipine 5 mg once daily" in a.evidence[0].text
    assert [e.score for e in a.evidence] == sorted((e.score for e in a.evidence), reverse=True)
    for e in a.evidence:  # each sentence is quoted verbatim from the passage it cites
        assert " ".join(e.text.split()) in " ".join(a.passages[e.n - 1].text.split())
        assert e.page == a.passages[e.n - 1].page
    assert a.citations and not a.invalid_citations and a.usage.completion_tokens == 0
    assert a.answer.splitlines()[0].endswith(f"[{a.evidence[0].n}]")


def test_cli_evidence_json_and_bad_combination(demo_rag):
    args = ["ask", Q, "--collection", "demo", "--index-dir", str(demo_rag.index.index_dir), "--mode", "evidence"]
    res = CliRunner().invoke(cli, args + ["--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["evidence"][0]["n"] >= 1 and data["model"].startswith("evidence")
    res = CliRunner().invoke(cli, args + ["--no-retrieval"])
    assert res.exit_code == 2 and "--no-retrieval" in res.output


def test_sources_show_title_date_and_version(tmp_path):
    from conftest import SAMPLE_PDF

    rag = RagMed(collection="currency", index_dir=tmp_path / "idx")
    assert rag.ingest([SAMPLE_PDF], tags={"version": "2.1"}).ok
    a = rag.evidence(Q, k=2)
    c = a.citations[0]
    assert c.version == "2.1" and c.date == rag.documents()[0].date and len(c.date) == 10
    assert c.title == "Demo Clinic Hypertension Protocol (fictional demo)"
    res = CliRunner().invoke(cli, ["ask", Q, "--collection", "currency", "--index-dir", str(tmp_path / "idx"),
                                   "--mode", "evidence", "-k", "2"])
    assert res.exit_code == 0 and "version 2.1, dated " in res.output
