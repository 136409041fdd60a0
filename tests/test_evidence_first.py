"""Evidence-first answers, and no unchecked model text shown as an answer (issue: trust, scope 3).

Real components throughout: the sample protocol indexed with MiniLM, the bundled SmolLM2 model.
SmolLM2 answers "What is the blood pressure target?" without citing its passages, so verification
withholds that answer: the natural case for "withheld text reaches no front end".
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from conftest import SAMPLE_PDF
from ragmed import RagMed
from ragmed.cli import cli
from ragmed.ground.verify import verify
from ragmed.ground.release import CheckedStream, supported_text

DEMO_Q = "How often are stable patients seen for follow-up?"
WITHHELD_Q = "What is the blood pressure target?"


def _unsupported_sentences(answer) -> list[str]:
    """The text of the answer's sentences that were not found supported (what must not be shown)."""
    return [c.text for c in answer.claims if c.status != "supported" and len(c.text) > 15]


@pytest.fixture(scope="module")
def withheld(demo_rag):
    a = demo_rag.ask(WITHHELD_Q)
    assert a.abstained and a.abstention.stage == "verification", a.to_dict()
    assert _unsupported_sentences(a), a.claims
    return a


def test_stream_sends_evidence_first_then_only_checked_sentences(demo_rag):
    events = list(demo_rag.ask_stream(DEMO_Q))
    kinds = [e.kind for e in events]
    assert kinds[0] == "evidence" and kinds[-1] == "final", kinds  # evidence before the model's first token
    ev = events[0].data["evidence"]
    assert ev and all(e["n"] >= 1 and e["text"] for e in ev)
    assert "every 6 months" in " ".join(e["text"] for e in ev)  # the protocol's answer sentence
    final = events[-1].answer
    for e in events:
        if e.kind == "answer":
            assert e.claim is not None and e.claim.status == "supported"
        if e.kind == "flagged":
            assert e.claim.status != "supported" and e.text == ""
    streamed = "".join(e.text for e in events if e.kind == "answer")
    assert streamed == final.answer
    assert final.evidence and final.evidence[0].text == ev[0]["text"]


def test_checked_stream_releases_the_same_verdicts_as_the_final_check(demo_rag):
    passages = demo_rag.search("follow-up interval stable patients", k=3)
    answer = ("Stable patients are seen every 6 months [1]. Ramipril is doubled every 2 weeks [1].\n"
              "Patients are reviewed every 3 years [1]. This sentence cites nothing at all here.")
    full = verify(answer, passages, demo_rag.checker)
    stream = CheckedStream(lambda s: verify(s, passages, demo_rag.checker).claims)
    events = []
    for i in range(0, len(answer), 7):  # pieces as a model writes them
        events += stream.feed(answer[i:i + 7])
    events += stream.flush()
    assert [(e.claim.text, e.claim.status) for e in events] == [(c.text, c.status) for c in full.claims]
    assert all(e.shown == (e.claim.status == "supported") for e in events)
    shown = "".join(e.text for e in events if e.shown)
    assert shown == supported_text(answer, full.claims)
    assert "3 years" not in shown and "cites nothing" not in shown


def test_withheld_answer_is_not_the_answer_in_python(demo_rag, withheld):
    assert withheld.model_answer  # kept for research (JSON), never as the answer
    for sent in _unsupported_sentences(withheld):
        assert sent not in withheld.answer
    assert withheld.answer.startswith("ragmed withheld the model's answer")
    assert withheld.evidence and withheld.evidence[0].text in withheld.answer  # the passages' best sentences
    events = list(demo_rag.ask_stream(WITHHELD_Q))
    assert not [e for e in events if e.kind == "answer"]
    assert {e.kind for e in events} <= {"evidence", "reasoning", "flagged", "final"}


def test_withheld_answer_is_not_printed_by_the_cli(demo_rag, withheld):
    idx = str(demo_rag.index.index_dir)
    for extra in (["--no-stream"], ["--stream"]):
        res = CliRunner().invoke(cli, ["ask", WITHHELD_Q, "-c", "demo", "--index-dir", idx, *extra])
        assert res.exit_code == 3, res.output  # no checked answer: scripts can tell (cli/answers.py NOT_ANSWERED)
        assert "withheld" in res.output
        for sent in _unsupported_sentences(withheld):
            assert sent not in res.output, (extra, res.output)
    res = CliRunner().invoke(cli, ["ask", WITHHELD_Q, "-c", "demo", "--index-dir", idx, "--json"])
    assert res.exit_code == 3, res.output
    data = json.loads(res.output)
    assert data["abstained"] and all(s not in data["answer"] for s in _unsupported_sentences(withheld))


def test_withheld_answer_is_not_streamed_by_langchain(demo_rag, withheld):
    from ragmed.integrations.langchain import answer_runnable

    chunks = list(answer_runnable(demo_rag).stream(WITHHELD_Q))
    text = "".join(c for c in chunks if isinstance(c, str))
    for sent in _unsupported_sentences(withheld):
        assert sent not in text
    assert chunks[-1]["abstained"] is True


def test_gate_refusal_names_pages_without_text(tmp_path):
    from support import pdfgen

    scan = tmp_path / "docs" / "emergency-sheet.pdf"
    scan.parent.mkdir()
    pdfgen.make_blank_page_pdf(scan)
    rag = RagMed(collection="scan", index_dir=tmp_path / "idx", model="no-such-model.gguf")
    assert rag.ingest([scan, SAMPLE_PDF]).ok
    a = rag.ask("What dose of adrenaline is given for anaphylaxis in the emergency sheet?")
    assert a.abstained and a.abstention.stage == "gate" and rag._generator is None
    assert "page 2 of emergency-sheet.pdf" in a.answer and "no readable text" in a.answer
    assert "threshold" not in a.answer and "--no-abstain" not in a.answer  # no raw scores, no advice to turn checks off
