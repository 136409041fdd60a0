"""Retrieval modes, filters, de-duplication, neighbour context and lexical-index upkeep, on real
components (MiniLM, Chroma, bm25s) over small documents written here."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from ragmed import RagMed
from ragmed.cli import cli
from ragmed.retrieve.filters import SearchFilter
from ragmed.retrieve.hybrid import RetrievalConfig, Retriever
from ragmed.store.lexical import LexicalIndex, stamp_of

CARDIO = """# Hypertension protocol

## Starting doses

Start amlodipine 5 mg once daily and review the patient in 4 weeks.

## Follow-up

Stable patients are reviewed every 6 months with a clinic blood pressure reading.

## Kidney checks

Check kidney function and potassium two weeks after starting ramipril.
"""

INFECTION = """# Infection protocol

## Urinary infection

Give co-trimoxazole 960 mg twice daily for 3 days to non-pregnant adults.

## Cytokine storm

Tocilizumab blocks the IL-6 receptor and is reserved for severe inflammatory illness.

## Hand hygiene

Staff clean their hands for 20 seconds before and after each patient contact.
"""

# A second edition that repeats one statement of the cardio protocol word for word.
REPEAT = """# Hypertension quick card

## Reminders

Stable patients are reviewed every 6 months with a clinic blood pressure reading.

## Lifestyle

Advise less salt, regular walking and stopping smoking.
"""


@pytest.fixture(scope="module")
def docs(tmp_path_factory):
    d = tmp_path_factory.mktemp("retrieval-docs")
    (d / "cardio.md").write_text(CARDIO)
    (d / "infection.md").write_text(INFECTION)
    (d / "quick-card.md").write_text(REPEAT)
    return d


@pytest.fixture(scope="module")
def rag(docs, tmp_path_factory):
    r = RagMed(collection="retrieval", index_dir=tmp_path_factory.mktemp("retrieval-idx"))
    assert r.ingest([docs / "cardio.md"], tags={"dept": "cardiology", "date": "2023-05-01"}).ok
    assert r.ingest([docs / "infection.md"], tags={"dept": "infection", "date": "2025-01-10"}).ok
    assert r.ingest([docs / "quick-card.md"], tags={"dept": "cardiology", "date": "2024-02-01"}).ok
    return r


def _texts(passages):
    return [p.text for p in passages]


@pytest.mark.parametrize("query,expected", [
    ("IL6 receptor", "IL-6 receptor"),  # hyphenated name written without the hyphen
    ("cotrimoxazole", "co-trimoxazole 960 mg"),
    ("960mg", "co-trimoxazole 960 mg"),  # dose with the unit attached
    ("amlodipine 5 mg", "amlodipine 5 mg"),
])
def test_lexical_finds_doses_and_drug_names(rag, query, expected):
    top = rag.search(query, k=1, mode="lexical")
    assert top and expected in top[0].text
    assert top[0].ranks == {"lexical": 1} and top[0].scores["lexical"] > 0


def test_modes_report_their_evidence(rag):
    q = "How often are stable patients reviewed?"
    dense = rag.search(q, k=3, mode="dense")
    hybrid = rag.search(q, k=3, mode="hybrid")
    assert "every 6 months" in dense[0].text and "every 6 months" in hybrid[0].text
    assert set(dense[0].scores) == {"dense"} and -1 <= dense[0].scores["dense"] <= 1
    h = hybrid[0]
    assert {"dense", "lexical", "fused"} <= set(h.scores) and h.score == h.scores["fused"]
    assert h.ranks["dense"] >= 1 and h.ranks["lexical"] >= 1
    assert [p.rank for p in hybrid] == [1, 2, 3]
    assert [p.score for p in hybrid] == sorted((p.score for p in hybrid), reverse=True)


def test_rrf_fusion_scores_follow_the_formula(rag):
    r = Retriever(rag.index, rag.embedder, RetrievalConfig(fusion="rrf", dense_weight=0.5))
    top = r.search("co-trimoxazole dose", k=2)
    assert "co-trimoxazole" in top[0].text
    # Weighted RRF: score = sum over the lists that ranked it of 0.5 / (60 + rank)
    for p in top:
        assert p.score == pytest.approx(sum(0.5 / (60 + r) for r in p.ranks.values()))
    assert top[0].score > top[1].score


def test_near_duplicates_are_suppressed(rag):
    q = "stable patients reviewed every 6 months"
    with_dedup = rag.search(q, k=4, dedup=0.9)
    copies = [p for p in with_dedup if "every 6 months with a clinic blood pressure" in p.text]
    assert len(copies) == 1 and len(with_dedup) == 4
    assert rag.retriever.last.duplicates  # reported: dropped id -> the id it repeats
    r = Retriever(rag.index, rag.embedder, RetrievalConfig(dedup_threshold=0))
    copies = [p for p in r.search(q, k=4) if "every 6 months with a clinic blood pressure" in p.text]
    assert len(copies) == 2
    assert {c.source.rsplit("/", 1)[-1] for c in copies} == {"cardio.md", "quick-card.md"}


@pytest.mark.parametrize("mode", ["dense", "lexical", "hybrid"])
def test_filters(rag, mode):
    q = "patients"
    by_doc = rag.search(q, k=10, mode=mode, filter=SearchFilter(documents=("infection",)))
    assert by_doc and all(p.source.endswith("infection.md") for p in by_doc)
    by_tag = rag.search(q, k=10, mode=mode, filter=SearchFilter(tags={"dept": "cardiology"}))
    assert by_tag and {p.source.rsplit("/", 1)[-1] for p in by_tag} <= {"cardio.md", "quick-card.md"}
    after = rag.search(q, k=10, mode=mode, filter=SearchFilter(after="2024-06"))
    assert after and all(p.source.endswith("infection.md") for p in after)
    before = rag.search(q, k=10, mode=mode, filter=SearchFilter(before="2023"))
    assert before and all(p.source.endswith("cardio.md") for p in before)
    by_section = rag.search("patient", k=10, mode=mode, filter=SearchFilter(sections=("follow-up",)))
    assert by_section and all(p.section_path.endswith("Follow-up") for p in by_section)
    assert rag.search(q, k=5, mode=mode, filter=SearchFilter(tags={"dept": "oncology"})) == []
    assert rag.search(q, k=5, mode=mode, filter=SearchFilter(sections=("no such section",))) == []


def test_neighbour_context_is_the_adjacent_chunks(rag):
    r = Retriever(rag.index, rag.embedder, RetrievalConfig(neighbours=1))
    p = r.search("stable patients every 6 months clinic reading", k=1, filter=SearchFilter(documents=("cardio",)))[0]
    got = rag.index.chroma().get(where={"doc_id": p.doc_id}, include=["documents", "metadatas"])
    by_index = {m["index"]: t for t, m in zip(got["documents"], got["metadatas"])}
    assert p.context_before == by_index[p.index - 1] and p.context_after == by_index[p.index + 1]
    from ragmed.prompt.grounded import passage_block

    block = passage_block(1, p)
    assert block.startswith("[1] ") and "amlodipine" in block and "potassium" in block


def test_bad_filters_are_clear_errors(rag):
    from ragmed.errors import InputError

    with pytest.raises(InputError, match="not a date"):
        SearchFilter(after="last week")
    res = CliRunner().invoke(cli, ["search", "x", "--index-dir", str(rag.index.index_dir), "-c", "retrieval",
                                   "--tag", "nokeyvalue"])
    assert res.exit_code == 1 and "key=value" in res.output


def test_cli_search_json(rag):
    res = CliRunner().invoke(cli, ["search", "IL-6", "--index-dir", str(rag.index.index_dir), "-c", "retrieval",
                                   "--retrieval", "lexical", "-k", "2", "--json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.output)
    assert "IL-6" in rows[0]["text"] and rows[0]["ranks"] == {"lexical": 1}


def test_lexical_index_follows_replace_and_remove(docs, tmp_path):
    d = tmp_path / "docs"
    d.mkdir()
    f = d / "infection.md"
    f.write_text(INFECTION)
    r = RagMed(collection="lexupd", index_dir=tmp_path / "idx")
    assert r.ingest([d]).ok
    assert "IL-6" in r.search("tocilizumab", k=1, mode="lexical")[0].text
    f.write_text(INFECTION.replace("Tocilizumab", "Sarilumab"))
    assert r.ingest([d]).documents[0].status == "updated"
    assert r.search("tocilizumab", k=3, mode="lexical") == []
    assert "Sarilumab" in r.search("sarilumab", k=1, mode="lexical")[0].text
    lex = LexicalIndex(r.index.dir)
    m = r.index.require_manifest()
    assert lex.is_current(m)
    chroma_ids = sorted(r.index.chroma().get(include=[])["ids"])
    assert sorted(x.id for x in lex.snapshot(m).refs) == chroma_ids
    assert [p.name for p in lex.versions.iterdir()] == [f"{m.documents[str(f)]['doc_id']}.{m.documents[str(f)]['sha256']}.json.gz"]
    r.remove([f])
    m = r.index.require_manifest()
    assert r.search("sarilumab", k=3, mode="lexical") == []
    assert lex.is_current(m) and list(lex.versions.iterdir()) == []
    assert stamp_of(m) == json.loads((lex.dir / "current.json").read_text())["stamp"]


def test_missing_lexical_files_are_rebuilt_from_chroma(docs, tmp_path):
    """An index whose lexical side is gone (e.g. made by ragmed 0.1) is repaired from Chroma's texts."""
    r = RagMed(collection="lexrepair", index_dir=tmp_path / "idx")
    assert r.ingest([docs / "infection.md"]).ok
    before = [p.id for p in r.search("co-trimoxazole 960 mg", k=3, mode="lexical")]
    LexicalIndex(r.index.dir).drop()
    fresh = RagMed(collection="lexrepair", index_dir=tmp_path / "idx")
    from ragmed.store import lexical as lexmod

    lexmod._CACHE.clear()
    assert [p.id for p in fresh.search("co-trimoxazole 960 mg", k=3, mode="lexical")] == before
    assert fresh.ingest([docs / "infection.md"]).documents[0].status == "unchanged"
    assert LexicalIndex(r.index.dir).is_current(r.index.require_manifest())


def test_tags_update_without_reembedding(docs, tmp_path):
    r = RagMed(collection="tagupd", index_dir=tmp_path / "idx")
    assert r.ingest([docs / "cardio.md"], tags={"dept": "cardiology"}).ok
    rep = r.ingest([docs / "cardio.md"], tags={"dept": "renal"})
    assert rep.documents[0].status == "unchanged" and rep.embedded == 0
    assert r.search("potassium", k=1, filter=SearchFilter(tags={"dept": "renal"}))
    assert r.search("potassium", k=1, filter=SearchFilter(tags={"dept": "cardiology"})) == []
    info = r.documents()[0]
    assert info.tags == {"dept": "renal"} and len(info.date) == 10  # file date: markdown has no metadata
    res = CliRunner().invoke(cli, ["docs", "list", "--index-dir", str(tmp_path / "idx"), "-c", "tagupd"])
    assert res.exit_code == 0 and "dept=renal" in res.output
