"""Answers from the real SmolLM2-135M GGUF over the bundled sample protocol."""

import json
import subprocess
import sys

import pytest

from conftest import SAMPLE_PDF
from ragmed import InputError
from ragmed.generate.thinking import split_reasoning
from ragmed.ground.citations import cited_numbers, resolve
from ragmed.prompt.grounded import passage_block


def test_grounded_answer_cites_the_passage_that_holds_it(demo_rag):
    a = demo_rag.ask("How often are stable patients seen for follow-up?")
    assert a.grounded and a.passages
    assert "6 months" in a.passages[0].text  # retrieval put the answer first
    assert a.citations, a.answer
    cited = {c.passage_id for c in a.citations}
    assert a.passages[0].id in cited
    c = next(c for c in a.citations if c.passage_id == a.passages[0].id)
    assert c.page == 5 and c.page_label == "4"
    assert c.section == "Follow-up intervals > Stable patients"
    assert c.source == str(SAMPLE_PDF)
    assert "6 months" in c.quote
    assert a.usage.prompt_tokens > 0 and a.usage.completion_tokens > 0
    assert a.timings.total_s >= a.timings.generate_s > 0


def test_same_question_ungrounded_uses_no_passages(demo_rag):
    a = demo_rag.ask("How often are stable patients seen for follow-up?", grounded=False)
    assert not a.grounded and a.passages == [] and a.citations == []
    assert a.answer


def test_answers_are_reproducible(demo_rag):
    q = "What is the starting dose of amlodipine?"
    assert demo_rag.ask(q).answer == demo_rag.ask(q).answer


def test_context_budget_drops_passages_instead_of_overflowing(tmp_path):
    from ragmed import RagMed

    # compression off: this is about the context budget (compression would make the passages fit)
    # gate off too: this is about the context budget, and the gate's call on this question is tested elsewhere
    rag = RagMed(collection="demo", index_dir=tmp_path, n_ctx=768, max_tokens=64, k=12, compress_tokens=0,
                 abstain=False)
    rag.ingest([SAMPLE_PDF])
    a = rag.ask("What are the urgent referral criteria?")
    assert a.usage.passages_dropped > 0
    # a.passages: all retrieved ([n] as retrieved); the model was given the first ones that fit
    assert a.usage.passages_in_prompt + a.usage.passages_dropped == len(a.passages) <= 12
    assert a.usage.prompt_tokens + a.usage.completion_tokens <= 768


def test_bad_questions_get_clear_errors(demo_rag):
    with pytest.raises(InputError, match="empty"):
        demo_rag.ask("   ")
    with pytest.raises(InputError, match="limit"):
        demo_rag.ask("why " * 2000)


def test_cli_ask_json_shape(demo_rag):
    out = subprocess.run(
        [sys.executable, "-m", "ragmed.cli", "ask", "How often are stable patients seen for follow-up?", "--collection", "demo",
         "--index-dir", str(demo_rag.index.index_dir), "--json", "--max-tokens", "64"],
        capture_output=True, text=True, timeout=600,
    )
    data = json.loads(out.stdout)
    # the exit status says whether a checked answer was given (0) or not (3: refused or withheld)
    assert out.returncode == (3 if data["abstained"] else 0), (out.returncode, out.stderr)
    assert {"answer", "reasoning", "citations", "passages", "usage", "timings"} <= set(data)
    for c in data["citations"]:
        assert {"n", "source", "page", "page_label", "section", "passage_id", "quote"} <= set(c)
    assert data["passages"][0]["n"] == 1 and data["passages"][0]["page_label"] == "4"


def test_cli_ask_text_lists_sources(demo_rag):
    out = subprocess.run(
        [sys.executable, "-m", "ragmed.cli", "ask", "How often are stable patients seen for follow-up?", "--collection", "demo",
         "--index-dir", str(demo_rag.index.index_dir), "--max-tokens", "64"],
        capture_output=True, text=True, timeout=600,
    )
    assert out.returncode == 0, out.stderr
    assert "Sources:" in out.stdout
    assert "demo-clinic-hypertension-protocol.pdf, page 4 (p. 5), Follow-up intervals > Stable patients" in out.stdout


def test_missing_collection_says_how_to_create_it(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "ragmed.cli", "ask", "q?", "--collection", "nothing", "--index-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=300,
    )
    assert out.returncode == 1
    assert "ragmed ingest PATH... --collection nothing" in out.stderr
    assert "Traceback" not in out.stderr


# -- pure functions -----------------------------------------------------------------------------

def test_reasoning_split():
    s = split_reasoning("<think>check the dose</think>Give 5 mg [1].")
    assert (s.reasoning, s.answer, s.closed) == ("check the dose", "Give 5 mg [1].", True)
    s = split_reasoning("template opened it already</think>\n\nAnswer [2]")  # only the closing tag
    assert (s.reasoning, s.answer, s.closed) == ("template opened it already", "Answer [2]", True)
    s = split_reasoning("<think>still thinking when tokens ran out")
    assert (s.answer, s.closed) == ("", False)
    assert split_reasoning("plain answer").answer == "plain answer"


def test_citation_parsing_and_invalid_numbers(demo_rag):
    assert cited_numbers("A [1]. B [2, 3] and [1-2]; C [4][5] D [ 6 ].") == [1, 2, 3, 4, 5, 6]
    assert cited_numbers("no citations, 5 mg [mmHg]") == []
    passages = demo_rag.search("stable patients follow-up", k=2)
    cites, invalid = resolve("Seen every 6 months [1]. Also [7].", passages)
    assert [c.n for c in cites] == [1] and invalid == [7]
    assert cites[0].passage_id == passages[0].id


def test_passage_block_is_numbered_text():
    from ragmed.types import Passage

    p = Passage("id", "Line one\nline two", "/x/a.pdf", "s" * 64, 2, 2, ("1",), ("A",), 0, 10, 0.5, 1)
    assert passage_block(3, p) == "[3] Line one line two"
