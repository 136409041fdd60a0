"""The answer recipe, written once: retrieve -> gate -> evidence -> prompt -> generate -> check -> cite.

Every front end (`RagMed.ask`, `ask_stream`, `evidence`, `ragmed compare`, the HTTP server, the
OpenAI-compatible route, LangChain) goes through `AnswerPipeline`, so a behaviour changes in one place.

Trust rules this module enforces (docs/trust.md):
- **Evidence first.** As soon as retrieval is done, the best evidence sentences of the passages are
  sent (`evidence` event), each cited; the model's answer follows.
- **Nothing unchecked is shown as an answer.** Model text leaves the pipeline only as checked
  sentences: each sentence of the answer is released once it is complete and checked against the
  passages it cites. A supported sentence (✓) is released as answer text (`answer` event); any
  other sentence is released as a `flagged` event with its verdict and reason, never as answer text.
  The final `Answer.answer` holds only the supported sentences; when none is supported the answer is
  withheld and the evidence sentences are shown instead. The model's own text stays available for
  research in `Answer.model_answer` and `Answer.claims` (JSON), never as the answer.
- Ungrounded answers (`grounded=False`, research) cannot be checked: they are passed through,
  labelled ungrounded by every front end.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence

from .ground.release import (MODEL_NOT_FOUND, WITHHELD, WITHHELD_UNCITED, CheckedStream,  # noqa: F401 (re-exported)
                             shown_answer, supported_text)
from .types import Abstention, Answer, Claim, Passage, Timings, Turn, Usage

if TYPE_CHECKING:  # pragma: no cover
    from .api import RagMed
    from .retrieve.filters import SearchFilter

log = logging.getLogger(__name__)

NOT_COVERED = "The indexed documents do not cover this question."
EVIDENCE_LIMIT = 5  # evidence sentences shown before (and instead of a withheld) answer
# Passages the evidence sentences are drawn from (at least; the model reads the top k = 3 of them, the
# gate judges the top 3). Chosen on the dev split of benchmarks/realistic_questions.jsonl's answerable
# questions, evidence mode: a sentence of the answering page shown for 0.756 of them from 3 passages,
# 0.800 from 5, 0.822 from 8 (5 keeps the sentences to embed per question small).
EVIDENCE_PASSAGES = 5


def evidence_pool(k: int) -> int:
    """Passages retrieved for a question whose model reads `k`: the evidence pool, max(k, 5)."""
    return max(k, EVIDENCE_PASSAGES)
ANSWER_RESERVE = 64  # prompt tokens kept free beyond max_tokens, for the template's own tokens


@dataclass(frozen=True)
class AskEvent:
    """One event of `RagMed.ask_stream`, in this order:

    - "evidence": the best evidence sentences, cited (`data["evidence"]`, `data["citations"]`),
      sent as soon as retrieval is done (not sent when the gate refuses: the final answer says why);
    - "reasoning": a piece of the model's thinking trace (`text`), never part of the answer;
    - "answer": one checked, supported sentence of the answer (`text`, with its separator; `claim`);
    - "flagged": one checked sentence that is not supported (`claim` with its status and reason);
      its text is not answer text: front ends show the reason, not the sentence;
    - "final": the `Answer` (`answer`).
    """

    kind: str
    text: str = ""
    answer: Answer | None = None
    claim: Claim | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Retrieval:
    """What the retrieve step found for a question."""

    question: str
    passages: list[Passage]  # rank order, instruction-like text neutralised (prompt/safety.py)
    decision: Any = None  # ground.gate.GateDecision; None when ungrounded
    notices: list[str] = field(default_factory=list)
    retrieve_s: float = 0.0
    conflicts: list = field(default_factory=list)  # ground.conflicts.Conflict, found with the evidence
    filter: Any = None  # the SearchFilter used, if any (an empty result then names it)
    resolution: Any = None  # retrieve.followup.Resolution of a follow-up; None without history

    def refused(self, abstain: bool) -> bool:
        return abstain and self.decision is not None and not self.decision.answerable


class AnswerPipeline:
    """The answer recipe over a `RagMed`'s components (its settings, retriever, embedder, checker
    and generator, all loaded lazily by `RagMed`)."""

    def __init__(self, rag: "RagMed"):
        self.rag = rag

    @property
    def settings(self):
        return self.rag.settings

    # -- 1. retrieve and gate --------------------------------------------------------------------
    def retrieve(self, question: str, k: int | None = None, filter: "SearchFilter | None" = None,  # noqa: A002
                 grounded: bool = True, history: "Sequence[Turn] | None" = None) -> Retrieval:
        """Passages for the question and the gate's decision (`grounded=False`: none). With
        `history` (earlier turns), a follow-up is resolved into a standalone query first
        (retrieve/followup.py); the gate and the checks then work on that query."""
        from .prompt.safety import neutralise_all
        from .retrieve.filters import SearchFilter

        t0 = time.perf_counter()
        filter = SearchFilter.of(filter)  # noqa: A001 - a plain dict works as in search and the HTTP API
        if not grounded:
            return Retrieval(question, [])
        resolution = None
        if history:
            from .retrieve.followup import collection_rarity, resolve

            rarity = collection_rarity(self.rag.index.lexical_snapshot())
            resolution = resolve(question, [t.query or t.question for t in history], rarity)
            from .ground.substitute import substituted  # "and for ramipril?": the drug replaced

            resolution = substituted(resolution)
            question = resolution.query
        s = self.settings
        pool = evidence_pool(k or s.k)  # the model reads the top k; evidence comes from the pool
        passages = self.rag.search(question, pool, filter=filter, dedup=s.dedup)
        decision = self.rag.answerability(question, passages, filter=filter)
        spelled: list[str] = []
        if getattr(decision, "query", "") and decision.query != question:
            # misspelt words: the gate judged the passages found in the collection's own spelling
            passages = self.rag.search(decision.query, pool, filter=filter, dedup=s.dedup)
            spelled = [f'Searched in the documents\' spelling: "{decision.query}"']
        passages, notices = neutralise_all(passages)  # document text is data (prompt/safety.py)
        notices = self.rag.population_notices(question, passages) + notices  # who it applies to
        return Retrieval(question, passages, decision, spelled + notices, time.perf_counter() - t0, filter=filter, resolution=resolution)

    # -- 2. evidence -----------------------------------------------------------------------------
    def evidence(self, r: Retrieval, limit: int = EVIDENCE_LIMIT):
        """(evidence sentences best first, their text with [n] markers, citations)."""
        from .ground.citations import resolve
        from .ground.currency import evidence_line
        from .ground.evidence import best_sentences, dated

        asked = getattr(r.decision, "query", "") or r.question  # as searched: spelling, abbreviations
        found = best_sentences(asked, r.passages, self.rag.embedder, limit=limit)
        found, r.conflicts = self.rag.currency(r.question, r.passages, found)  # editions, disagreements
        text = "\n".join(evidence_line(e) for e in found)
        citations = self.rag.with_currency(resolve(text, r.passages)[0])
        return dated(found, citations), text, citations

    def evidence_answer(self, question: str, k: int | None = None, filter=None,  # noqa: A002
                        limit: int = EVIDENCE_LIMIT, history: "Sequence[Turn] | None" = None) -> Answer:
        """Evidence mode: no model; the `limit` retrieved sentences that best answer the question."""
        from .ground.citations import resolve

        t0 = time.perf_counter()
        r = self.retrieve(question, k, filter, history=history)
        found, text, _ = self.evidence(r, limit)
        citations, invalid = resolve(text, r.passages)
        citations = self.rag.with_currency(citations)
        abstention = None
        if r.refused(self.settings.abstain):
            abstention = self.gate_abstention(r)
            head = self.refusal_text(r)
            text = f"{head} The nearest sentences are:\n{text}" if text else head
        timings = Timings(retrieve_s=r.retrieve_s, total_s=time.perf_counter() - t0)
        return Answer(question=question, answer=text, reasoning="", grounded=True, citations=citations,
                      passages=r.passages, invalid_citations=invalid, model="evidence (no generation)",
                      usage=Usage(0, 0, len(r.passages), 0), timings=timings, evidence=found,
                      abstained=abstention is not None, abstention=abstention,
                      gate_score=r.decision.score, conflicts=r.conflicts,
                      notices=r.notices + self.rag.currency_notices(citations, r.conflicts),
                      search_query=r.question)

    # -- refusals --------------------------------------------------------------------------------
    def gate_abstention(self, r: Retrieval) -> Abstention:
        d = r.decision
        reason = getattr(d, "explanation", "") or "the retrieved passages do not match the question well enough"
        return Abstention("gate", reason, d.score, d.threshold, code=getattr(d, "reason", ""))

    def refusal_text(self, r: Retrieval) -> str:
        """What a clinician reads when the gate refuses: why, in words, and unreadable pages nearby."""
        d = r.decision
        if not r.passages and r.filter is not None and not r.filter.empty:
            return (f"The filter ({r.filter.describe()}) matched no document: change or remove it "
                    "(`ragmed docs list` shows the documents, their dates and tags).")
        head = NOT_COVERED
        if getattr(d, "reason", "") in ("language", "no_answer_of_kind"):
            head = getattr(d, "explanation", "") or head
        pages = self.unreadable_pages(r.passages)
        return f"{head} {pages}" if pages else head

    def unreadable_pages(self, passages: list[Passage], limit: int = 3) -> str:
        """A sentence naming pages without text that may hold the answer (ground/release.py)."""
        from .ground.release import unreadable_pages

        return unreadable_pages(self.rag.index.manifest(cached=True), passages, limit)

    # -- 3. prompt -------------------------------------------------------------------------------
    def context_budget(self) -> int:
        """Prompt tokens available: the model's context minus room for the answer (and the thinking
        budget of reasoning models) and the template's own tokens."""
        s, gen = self.settings, self.rag.generator
        reserve = s.max_tokens + (self.thinking().reasoning_tokens(s.reasoning_tokens) if gen.chat_style == "chatml" else 0)
        return gen.n_ctx - min(reserve, gen.n_ctx // 2) - ANSWER_RESERVE

    def thinking(self):
        """The `ThinkingMode` of the settings (generate/thinking.py): on, off or budget N."""
        from .generate.thinking import parse_thinking

        return parse_thinking(self.settings.thinking)

    def prompt(self, question: str, passages: list[Passage], grounded: bool = True,
               history: "Sequence[Turn] | None" = None, instructions: str = "", query: str | None = None):
        """(Prompt, Compression or None, seconds spent compressing). With `history` or
        `instructions` (a client's system message): prompt/history.py; `query`: the resolved search
        query, used to compress the passages."""
        from .prompt import grounded as prompts

        if not grounded:
            return prompts.ungrounded(question), None, 0.0
        gen, s = self.rag.generator, self.settings
        compression, compress_s, retrieved = None, 0.0, passages
        if s.compress_tokens:  # only the sentences that bear on the question (prompt/compress.py)
            t1 = time.perf_counter()
            compression = self.rag.compress(query or question, passages)
            passages = compression.passages
            compress_s = time.perf_counter() - t1
        numbers = prompts.citation_numbers(retrieved, passages)  # [n] as in the evidence sentences
        if history or instructions:
            from .prompt import history as with_history

            prompt = with_history.grounded(question, passages, history or [], gen.prompt_tokens,
                                           self.context_budget(), s.passage_tokens, instructions, numbers)
            return prompt, compression, compress_s
        prompt = prompts.grounded(question, passages, gen.prompt_tokens, self.context_budget(),
                                  passage_tokens=s.passage_tokens, numbers=numbers)
        return prompt, compression, compress_s

    # -- 4. answer -------------------------------------------------------------------------------
    def ask(self, question: str, k: int | None = None, grounded: bool = True,
            filter: "SearchFilter | None" = None,  # noqa: A002
            emit: Callable[[AskEvent], None] | None = None, on_text: Callable[[str], None] | None = None,
            history: "Sequence[Turn] | None" = None, instructions: str = "",
            ) -> Answer:
        """The whole recipe; `emit` receives the events of `AskEvent` (except "final") as they happen;
        `on_text` (low level) receives every raw piece the model writes, reasoning included.
        `history`: earlier turns (oldest first); `instructions`: a client's system message, placed
        under the grounding rules (prompt/history.py)."""
        from .generate.thinking import StreamSplitter, split_reasoning
        from .ground.citations import resolve
        from .ground.verify import verify

        s = self.settings
        emit = emit or (lambda e: None)
        t0 = time.perf_counter()
        r = self.retrieve(question, k, filter, grounded, history)
        timings = Timings(retrieve_s=r.retrieve_s)
        gate_score = r.decision.score if r.decision is not None else None
        if r.refused(s.abstain):
            head = self.refusal_text(r)
            text = f"{head} Nearest sources:\n{self.rag.nearest(r.passages)}" if r.passages else head
            timings.total_s = time.perf_counter() - t0
            return Answer(question=question, answer=text, reasoning="", grounded=True, citations=[],
                          passages=r.passages, model="", timings=timings, abstained=True,
                          abstention=self.gate_abstention(r), gate_score=gate_score, notices=r.notices,
                          search_query=r.question)
        found, ev_text, ev_citations = [], "", []
        if grounded:
            found, ev_text, ev_citations = self.evidence(r)
            emit(AskEvent("evidence", ev_text, data={
                "evidence": [e.to_dict() for e in found], "citations": [c.to_dict() for c in ev_citations],
                "passages": [{"n": i, **p.to_dict()} for i, p in enumerate(r.passages, 1)],
                "notices": r.notices + self.rag.currency_notices(ev_citations, r.conflicts),
                "conflicts": [c.to_dict() for c in r.conflicts], "search_query": r.question}))
        prompt, compression, timings.compress_s = self.prompt(question, r.passages[:k or s.k], grounded, history,
                                                              instructions, r.question)
        from .prompt.grounded import numbered_view

        cited = numbered_view(r.passages, prompt.passages) if grounded else []  # [n] = cited[n-1]
        gen = self.rag.generator
        thinking = gen.chat_style == "chatml"  # Qwen3 / MedPsy

        splitter = StreamSplitter()
        checked = CheckedStream(lambda sent: verify(sent, cited, self.rag.checker).claims)

        def on_piece(piece: str) -> None:
            if on_text is not None:
                on_text(piece)
            self._route(splitter.feed(piece), checked, emit, grounded)

        mode = self.thinking()
        out = gen.generate(prompt.messages, self.rag.sampling_params(), on_text=on_piece,
                           reasoning_tokens=mode.reasoning_tokens(s.reasoning_tokens) if thinking else None,
                           **({"think": False} if thinking and mode.mode == "off" else {}))
        self._route(splitter.flush(), checked, emit, grounded)
        split = split_reasoning(out.text)
        if grounded and split.closed:
            for e in checked.flush():
                emit(_event(e))
        text, claims, support, abstention, model_answer = split.answer, [], None, None, ""
        citations, invalid = [], []
        if grounded:
            v = verify(split.answer, cited, self.rag.checker)
            claims, support, invalid = v.claims, v.support, v.removed
            text, abstention, model_answer = shown_answer(v, split.closed, ev_text, lambda: self.rag.nearest(cited))
            if abstention is not None and abstention.stage in ("verification", "model") and ev_text:
                citations = ev_citations  # the evidence sentences shown instead: numbered as retrieved
            else:
                citations = self.rag.with_currency(resolve(text, cited)[0])
        conflicts = self.rag.renumbered(r.conflicts, cited) if grounded else []
        timings.prompt_s = out.prompt_s
        timings.first_token_s = out.first_token_s
        timings.generate_s = out.total_s
        timings.total_s = time.perf_counter() - t0
        if s.log_content:
            log.info("question=%r answer=%r", question, split.answer)
        return Answer(
            question=question, answer=text, reasoning=split.reasoning, grounded=grounded,
            citations=citations, passages=cited, invalid_citations=invalid,
            reasoning_closed=split.closed, reasoning_truncated=out.reasoning_truncated,
            finish_reason=out.finish_reason, model=gen.model_id,
            usage=Usage(out.prompt_tokens, out.completion_tokens, len(prompt.passages), prompt.dropped,
                        out.reasoning_tokens),
            timings=timings, evidence=found, claims=claims, support=support,
            abstained=abstention is not None, abstention=abstention, model_answer=model_answer,
            notices=r.notices + self.rag.currency_notices(citations, conflicts), gate_score=gate_score,
            compression=compression, conflicts=conflicts,
            search_query=r.question,
            history_turns=getattr(prompt, "turns", 0), history_dropped=getattr(prompt, "history_dropped", 0),
        )

    @staticmethod
    def _route(parts, checked: CheckedStream, emit, grounded: bool) -> None:
        for kind, text in parts:
            if kind == "reasoning":
                emit(AskEvent("reasoning", text))
            elif grounded:
                for e in checked.feed(text):
                    emit(_event(e))
            else:  # ungrounded (research): nothing to check against; labelled by every front end
                emit(AskEvent("answer", text))

    def stream(self, question: str, **kwargs) -> Iterator[AskEvent]:
        """`ask` as an iterator of events, the last one "final" (the model runs in a worker thread;
        an exception there is re-raised here). Closing the iterator early stops the model at its
        next piece of text."""
        events: queue.Queue = queue.Queue()
        result: dict = {}
        gone = threading.Event()

        def emit(e: AskEvent) -> None:
            if gone.is_set():
                raise StreamClosed()
            events.put(e)

        def work() -> None:
            try:
                result["answer"] = self.ask(question, emit=emit, **kwargs)
            except BaseException as exc:  # re-raised in the caller's thread
                result["error"] = exc
            finally:
                events.put(None)

        worker = threading.Thread(target=work, name="ragmed-ask", daemon=True)
        worker.start()
        try:
            while (event := events.get()) is not None:
                yield event
        finally:
            gone.set()
        worker.join()
        if "error" in result:
            raise result["error"]
        yield AskEvent("final", answer=result["answer"])


def _event(r) -> AskEvent:
    """A released sentence (ground/release.py) as the event front ends read."""
    return AskEvent("answer", r.text, claim=r.claim) if r.shown else AskEvent("flagged", claim=r.claim)


class StreamClosed(Exception):
    """Raised inside generation when the consumer of `stream` went away (stops the model)."""


__all__ = ["AnswerPipeline", "AskEvent", "CheckedStream", "Retrieval", "StreamClosed", "supported_text",
           "MODEL_NOT_FOUND", "NOT_COVERED", "WITHHELD", "WITHHELD_UNCITED"]
