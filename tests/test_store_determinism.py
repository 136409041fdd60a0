"""The same question gives the same passages and gate decision in every process, and dense search
is exact on collections below store/exact.py's size limit (issue 19, item 2)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT

TOPICS = ["malaria", "tuberculosis", "hypertension", "diabetes", "opioid", "hand hygiene", "schistosomiasis",
          "salt intake", "vaccination", "asthma"]
ASPECTS = ["first-line treatment", "dose for adults", "dose for children", "duration of therapy", "warning signs",
           "follow-up visits", "referral criteria", "diagnostic test"]
QUESTIONS = ["What is the first-line treatment of malaria?", "How long is tuberculosis therapy?",
             "When should a patient with hypertension be referred?", "What dose of opioid for adults?",
             "Which diagnostic test for schistosomiasis?", "How much salt per day?",
             "What are the warning signs of asthma?", "Follow-up visits for diabetes"]

SEARCH = """
import json, sys
from ragmed import RagMed
rag = RagMed(collection="det", index_dir=sys.argv[1])
out = {}
for q in json.loads(sys.argv[2]):
    hyb = rag.search(q, k=10)
    dense = rag.search(q, k=10, mode="dense")
    out[q] = {"hybrid": [p.id for p in hyb], "dense": [p.id for p in dense],
              "dense_scores": [p.score for p in dense], "gate": rag.answerability(q, hyb).to_dict()}
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def det_index(tmp_path_factory):
    from ragmed import RagMed

    d = tmp_path_factory.mktemp("det-docs")
    for t, topic in enumerate(TOPICS):  # ten generated documents, ~80 sections in all
        body = [f"# Clinic guideline on {topic}\n"]
        for a, aspect in enumerate(ASPECTS):
            body.append(f"## {aspect.capitalize()}\n\nFor {topic}, the {aspect} is described here: "
                        f"option {t * 10 + a} applies, reviewed every {a + 2} weeks, with {t + a + 1} checks "
                        f"recorded by the nurse in charge of {topic} care.\n")
        (d / f"{topic.replace(' ', '-')}.md").write_text("\n".join(body))
    idx = tmp_path_factory.mktemp("det-idx")
    rag = RagMed(collection="det", index_dir=idx)
    assert rag.ingest([d]).ok
    return rag


def _run(idx) -> dict:
    res = subprocess.run([sys.executable, "-c", SEARCH, str(idx), json.dumps(QUESTIONS)], capture_output=True,
                         text=True, cwd=ROOT, timeout=600)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout.strip().splitlines()[-1])


def test_two_processes_give_the_same_passages_and_decision(det_index):
    a, b = _run(det_index.index.index_dir), _run(det_index.index.index_dir)
    for q in QUESTIONS:
        assert a[q]["hybrid"] and a[q]["hybrid"] == b[q]["hybrid"], q
        assert a[q]["dense"] == b[q]["dense"], q
        assert a[q]["gate"] == b[q]["gate"], q
    here = {q: [p.id for p in det_index.search(q, k=10)] for q in QUESTIONS}
    assert here == {q: a[q]["hybrid"] for q in QUESTIONS}


def test_dense_search_is_exact_on_a_small_collection(det_index):
    rag = det_index
    got = rag.index.chroma().get(include=["embeddings"])
    ids = got["ids"]
    m = np.asarray(got["embeddings"], dtype=np.float32)
    m /= np.linalg.norm(m, axis=1, keepdims=True)
    for q in QUESTIONS:
        sims = m @ np.asarray(rag.embedder.embed_query(q), dtype=np.float32)
        order = np.argsort(-sims, kind="stable")[:10]
        dense = rag.search(q, k=10, mode="dense")
        assert [p.id for p in dense] == [ids[i] for i in order], q
        assert [p.score for p in dense] == pytest.approx([float(sims[i]) for i in order], abs=1e-5)


def test_new_and_old_collections_get_the_measured_search_breadth(det_index, tmp_path):
    from ragmed.store.chroma import HNSW, chroma_client, hnsw_settings
    from ragmed.store.collection import Collection

    assert {k: hnsw_settings(det_index.index.chroma()).get(k) for k in HNSW} == HNSW
    # a collection made with Chroma's defaults (before ragmed set them) gets ef_search raised
    old = Collection(tmp_path / "idx", "old")
    chroma_client(tmp_path / "idx" / "chroma").create_collection(
        "old", embedding_function=None, configuration={"hnsw": {"space": "cosine"}})
    assert hnsw_settings(old.chroma()).get("ef_search") == 100
    old.chroma(create=True)
    assert hnsw_settings(old.chroma()).get("ef_search") == HNSW["ef_search"]
