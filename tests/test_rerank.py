"""Reranking plumbing with a real cross-encoder built from the bundled MiniLM weights.

The classification head of such a model is randomly initialised (seeded here), so its scores carry
no relevance: these tests check the plumbing (loading by path, which passages are scored, the
resulting order and scores), not ranking quality.
"""

from __future__ import annotations

import pytest

from ragmed import RagMed
from ragmed.errors import ModelNotFoundError
from ragmed.retrieve.hybrid import RetrievalConfig, Retriever
from ragmed.retrieve.rerank import CrossEncoderReranker, rerank
from ragmed.types import chunk_embed_text


@pytest.fixture(scope="module")
def rag(tmp_path_factory, good_dir_module):
    r = RagMed(collection="rerank", index_dir=tmp_path_factory.mktemp("rerank-idx"))
    assert r.ingest([good_dir_module]).ok
    return r


@pytest.fixture(scope="module")
def good_dir_module(tmp_path_factory):
    import shutil

    from support import pdfgen
    from conftest import SAMPLE_PDF

    d = tmp_path_factory.mktemp("rerank-docs")
    pdfgen.make_guideline_pdf(d / "guideline.pdf")
    shutil.copy(SAMPLE_PDF, d / "protocol.pdf")
    return d


def test_reranker_orders_by_its_own_scores(rag, cross_encoder_dir):
    from sentence_transformers import CrossEncoder

    q = "What dose of amlodipine is started?"
    reranker = CrossEncoderReranker(cross_encoder_dir)
    r = Retriever(rag.index, rag.embedder, RetrievalConfig(rerank_depth=6), reranker=reranker)
    got = r.search(q, k=6)
    plain = Retriever(rag.index, rag.embedder, RetrievalConfig()).search(q, k=6)
    assert {p.id for p in got} == {p.id for p in plain}  # the same candidates, re-ordered
    # Independent scoring with sentence-transformers directly: the order must follow it.
    ce = CrossEncoder(str(cross_encoder_dir), device="cpu", local_files_only=True)
    expected = ce.predict([(q, chunk_embed_text(p.title, p.section, p.text)) for p in got])
    assert [p.scores["rerank"] for p in got] == pytest.approx([float(x) for x in expected], abs=1e-5)
    assert [p.score for p in got] == sorted((p.score for p in got), reverse=True)
    assert [p.ranks["rerank"] for p in got] == list(range(1, 7))
    assert all("fused" in p.scores for p in got)  # earlier evidence is kept
    assert r.last.rerank_s > 0


def test_rerank_depth_leaves_the_tail_in_fused_order(rag, cross_encoder_dir):
    reranker = CrossEncoderReranker(cross_encoder_dir)
    passages = Retriever(rag.index, rag.embedder).search("blood pressure follow-up", k=8)
    out = rerank(reranker, "blood pressure follow-up", passages, depth=3)
    assert {p.id for p in out[:3]} == {p.id for p in passages[:3]}
    assert [p.id for p in out[3:]] == [p.id for p in passages[3:]]
    assert all("rerank" not in p.scores for p in out[3:])
    assert [p.rank for p in out] == list(range(1, 9))


def test_reranker_configured_through_settings(rag, cross_encoder_dir):
    r = RagMed(collection="rerank", index_dir=rag.index.index_dir, reranker=str(cross_encoder_dir))
    got = r.search("amlodipine", k=3)
    assert all("rerank" in p.scores for p in got)


def test_reranker_path_must_be_a_model_folder(tmp_path):
    with pytest.raises(ModelNotFoundError, match="cross-encoder"):
        CrossEncoderReranker(tmp_path)
