"""The public Python API: `RagMed`.

    rag = RagMed(collection="clinic", index_dir="indexes")
    report = rag.ingest(["corpora/"])          # -> IngestReport
    passages = rag.search("BP target", k=4)    # -> list[Passage]
    answer = rag.ask("What is the BP target?")  # -> Answer (answer, citations, passages, ...)

Construction is cheap: the embedder, Chroma and the LLM load on first use and are shared by all
RagMed objects of the process.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Iterable, Iterator

from .config import Settings
from .errors import InputError
from .types import Abstention, Answer, Compression, DocumentInfo, DocumentReport, IngestReport, Passage, Timings, Usage

if TYPE_CHECKING:  # pragma: no cover
    from .retrieve.filters import SearchFilter

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 4000
NOT_COVERED = "The indexed documents do not cover this question."
WITHHELD = ("ragmed withheld the model's answer: none of its statements is supported by the passages "
            "it cites.")
ANSWER_RESERVE = 64  # prompt tokens kept free beyond max_tokens, for the template's own tokens


@dataclass(frozen=True)
class AskEvent:
    """One event of `RagMed.ask_stream`: kind is "reasoning", "answer" or "final"."""

    kind: str
    text: str = ""
    answer: Answer | None = None


class RagMed:
    def __init__(
        self,
        collection: str | None = None,
        index_dir: str | Path | None = None,
        embedder: str | None = None,
        model: str | None = None,
        settings: Settings | None = None,
        **overrides,
    ):
        base = settings or Settings.from_env()
        self.settings = base.with_(collection=collection, index_dir=index_dir, model=model, **overrides)
        self._explicit_embedder = embedder
        from .store.chroma import Index

        # chroma_url set (argument, RAGMED_CHROMA_URL or --chroma-url): the collection lives on a Chroma
        # server shared by several workstations; index_dir then only holds this machine's caches
        self.index = Index(Path(self.settings.index_dir), self.settings.collection,
                           chroma_url=self.settings.chroma_url or None)
        self._embedder = None
        self._generator = None
        self._retriever = None
        self._checker = None

    # -- components (lazy) -----------------------------------------------------------------
    @property
    def embedder(self):
        if self._embedder is None:
            from .embed.sentence import Embedder

            from .config import DEFAULT_EMBEDDER_BACKEND

            name, backend = self._explicit_embedder, self.settings.embedder_backend
            manifest = self.index.manifest()
            if name is None or not backend:
                if name is None:
                    name = manifest.build["embedder"] if manifest else self.settings.embedder
                if not backend:  # the collection's own backend; indexes made before backends: torch
                    backend = manifest.build.get("embedder_backend", "torch") if manifest else DEFAULT_EMBEDDER_BACKEND
            if manifest:  # queries embedded by another family would not match the index
                from .embed.onnx import FAMILY

                manifest.check_build({**manifest.build, "embedder_backend": backend, "embedder_family": FAMILY[backend]})
            self._embedder = Embedder(name, backend)
        return self._embedder

    @property
    def retriever(self):
        """The configured `Retriever` (mode, reranker and neighbour context from the settings)."""
        if self._retriever is None:
            from .retrieve.hybrid import RetrievalConfig, Retriever

            reranker = None
            if self.settings.reranker:
                from .retrieve.rerank import CrossEncoderReranker

                reranker = CrossEncoderReranker(self.settings.reranker)
            cfg = RetrievalConfig(mode=self.settings.retrieval, neighbours=self.settings.neighbours)
            self._retriever = Retriever(self.index, self.embedder, cfg, reranker=reranker)
        return self._retriever

    @property
    def checker(self):
        """The citation checker (ground/verify.py), with the configured verifier model if any."""
        if self._checker is None:
            from .ground.verify import SupportChecker

            self._checker = SupportChecker(self.embedder, verifier=self.settings.verifier or None)
        return self._checker

    @property
    def generator(self):
        if self._generator is None and self.settings.generator_url:
            from .generate.remote import RemoteGenerator

            self._generator = RemoteGenerator(self.settings.generator_url, model=self.settings.model,
                                              n_ctx=self.settings.n_ctx)
        if self._generator is None:
            from .generate.llama import LlamaGenerator
            from .generate.models import resolve_model

            model_id, path = resolve_model(self.settings.model)
            self._generator = LlamaGenerator(path, model_id, self.settings.n_ctx,
                                             runtime=self.settings.runtime())
        return self._generator

    # -- documents ----------------------------------------------------------------------------
    def ingest(
        self, paths: Iterable[str | Path], prune: bool = False, rebuild: bool = False,
        progress: bool = False, tags: dict[str, str] | None = None,
    ) -> IngestReport:
        """Add new files, replace changed ones, skip unchanged ones; `prune` drops vanished files.

        `tags` ({"department": "cardiology"}) replace the tags of every document named in this call;
        searches can then be filtered on them (`SearchFilter(tags=...)`).
        """
        from .ingest.pipeline import Ingestor

        if isinstance(paths, (str, Path)):
            paths = [paths]
        ingestor = Ingestor(self.index, self.embedder, self.settings.chunk_tokens, self.settings.embed_batch_size)
        return ingestor.run(paths, prune=prune, rebuild=rebuild, progress=progress, tags=tags)

    def documents(self) -> list[DocumentInfo]:
        return self.index.require_manifest().infos()

    def remove(self, paths: Iterable[str | Path]) -> list[DocumentReport]:
        """Remove documents from the collection (the files themselves are not touched)."""
        from .ingest.pipeline import Ingestor

        if isinstance(paths, (str, Path)):
            paths = [paths]
        ingestor = Ingestor(self.index, self.embedder, self.settings.chunk_tokens)
        out = []
        with self.index.write_lock():
            manifest = self.index.require_manifest()
            ingestor.recover(manifest)
            for raw in paths:
                key = str(Path(raw).expanduser().resolve())
                if key in manifest.documents:
                    out.append(ingestor.remove(manifest, key))
                else:
                    out.append(DocumentReport(str(raw), "failed", error="not in this collection (see `ragmed docs list`)"))
            ingestor.finish(manifest)
        return out

    # -- retrieval and answers -----------------------------------------------------------------
    def search(
        self, query: str, k: int | None = None, mode: str | None = None,
        filter: "SearchFilter | None" = None, dedup: float | None = None,  # noqa: A002
    ) -> list[Passage]:
        """The k best passages; `mode` is dense, lexical or hybrid (default: the settings' mode).

        `dedup` (0-1, default off for search) drops passages that repeat a higher-ranked one.
        """
        return self.retriever.search(query, k or self.settings.k, mode=mode, filter=filter, dedup=dedup)

    def evidence(
        self, question: str, k: int | None = None, filter: "SearchFilter | None" = None,  # noqa: A002
        limit: int = 5,
    ) -> Answer:
        """Evidence mode: no model; the `limit` retrieved sentences that best answer the question,
        each cited ([n] = the passage's number). Instant, and always grounded."""
        from .ground.citations import resolve
        from .ground.evidence import best_sentences

        question = self._check_question(question)
        t0 = time.perf_counter()
        from .prompt.safety import neutralise_all

        passages = self.search(question, k or self.settings.k, filter=filter, dedup=self.settings.dedup)
        decision = self.answerability(question, passages, filter=filter)
        passages, notices = neutralise_all(passages)
        timings = Timings(retrieve_s=time.perf_counter() - t0)
        found = best_sentences(question, passages, self.embedder, limit=limit)
        text = "\n".join(f"{e.text} [{e.n}]" for e in found)
        citations, invalid = resolve(text, passages)
        citations = self._with_currency(citations)
        abstention = None
        if self.settings.abstain and not decision.answerable:
            abstention = self._gate_abstention(decision)
            text = f"{NOT_COVERED} The nearest sentences are:\n{text}" if text else NOT_COVERED
        timings.total_s = time.perf_counter() - t0
        return Answer(question=question, answer=text, reasoning="", grounded=True, citations=citations,
                      passages=passages, invalid_citations=invalid, model="evidence (no generation)",
                      usage=Usage(0, 0, len(passages), 0), timings=timings, evidence=found,
                      abstained=abstention is not None, abstention=abstention, gate_score=decision.score,
                      notices=notices)

    # -- abstention ------------------------------------------------------------------------------
    @property
    def calibration(self):
        """The collection's abstention gate: fitted by `calibrate`, else the default."""
        return self.index.load_calibration()

    def answerability(self, question: str, passages: list[Passage] | None = None,
                      filter: "SearchFilter | None" = None):  # noqa: A002
        """The abstention gate's decision (`GateDecision`) for a question, from retrieval alone.

        `passages`: the question's retrieval results when the caller has them already (`ask`).
        When words were misspelt and the passages found as typed fall short, the question is searched
        again in the collection's spelling; an answerable decision then carries that search in
        `query` (callers should retrieve with it)."""
        from .ground import gate

        question = self._check_question(question)
        if passages is None or self.retriever.config.mode != "hybrid":
            # the same passages `ask` retrieves (k, de-duplication), scored by both rankers
            passages = self.retriever.search(question, self.settings.k, mode="hybrid", filter=filter,
                                             dedup=self.settings.dedup)
        snap = self.retriever.lexical.snapshot(self.index.require_manifest(cached=True), self.index.collection())
        vocabulary = gate.vocabulary_of(snap)
        decision = gate.assess(question, passages, vocabulary, self.calibration, self.embedder)
        query = gate.corrected_question(question, decision.corrected)
        if query and not decision.answerable and decision.reason != "language":
            # misspelt words: judge the passages the collection's own spelling finds
            again = self.retriever.search(query, self.settings.k, mode="hybrid", filter=filter,
                                          dedup=self.settings.dedup)
            second = gate.assess(query, again, vocabulary, self.calibration, self.embedder)
            if second.answerable:
                from dataclasses import replace

                decision = replace(second, corrected=decision.corrected, query=query)
        return decision

    def gate_features(self, questions: Iterable[str]) -> list[list[float]]:
        """The gate's feature vectors of many questions (for calibration and benchmarks)."""
        from .ground import gate

        out = []
        for q in questions:
            d = self.answerability(q)
            out.append([d.features[f] for f in gate.FEATURES])
        return out

    def calibrate(self, answerable: list[str], unanswerable: list[str], save: bool = True):
        """Fit the abstention gate on questions the collection can and cannot answer; store it with
        the collection (`save`). Returns the `Calibration` (its `fitted_on` holds the metrics)."""
        from .ground import gate

        cal = gate.fit(self.gate_features(answerable), self.gate_features(unanswerable))
        if save:
            with self.index.write_lock():
                self.index.save_calibration(cal)
        return cal

    @staticmethod
    def _gate_abstention(decision) -> Abstention:
        """The gate's refusal: `reason` is the decision's plain-words explanation (no scores; the
        machine reason, e.g. "language" or "no_answer_of_kind", is in `code`)."""
        return Abstention("gate", decision.explanation, decision.score, decision.threshold, code=decision.reason)

    @staticmethod
    def _nearest(passages: list[Passage]) -> str:
        from .prompt.grounded import describe

        return "\n".join(f"[{n}] {describe(p)}" for n, p in enumerate(passages, 1))

    def _with_currency(self, citations: list) -> list:
        """Add each cited document's date and version (from the manifest) to its citations."""
        from dataclasses import replace

        m = self.index.manifest(cached=True)
        if m is None:
            return citations
        out = []
        for c in citations:
            d = m.documents.get(c.source, {})
            tags = d.get("tags", {})
            out.append(replace(c, date=str(tags.get("date") or d.get("date", "")),
                               version=str(tags.get("version", ""))))
        return out

    def prompt_budget(self, messages_without_passages: list[dict[str, str]]) -> int:
        """Prompt tokens a grounded prompt may use: the model's context minus room for the answer
        (and the thinking budget of reasoning models), and at most `passage_tokens` for passages
        (time to first token grows about linearly with them)."""
        s, gen = self.settings, self.generator
        reserve = s.max_tokens + (s.reasoning_tokens if gen.chat_style == "chatml" else 0)
        budget = gen.n_ctx - min(reserve, gen.n_ctx // 2) - ANSWER_RESERVE
        return min(budget, gen.prompt_tokens(messages_without_passages) + s.passage_tokens)

    def compress(self, question: str, passages: list[Passage], budget: int | None = None) -> Compression:
        """Prompt compression (prompt/compress.py): the sentences of `passages` that best answer the
        question, within `budget` passage tokens of the model (default: the `compress_tokens` setting;
        0 = off, the passages unchanged)."""
        from .prompt.compress import compress

        budget = self.settings.compress_tokens if budget is None else budget
        return compress(question, passages, self.embedder, self.generator.count_tokens, budget)

    def sampling_params(self):
        """Decoding parameters: the preset (and the model's own values for "medpsy"), the overrides."""
        from .generate.llama import SamplingParams
        from .models.registry import lookup

        spec = lookup(self.generator.model_id)
        return SamplingParams(max_tokens=self.settings.max_tokens, seed=self.settings.seed,
                              **self.settings.sampling(spec.sampling if spec else None))

    def _check_question(self, question: str) -> str:
        question = (question or "").strip()
        if not question:
            raise InputError("The question is empty.")
        if len(question) > MAX_QUESTION_CHARS:
            raise InputError(f"The question is {len(question)} characters long; the limit is {MAX_QUESTION_CHARS}.")
        return question

    def ask_stream(self, question: str, **kwargs) -> Iterator[AskEvent]:
        """`ask`, as events while the model writes: ("reasoning", text), ("answer", text), then one
        ("final", answer=Answer) with the citations. Takes the same arguments as `ask`."""
        import queue
        import threading

        from .generate.thinking import StreamSplitter

        events: queue.Queue = queue.Queue()
        splitter = StreamSplitter()
        result: dict = {}

        def on_text(piece: str) -> None:
            for kind, text in splitter.feed(piece):
                events.put(AskEvent(kind, text))

        def work() -> None:
            try:
                result["answer"] = self.ask(question, on_text=on_text, **kwargs)
            except BaseException as exc:  # re-raised in the caller's thread
                result["error"] = exc
            finally:
                events.put(None)

        worker = threading.Thread(target=work, name="ragmed-ask", daemon=True)
        worker.start()
        while (event := events.get()) is not None:
            yield event
        worker.join()
        for kind, text in splitter.flush():
            yield AskEvent(kind, text)
        if "error" in result:
            raise result["error"]
        yield AskEvent("final", answer=result["answer"])

    def ask(
        self,
        question: str,
        k: int | None = None,
        grounded: bool = True,
        on_text: Callable[[str], None] | None = None,
        filter: "SearchFilter | None" = None,
    ) -> Answer:
        """Answer a question; grounded in retrieved passages unless `grounded=False`."""
        from .generate.thinking import split_reasoning
        from .ground.citations import resolve
        from .prompt import grounded as prompts

        question = self._check_question(question)
        s = self.settings
        timings = Timings()
        t0 = time.perf_counter()
        from .prompt.safety import neutralise_all

        retrieved: list[Passage] = []
        decision, notices = None, []
        if grounded:
            retrieved = self.search(question, k or s.k, filter=filter, dedup=s.dedup)
            decision = self.answerability(question, retrieved, filter=filter)
            retrieved, notices = neutralise_all(retrieved)  # document text is data (prompt/safety.py)
        timings.retrieve_s = time.perf_counter() - t0
        if decision is not None and s.abstain and not decision.answerable:
            text = f"{NOT_COVERED} Nearest sources:\n{self._nearest(retrieved)}" if retrieved else NOT_COVERED
            timings.total_s = time.perf_counter() - t0
            return Answer(question=question, answer=text, reasoning="", grounded=True, citations=[],
                          passages=retrieved, model="", timings=timings, abstained=True,
                          abstention=self._gate_abstention(decision), gate_score=decision.score,
                          notices=notices)

        gen = self.generator
        thinking = gen.chat_style == "chatml"  # Qwen3 / MedPsy
        compression = None
        if grounded:
            if s.compress_tokens:  # only the sentences that bear on the question (prompt/compress.py)
                t1 = time.perf_counter()
                compression = self.compress(question, retrieved)
                retrieved = compression.passages
                timings.compress_s = time.perf_counter() - t1
            empty = prompts.grounded(question, [], gen.prompt_tokens, gen.n_ctx).messages
            prompt = prompts.grounded(question, retrieved, gen.prompt_tokens, self.prompt_budget(empty))
        else:
            prompt = prompts.ungrounded(question)
        params = self.sampling_params()
        out = gen.generate(prompt.messages, params, on_text=on_text,
                           reasoning_tokens=s.reasoning_tokens if thinking else None)
        split = split_reasoning(out.text)
        text, claims, support, abstention, model_answer = split.answer, [], None, None, ""
        citations, invalid = [], []
        if grounded:
            from .ground.verify import verify

            checked = verify(split.answer, prompt.passages, self.checker)
            text, claims, support, invalid = checked.answer, checked.claims, checked.support, checked.removed
            citations, _ = resolve(text, prompt.passages)
            citations = self._with_currency(citations)
            if prompts.says_not_found(text) and not support.supported:
                abstention = Abstention("model", "the model found no answer in the passages")
            elif s.abstain and split.closed and support.claims and not support.supported:
                abstention = Abstention("verification", "no statement of the answer is supported by the passages it cites")
                model_answer = text
                text = f"{WITHHELD} Read the sources it was given:\n{self._nearest(prompt.passages)}"
        timings.prompt_s = out.prompt_s
        timings.first_token_s = out.first_token_s
        timings.generate_s = out.total_s
        timings.total_s = time.perf_counter() - t0
        if s.log_content:
            log.info("question=%r answer=%r", question, split.answer)
        return Answer(
            question=question, answer=text, reasoning=split.reasoning, grounded=grounded,
            citations=citations, passages=prompt.passages, invalid_citations=invalid,
            reasoning_closed=split.closed, reasoning_truncated=out.reasoning_truncated,
            finish_reason=out.finish_reason, model=gen.model_id,
            usage=Usage(out.prompt_tokens, out.completion_tokens, len(prompt.passages), prompt.dropped,
                        out.reasoning_tokens),
            timings=timings, claims=claims, support=support, abstained=abstention is not None,
            abstention=abstention, model_answer=model_answer, notices=notices,
            gate_score=decision.score if decision is not None else None, compression=compression,
        )
