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
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Iterator

from .config import Settings
from .documents import DocumentKnowledge
from .errors import InputError
from .pipeline import NOT_COVERED, WITHHELD, AnswerPipeline, AskEvent  # noqa: F401 (re-exported)
from .types import Answer, Compression, DocumentInfo, DocumentReport, IngestReport, Passage

if TYPE_CHECKING:  # pragma: no cover
    from .retrieve.filters import SearchFilter

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 4000


class RagMed(DocumentKnowledge):
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
        from .store.collection import Collection

        # chroma_url set (argument, RAGMED_CHROMA_URL or --chroma-url): the collection lives on a Chroma
        # server shared by several workstations (store.shared); index_dir then only holds this machine's caches
        self.store = Collection(Path(self.settings.index_dir), self.settings.collection,
                                chroma_url=self.settings.chroma_url or None)
        self.index = self.store  # the name used before the Collection (tests, integrations)
        self._embedder = None
        self._generator = None
        self._retriever = None
        self._checker = None
        self.pipeline = AnswerPipeline(self)

    # -- components (lazy) -----------------------------------------------------------------
    @property
    def embedder(self):
        if self._embedder is None:
            from .config import resolve_embedder
            from .embed.sentence import Embedder

            manifest = self.index.manifest()
            name, backend = resolve_embedder(self.settings, self._explicit_embedder,
                                             manifest.build if manifest else None)
            if manifest and manifest.build.get("embedder_backend") == "remote":  # same endpoint's model
                from .embed.remote import RemoteEmbedder

                self._embedder = RemoteEmbedder.from_build(manifest.build)
                return self._embedder
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
                                             runtime=self.settings.runtime(), speculative=self.settings.speculative)
        return self._generator

    # -- documents ----------------------------------------------------------------------------
    def ingest(
        self, paths: Iterable[str | Path], prune: bool = False, rebuild: bool = False,
        progress: bool = False, tags: dict[str, str] | None = None, ocr: str = "auto", restore: bool = False,
    ) -> IngestReport:
        """Add new files, replace changed ones, skip unchanged ones; `prune` drops vanished files.

        `tags` ({"department": "cardiology"}) replace the tags of every document named in this call;
        searches can then be filtered on them (`SearchFilter(tags=...)`). `ocr`: "auto" (pages
        without a text layer and image files), "off" or "force" (ingest/ocr.py). `restore`: ingest
        again documents of `paths` removed with `remove` (ingest/identity.py). The embedder is
        loaded only when a file must be embedded (a run where nothing changed does not load it).
        """
        from .ingest.pipeline import Ingestor

        if isinstance(paths, (str, Path)):
            paths = [paths]
        if not rebuild:
            self._check_build_light()
        ingestor = Ingestor(self.index, lambda: self.embedder, self.settings.chunk_tokens,
                            self.settings.embed_batch_size, settings=self.settings)
        return ingestor.run(paths, prune=prune, rebuild=rebuild, progress=progress, tags=tags, ocr=ocr,
                            restore=restore)

    def _check_build_light(self) -> None:
        """Refuse another embedder or chunker for an existing collection without loading the model
        (the names the settings resolve to, against the manifest's build)."""
        manifest = self.index.manifest()
        if manifest is None or self._embedder is not None:
            return
        from .config import resolve_embedder
        from .embed.onnx import FAMILY
        from .ingest.chunker import CHUNKER_VERSION

        name, backend = resolve_embedder(self.settings, self._explicit_embedder, manifest.build)
        manifest.check_build({**manifest.build, "embedder": name, "embedder_backend": backend,
                              "embedder_family": FAMILY[backend],
                              "chunker": {"version": CHUNKER_VERSION, "max_tokens": self.settings.chunk_tokens}})

    def excluded(self) -> dict[str, dict]:
        """Documents removed on purpose whose files still exist: {path: {sha256, removed_at}};
        ingest and sync leave them out until `ingest(..., restore=True)`."""
        m = self.index.manifest()
        return dict(m.excluded) if m else {}

    def documents(self) -> list[DocumentInfo]:
        """The collection's documents, each with its date (and where it came from) and, for a
        superseded edition, the edition that replaces it."""
        from .store.versions import annotate

        m = self.index.require_manifest()
        return annotate(m.infos(), m)

    def remove(self, paths: Iterable[str | Path], keep_out: bool = True) -> list[DocumentReport]:
        """Remove documents from the collection (the files themselves are not touched). `keep_out`:
        a removed document whose file still exists is kept out of later ingests and syncs of its
        folder until `ingest(..., restore=True)` (ingest/identity.py)."""
        from .ingest.pipeline import Ingestor

        if isinstance(paths, (str, Path)):
            paths = [paths]
        ingestor = Ingestor(self.index, lambda: self.embedder, self.settings.chunk_tokens)
        out = []
        with self.index.write_lock():
            manifest = self.index.require_manifest()
            ingestor.recover(manifest)
            for raw in paths:
                key = str(Path(raw).expanduser().resolve())
                if key in manifest.documents:
                    out.append(ingestor.remove(manifest, key, keep_out=keep_out))
                else:
                    out.append(DocumentReport(str(raw), "failed", error="not in this collection (see `ragmed docs list`)"))
            ingestor.finish(manifest)
        return out

    # -- retrieval and answers -----------------------------------------------------------------
    def search(
        self, query: str, k: int | None = None, mode: str | None = None,
        filter: "SearchFilter | dict | None" = None, dedup: float | None = None,  # noqa: A002
    ) -> list[Passage]:
        """The k best passages; `mode` is dense, lexical or hybrid (default: the settings' mode).

        `filter`: a `SearchFilter` or a dict of its fields, as in the HTTP API ({"documents": [...],
        "tags": {...}, "after": "2024"}; `SearchFilter.of`). `dedup` (0-1, default off for search)
        drops passages that repeat a higher-ranked one.
        """
        from .retrieve.filters import SearchFilter

        found = self.retriever.search(query, k or self.settings.k, mode=mode, filter=SearchFilter.of(filter),
                                      dedup=dedup)
        return self.labelled(found)

    def evidence(
        self, question: str, k: int | None = None, filter: "SearchFilter | None" = None,  # noqa: A002
        limit: int = 5, history=None,
    ) -> Answer:
        """Evidence mode: no model; the `limit` retrieved sentences that best answer the question,
        each cited ([n] = the passage's number). Instant, and always grounded. `history`: as in `ask`."""
        from .conversation import to_turns

        return self.pipeline.evidence_answer(self._check_question(question), k, filter, limit,
                                             history=to_turns(history))

    # -- abstention ------------------------------------------------------------------------------
    @property
    def calibration(self):
        """The collection's abstention gate: fitted by `calibrate`, else the default."""
        from .ground import gate

        return gate.stored(self.index.read_calibration(), self.index.calibration_location)

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
            passages = self.retriever.search(question, self._pool(), mode="hybrid", filter=filter,
                                             dedup=self.settings.dedup)
        snap = self.index.lexical_snapshot()
        vocabulary = gate.vocabulary_of(snap)
        decision = gate.assess(question, passages, vocabulary, self.calibration, self.embedder)
        query, expanded = gate.searched_question(question, decision.corrected, self.index, snap)
        if expanded and decision.reason != "language":
            # abbreviations: judge the passages the written-out question finds (ground/abbreviations.py)
            again = self.retriever.search(query, self._pool(), mode="hybrid", filter=filter,
                                          dedup=self.settings.dedup)
            second = gate.assess(query, again, vocabulary, self.calibration, self.embedder,
                                 written_out=list(expanded))
            from dataclasses import replace

            decision = replace(second, corrected={**decision.corrected, **expanded}, query=query)
        elif query and not decision.answerable and decision.reason != "language":
            # misspelt words: judge the passages the collection's own spelling finds
            again = self.retriever.search(query, self._pool(), mode="hybrid", filter=filter,
                                          dedup=self.settings.dedup)
            second = gate.assess(query, again, vocabulary, self.calibration, self.embedder)
            if second.answerable:
                from dataclasses import replace

                decision = replace(second, corrected=decision.corrected, query=query)
        return decision

    def _pool(self) -> int:
        """Passages `ask` retrieves (the gate judges the top 3 of them): `pipeline.evidence_pool`."""
        from .pipeline import evidence_pool

        return evidence_pool(self.settings.k)

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
                self.index.save_calibration(cal.to_dict())
        return cal

    @staticmethod
    def nearest(passages: list[Passage]) -> str:
        """One line per passage: its number, document, page and section."""
        from .prompt.grounded import describe

        return "\n".join(f"[{n}] {describe(p, physical=True)}" for n, p in enumerate(passages, 1))

    def prompt_budget(self, messages_without_passages: list[dict[str, str]]) -> int:
        """Prompt tokens a grounded prompt may use: the context budget (`AnswerPipeline.context_budget`),
        and at most `passage_tokens` for passages beyond `messages_without_passages`."""
        return min(self.pipeline.context_budget(),
                   self.generator.prompt_tokens(messages_without_passages) + self.settings.passage_tokens)

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
        """`ask`, as events while the model writes (see `AskEvent`): "evidence" first, then
        "reasoning" pieces and checked sentences ("answer": supported; "flagged": not supported,
        with the reason), then one "final" with the `Answer`. Takes the same arguments as `ask`."""
        from .conversation import to_turns

        if "history" in kwargs:
            kwargs["history"] = to_turns(kwargs["history"])
        return self.pipeline.stream(self._check_question(question), **kwargs)

    def ask(
        self,
        question: str,
        k: int | None = None,
        grounded: bool = True,
        on_text: Callable[[str], None] | None = None,
        filter: "SearchFilter | None" = None,
        history=None,
        instructions: str = "",
    ) -> Answer:
        """Answer a question; grounded in retrieved passages unless `grounded=False`.

        Grounded answers show only sentences that the checks find supported by the passages they
        cite (pipeline.py); `on_text` receives the model's raw text (reasoning included) as it is
        written, for callers that handle unchecked text themselves. `history`: earlier turns, oldest
        first (`Turn`s, `Answer`s, {"question", "answer"} dicts or OpenAI messages): a follow-up is
        searched for as a standalone question (`Answer.search_query`) and the prompt carries the
        turns (conversation.py); `instructions`: a system message, under the grounding rules."""
        from .conversation import to_turns

        return self.pipeline.ask(self._check_question(question), k=k, grounded=grounded, filter=filter,
                                 on_text=on_text, history=to_turns(history), instructions=instructions)

    def chat(self, messages, **kwargs) -> Answer:
        """Answer the last user message of OpenAI-style `messages` ({"role", "content"}), with the
        earlier turns as history and system messages as instructions (conversation.py)."""
        from .conversation import split_messages

        system, turns, question = split_messages(messages)
        return self.ask(question, history=turns, instructions=system, **kwargs)

    def conversation(self, instructions: str = ""):
        """A new `Conversation` (conversation.py): `ask` on it answers with the earlier turns in mind."""
        from .conversation import Conversation

        return Conversation(self, instructions=instructions)

    def check(self, text: str, passages: "Iterable[Passage | str]"):
        """Check any text's sentences against passages (`Passage` objects or plain strings, cited as
        [1], [2], ... in that order): a `Verification` with each claim's verdict and reason."""
        from .ground.verify import check_text

        return check_text(text, list(passages), self.checker)
