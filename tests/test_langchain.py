"""The LangChain adapters (ragmed/integrations/langchain.py) over the real demo collection:
langchain's standard retriever conformance tests, provenance, filters, async, and the cited-answer
runnable with the bundled SmolLM2 model."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import pytest
from langchain_core.documents import Document
from langchain_core.runnables import RunnableLambda, RunnablePassthrough
from langchain_tests.integration_tests import RetrieversIntegrationTests
from pydantic import ValidationError

from conftest import ROOT, SAMPLE_PDF
from ragmed import InputError, SearchFilter
from ragmed.pipeline import EVIDENCE_PASSAGES
from ragmed.integrations.langchain import (
    RagMedAnswerer,
    RagMedRetriever,
    answer_runnable,
    passage_to_document,
)

QUESTION = "How often are stable patients seen for follow-up?"
OFF_TOPIC = "Who won the football world cup in 1998?"


class TestRagMedRetrieverStandard(RetrieversIntegrationTests):
    """langchain-tests' RetrieversIntegrationTests: k as constructor parameter and as invoke kwarg,
    invoke and ainvoke return Documents."""

    # pytest-asyncio (strict mode) runs the suite's one coroutine test, test_ainvoke_returns_documents,
    # only when marked; a class mark also reaches the sync tests, which pytest-asyncio warns about.
    pytestmark = [pytest.mark.asyncio,
                  pytest.mark.filterwarnings("ignore:The test <Function .* is marked with '@pytest.mark.asyncio'")]

    @pytest.fixture(autouse=True)
    def _demo(self, demo_rag):
        self._rag = demo_rag

    @property
    def retriever_constructor(self) -> type[RagMedRetriever]:
        return RagMedRetriever

    @property
    def retriever_constructor_params(self) -> dict:
        return {"rag": self._rag}

    @property
    def retriever_query_example(self) -> str:
        return QUESTION


# -- the retriever ---------------------------------------------------------------------------------


def test_documents_carry_the_provenance_of_ragmed_search(demo_rag):
    docs = RagMedRetriever(rag=demo_rag, k=3).invoke(QUESTION)
    passages = demo_rag.search(QUESTION, k=3)
    assert [d.id for d in docs] == [p.id for p in passages] and len(docs) == 3
    for d, p in zip(docs, passages):
        assert isinstance(d, Document)
        assert d.page_content == p.text
        m = d.metadata
        assert m["passage_id"] == p.id and m["doc_id"] == p.doc_id and m["file_sha256"] == p.file_sha256
        assert m["source"] == p.source and m["title"] == p.title
        assert (m["page"], m["page_end"], m["page_label"]) == (p.page_start, p.page_end, p.page_label)
        assert m["section"] == p.section_path
        assert m["rank"] == p.rank and m["score"] == pytest.approx(p.score)
        for stage, value in p.scores.items():
            assert m[f"score_{stage}"] == pytest.approx(value)
        for stage, value in p.ranks.items():
            assert m[f"rank_{stage}"] == value
    top = docs[0].metadata
    # the known answer of the demo protocol: printed page 4 is the 5th physical page
    assert top["source"] == str(SAMPLE_PDF)
    assert (top["page"], top["page_label"]) == (5, "4")
    assert top["section"] == "Follow-up intervals > Stable patients"
    assert "6 months" in docs[0].page_content
    assert top["date"] == "2026-01-01"  # the document's date, as citations show it
    assert {"score_dense", "score_lexical", "score_fused", "rank_dense", "rank_lexical"} <= set(top)


def test_metadata_is_plain_json(demo_rag):
    for d in RagMedRetriever(rag=demo_rag, k=5).invoke(QUESTION):
        for key, value in d.metadata.items():
            assert type(value) in (str, int, float), (key, type(value))  # no numpy, tuples or bools
        assert json.loads(json.dumps(d.metadata)) == d.metadata


def test_k_defaults_to_the_settings_and_can_be_given_per_call(demo_rag):
    r = RagMedRetriever(rag=demo_rag)
    assert r.k is None and len(r.invoke(QUESTION)) == demo_rag.settings.k
    assert len(RagMedRetriever(rag=demo_rag, k=5).invoke(QUESTION, k=2)) == 2
    with pytest.raises(ValidationError):
        RagMedRetriever(rag=demo_rag, k=0)
    with pytest.raises(InputError):
        r.invoke(QUESTION, k=0)
    with pytest.raises(TypeError, match="kk"):
        r.invoke(QUESTION, kk=2)


def test_mode_passes_through(demo_rag):
    q = "amlodipine starting dose"
    for mode in ("dense", "lexical"):
        docs = RagMedRetriever(rag=demo_rag, k=4, mode=mode).invoke(q)
        passages = demo_rag.search(q, k=4, mode=mode)
        assert [d.id for d in docs] == [p.id for p in passages]
        assert [d.metadata["score"] for d in docs] == pytest.approx([p.score for p in passages])
        other = "lexical" if mode == "dense" else "dense"
        assert not any(f"score_{other}" in d.metadata for d in docs)  # one ranker only
    per_call = RagMedRetriever(rag=demo_rag, k=4).invoke(q, mode="lexical")
    assert [d.id for d in per_call] == [p.id for p in demo_rag.search(q, k=4, mode="lexical")]
    with pytest.raises(ValidationError):
        RagMedRetriever(rag=demo_rag, mode="semantic")


def test_filters_pass_through(demo_rag):
    flt = SearchFilter(sections=("Medication doses",))
    docs = RagMedRetriever(rag=demo_rag, k=3, filter=flt).invoke(QUESTION)
    assert docs and all(d.metadata["section"].startswith("Medication doses") for d in docs)
    assert [d.id for d in docs] == [p.id for p in demo_rag.search(QUESTION, k=3, filter=flt)]
    # the unfiltered top passage (Follow-up intervals) is filtered out
    assert RagMedRetriever(rag=demo_rag, k=1).invoke(QUESTION)[0].id not in {d.id for d in docs}
    # a dict works too, in the constructor and per call
    as_dict = RagMedRetriever(rag=demo_rag, k=3, filter={"sections": ["Medication doses"]})
    assert isinstance(as_dict.filter, SearchFilter)
    assert [d.id for d in as_dict.invoke(QUESTION)] == [d.id for d in docs]
    per_call = RagMedRetriever(rag=demo_rag, k=3).invoke(QUESTION, filter={"sections": "Medication doses"})
    assert [d.id for d in per_call] == [d.id for d in docs]
    # document-level conditions: nothing matches, nothing comes back
    assert RagMedRetriever(rag=demo_rag, filter=SearchFilter(tags={"dept": "oncology"})).invoke(QUESTION) == []
    assert RagMedRetriever(rag=demo_rag).invoke(QUESTION, filter={"documents": ["no-such-file"]}) == []
    assert RagMedRetriever(rag=demo_rag).invoke(QUESTION, filter={"before": "2025"}) == []  # dated 2026
    with pytest.raises(InputError, match="sectoins"):
        RagMedRetriever(rag=demo_rag).invoke(QUESTION, filter={"sectoins": "x"})


def test_built_lazily_from_collection_and_index_dir(demo_rag):
    r = RagMedRetriever(collection="demo", index_dir=demo_rag.index.index_dir, k=2)
    assert r.rag is None
    docs = r.invoke(QUESTION)
    assert r.get_rag() is not demo_rag and r.get_rag() is r.get_rag()
    assert r.get_rag().index.index_dir == demo_rag.index.index_dir
    assert [d.id for d in docs] == [p.id for p in demo_rag.search(QUESTION, k=2)]
    with pytest.raises(ValidationError, match="either"):
        RagMedRetriever(rag=demo_rag, collection="demo")


def test_ainvoke_and_abatch(demo_rag):
    r = RagMedRetriever(rag=demo_rag, k=3)
    sync = [d.id for d in r.invoke(QUESTION)]

    async def run():
        one = await r.ainvoke(QUESTION)
        two = await r.ainvoke(QUESTION, k=2, mode="lexical")
        many = await r.abatch([QUESTION, "amlodipine starting dose"])
        return one, two, many

    one, two, many = asyncio.run(run())
    assert [d.id for d in one] == sync
    assert [d.id for d in two] == [p.id for p in demo_rag.search(QUESTION, k=2, mode="lexical")]
    assert [d.id for d in many[0]] == sync and len(many[1]) == 3 and many[1][0].id != sync[0]


def test_retriever_in_a_chain(demo_rag):
    def cite(docs):
        return "\n".join(f"[{d.metadata['title']}, p. {d.metadata['page_label']}] {d.page_content}" for d in docs)

    chain = {"context": RagMedRetriever(rag=demo_rag, k=2) | cite, "question": RunnablePassthrough()} | RunnableLambda(
        lambda x: f"Q: {x['question']}\n{x['context']}")
    out = chain.invoke(QUESTION)
    assert out.startswith(f"Q: {QUESTION}\n[Demo Clinic Hypertension Protocol (fictional demo), p. 4]")
    assert "6 months" in out


def test_passage_to_document_without_manifest_entry(demo_rag):
    p = demo_rag.search(QUESTION, k=1)[0]
    d = passage_to_document(p)
    assert d.id == p.id and "date" not in d.metadata and d.metadata["page"] == p.page_start


def test_missing_langchain_core_gives_dependency_error():
    code = (
        "import sys\n"
        "sys.modules['langchain_core'] = None\n"  # makes `import langchain_core` fail
        "import ragmed, ragmed.integrations\n"
        "assert 'langchain_core' not in [m for m in sys.modules if sys.modules[m] is not None]\n"
        "from ragmed import DependencyMissingError\n"
        "try:\n"
        "    from ragmed.integrations import RagMedRetriever\n"
        "except DependencyMissingError as e:\n"
        "    print('ERR', e)\n"
        "else:\n"
        "    print('imported')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("ERR") and "pip install 'langchain-core" in out.stdout, out.stdout


def test_import_ragmed_does_not_import_langchain():
    code = "import sys, ragmed, ragmed.integrations; print(any(m.startswith('langchain') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


# -- the answer runnable ------------------------------------------------------------------------


def test_answer_runnable_returns_the_ask_json_without_generating_when_the_gate_abstains(demo_rag):
    """An off-topic question is stopped by the abstention gate before the model runs: this checks
    the runnable's input handling and output shape without a generation."""
    runnable = answer_runnable(demo_rag, k=2)
    assert isinstance(runnable, RagMedAnswerer)
    d = runnable.invoke({"question": OFF_TOPIC, "k": 4, "unrelated": "ignored"})
    assert d["question"] == OFF_TOPIC
    assert d["abstained"] is True and d["abstention"]["stage"] == "gate"
    assert d["model"] == "" and d["usage"]["completion_tokens"] == 0  # no generation
    assert len(d["passages"]) == max(4, EVIDENCE_PASSAGES)  # the per-call k won over the runnable's k=2 ...
    d6 = runnable.invoke({"question": OFF_TOPIC, "k": 6})  # ... beyond the evidence pool too
    assert len(d6["passages"]) == 6
    assert [p["n"] for p in d["passages"]] == list(range(1, len(d["passages"]) + 1))
    assert json.loads(json.dumps(d)) == d
    as_str = runnable.invoke(OFF_TOPIC)
    assert as_str["abstained"] and len(as_str["passages"]) == max(2, EVIDENCE_PASSAGES)  # the runnable's k=2
    with pytest.raises(InputError, match="question"):
        runnable.invoke({"query": OFF_TOPIC})
    with pytest.raises(InputError):
        runnable.invoke(42)
    with pytest.raises(ValidationError, match="temperature"):
        answer_runnable(demo_rag, temperature=0.5)


def test_answer_runnable_async(demo_rag):
    d = asyncio.run(answer_runnable(demo_rag).ainvoke({"question": OFF_TOPIC}))
    assert d["abstained"] and d["passages"]


@pytest.mark.slow
def test_answer_runnable_streams_a_cited_answer(demo_rag):
    """One generation with the bundled SmolLM2: answer pieces, then Answer.to_dict()."""
    chunks = list(answer_runnable(demo_rag).stream({"question": QUESTION}))
    *pieces, final = chunks
    assert pieces and all(isinstance(c, str) for c in pieces)
    assert isinstance(final, dict)
    assert set(final) >= {"answer", "citations", "passages", "claims", "support", "abstained",
                          "abstention", "usage", "timings", "model", "grounded"}
    assert final["question"] == QUESTION and final["grounded"] and not final["abstained"]
    assert final["model"] and final["usage"]["completion_tokens"] > 0
    assert "".join(pieces).strip()  # the model's text arrived in pieces
    top = demo_rag.search(QUESTION, k=1)[0]
    assert final["passages"][0]["id"] == top.id
    assert final["citations"], final["answer"]
    c = next(c for c in final["citations"] if c["passage_id"] == top.id)
    assert (c["source"], c["page"], c["page_label"]) == (str(SAMPLE_PDF), 5, "4")
    assert c["section"] == "Follow-up intervals > Stable patients"
    assert final["support"]["supported"] >= 1
    assert json.loads(json.dumps(final)) == final
