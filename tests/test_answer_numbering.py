"""One [n] per passage on a screen, and what is shown when the model's reply cannot be shown.

Real components (the sample protocol indexed with MiniLM, the bundled model's tokenizer and
template, real compression and checks). Where a test needs the model to reply in a given way (the
fixed "not found" sentence, a reply that cites nothing, a reply that cites passage n), `Replier`
stands in for the model's *text* only: it streams that reply through the real pipeline, so the test
exercises what ragmed does with such a reply, which the small bundled model writes only by chance.
"""

from __future__ import annotations

import re
import time

import pytest

from ragmed import RagMed
from ragmed.generate.base import Generation
from ragmed.ground.claims import NOT_FOUND
from ragmed.ground.release import MODEL_NOT_FOUND, WITHHELD_UNCITED

QUESTION = "How often are stable patients seen for follow-up?"


class Replier:
    """The real generator (tokenizer, template, context) whose reply is `text`; records the messages."""

    def __init__(self, real, text: str):
        self.real, self.text, self.sent = real, text, []
        self.model_id, self.n_ctx, self.chat_style = real.model_id, real.n_ctx, real.chat_style

    def count_tokens(self, text):
        return self.real.count_tokens(text)

    def prompt_tokens(self, messages):
        return self.real.prompt_tokens(messages)

    def generate(self, messages, params, on_text=None, reasoning_tokens=None, **_):
        self.sent.append(messages)
        t0 = time.perf_counter()
        for i in range(0, len(self.text), 9):  # in pieces, as a model streams
            if on_text is not None:
                on_text(self.text[i:i + 9])
        t = time.perf_counter() - t0
        return Generation(self.text, self.prompt_tokens(messages), self.count_tokens(self.text), "stop",
                          t, t, t, self.chat_style)


def _rag(demo_rag, reply: str, **settings) -> tuple[RagMed, Replier]:
    rag = RagMed(settings=demo_rag.settings, **settings)
    rag._embedder = demo_rag.embedder
    rag._generator = Replier(demo_rag.generator, reply)
    return rag, rag._generator


def test_model_not_found_reply_shows_the_evidence_sentences(demo_rag):
    rag, _ = _rag(demo_rag, NOT_FOUND)
    a = rag.ask(QUESTION)
    assert a.abstained and a.abstention.stage == "model", a.to_dict()
    assert a.answer.startswith(MODEL_NOT_FOUND)
    assert a.evidence and all(e.text in a.answer for e in a.evidence)  # the clinician sees what was found
    assert "every 6 months" in a.answer  # the protocol's answer sentence is among them
    cited = {c.n for c in a.citations}
    assert cited == {e.n for e in a.evidence}  # every [n] of the evidence lines has its source
    assert not a.model_answer and NOT_FOUND not in a.answer


def test_model_not_found_reply_in_the_cli_shows_evidence_then_why(demo_rag, capsys):
    from ragmed.cli.render import NOT_FOUND_HEAD, answer_text

    rag, _ = _rag(demo_rag, NOT_FOUND)
    answer_text(rag.ask(QUESTION), show_reasoning=False)
    out = capsys.readouterr().out
    assert NOT_FOUND_HEAD in out and "every 6 months" in out
    assert out.index("every 6 months") < out.index(NOT_FOUND_HEAD)  # evidence first, then why
    assert out.count(MODEL_NOT_FOUND) == 1  # not said twice


def test_every_evidence_number_has_a_source_line_with_its_title(demo_rag, capsys):
    from ragmed.cli.render import answer_footer

    rag, _ = _rag(demo_rag, "Stable patients are seen every 6 months [1].")
    a = rag.ask(QUESTION)
    answer_footer(a, streamed=False, evidence=False)
    lines = capsys.readouterr().out.splitlines()
    for n in {e.n for e in a.evidence} | {c.n for c in a.citations}:
        at = next(i for i, ln in enumerate(lines) if ln.startswith(f"  [{n}] "))
        title = a.passages[n - 1].title
        assert title and lines[at + 1].strip().startswith(title), lines[at:at + 3]


def test_a_reply_citing_nothing_is_withheld_as_uncited(demo_rag):
    rag, _ = _rag(demo_rag, "Stable patients are seen every 6 months. Blood pressure is checked each visit.")
    a = rag.ask(QUESTION)
    assert a.abstained and a.abstention.stage == "verification"
    assert a.answer.startswith(WITHHELD_UNCITED), a.answer
    assert a.abstention.reason == "none of the answer's statements cites a passage"
    assert "cites." not in a.answer.split("\n")[0]  # not "not supported by the passages it cites"


def test_prompt_numbers_passages_as_retrieved_when_compression_drops_some(demo_rag):
    """[n] in the prompt, in the answer's citations and in the evidence lines is one passage."""
    question = "What is the blood pressure target?"
    for budget in (24, 40, 60, 80, 120):  # a budget at which compression leaves out an early passage
        rag, model = _rag(demo_rag, "", compress_tokens=budget, k=6)
        r = rag.pipeline.retrieve(question)
        prompt, compression, _ = rag.pipeline.prompt(question, r.passages)
        user = prompt.messages[-1]["content"]
        labels = [int(n) for n in re.findall(r"^\[(\d+)\] ", user, flags=re.M)]
        if labels != list(range(1, len(labels) + 1)):
            break
    else:
        pytest.fail("compression never left out an early passage: the case under test did not arise")
    assert compression is not None and compression.passages_dropped > 0
    position = {p.id: n for n, p in enumerate(r.passages, 1)}
    assert labels == [position[p.id] for p in prompt.passages]  # numbered as retrieved, not renumbered

    found, _, _ = rag.pipeline.evidence(r)
    e = found[0]
    model.text = f"{e.text} [{e.n}]"  # the model cites the evidence sentence's passage by its number
    a = rag.ask(question)
    assert a.passages[e.n - 1].id == r.passages[e.n - 1].id
    assert [c.status for c in a.claims] == ["supported"], a.claims
    (c,) = a.citations
    assert c.n == e.n and c.passage_id == r.passages[e.n - 1].id
    for ev in a.evidence:  # every evidence line's [n] is the answer's passage n, which holds it
        assert a.passages[ev.n - 1].id == ev.passage_id
        assert ev.text[:40] in " ".join(r.passages[ev.n - 1].text.split())
    assert a.usage.passages_in_prompt == len(prompt.passages) < len(a.passages)


def test_source_quote_is_the_evidence_sentence_that_cites_it(demo_rag):
    """Evidence lines end "... daily. [n]": the marker belongs to that sentence, not to the next
    line, so each source's quote is the best evidence sentence shown with its [n]."""
    flat = lambda t: " ".join(t.split())  # noqa: E731
    for q in (QUESTION, "What is the starting dose of amlodipine?", "When is emergency transfer needed?"):
        a = demo_rag.evidence(q)
        assert a.citations and a.evidence
        for c in a.citations:
            first = next(flat(e.text) for e in a.evidence if e.n == c.n)  # the best evidence line citing [n]
            assert flat(c.quote) in first or first in flat(c.quote), (q, c.n, c.quote, first)
