"""LangChain adapters: ragmed as a retriever, and ragmed's cited answer as a runnable.

    from ragmed import RagMed
    from ragmed.integrations.langchain import RagMedRetriever, answer_runnable

    rag = RagMed(collection="clinic")
    retriever = RagMedRetriever(rag=rag, k=4)          # or RagMedRetriever(collection="clinic")
    docs = retriever.invoke("BP target")               # list[Document]; provenance in .metadata
    docs = retriever.invoke("BP target", k=2, mode="lexical")       # per-call overrides
    answerer = answer_runnable(rag)                    # question -> Answer.to_dict()
    answerer.invoke({"question": "What is the BP target?"})         # the JSON of `ragmed ask --json`
    answerer.invoke({"question": "and in diabetes?", "chat_history": [HumanMessage(...), AIMessage(...)]})
    for piece in answerer.stream("What is the BP target?"): ...     # answer text, then the dict

Importing this module needs langchain-core (a ragmed dependency); without it the import raises
`DependencyMissingError`. `import ragmed` never imports it. Everything runs on this machine:
these classes only call `RagMed.search` / `RagMed.ask` / `RagMed.ask_stream`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator, Literal, Mapping, Optional, Union

from ..api import RagMed
from ..errors import DependencyMissingError, InputError
from ..retrieve.filters import SearchFilter
from ..store.manifest import document_date_source
from ..types import Passage, document_date

try:
    from langchain_core.callbacks import CallbackManagerForRetrieverRun
    from langchain_core.callbacks.manager import AsyncCallbackManagerForRetrieverRun
    from langchain_core.documents import Document
    from langchain_core.retrievers import BaseRetriever
    from langchain_core.runnables import RunnableConfig, RunnableSerializable
    from langchain_core.runnables.config import run_in_executor
    from pydantic import ConfigDict, Field, PrivateAttr, field_validator, model_validator
except ImportError as exc:  # pragma: no cover - exercised in a subprocess by the tests
    raise DependencyMissingError(
        f"ragmed.integrations.langchain needs langchain-core ({exc.name or 'langchain_core'} "
        "could not be imported): pip install 'langchain-core>=1.0,<2'") from exc

__all__ = ["RagMedRetriever", "RagMedAnswerer", "answer_runnable", "passage_to_document"]

Mode = Literal["dense", "lexical", "hybrid"]
# Arguments of `RagMed.ask` that the answer runnable accepts (on_text is its own business).
ASK_ARGS = ("k", "grounded", "filter")
# Arguments `RagMedRetriever.invoke(query, **kwargs)` accepts per call.
SEARCH_ARGS = ("k", "mode", "filter", "dedup")


_as_filter = SearchFilter.of  # a SearchFilter, a dict of its fields, or None


def passage_to_document(passage: Passage, document: Mapping[str, Any] | None = None, editions=None) -> Document:
    """A ragmed `Passage` as a LangChain `Document`: the passage text, its id, and its provenance
    as JSON-safe metadata (str, int and float values only).

    `document`: the passage's manifest entry, for the document's date and version (as citations
    show them); omitted, they are left out. `editions` (store.versions.Editions): a superseded
    edition's passage gets `superseded` (plain words), `superseded_by` and `superseded_by_date`.
    """
    p = passage
    labels = tuple(str(x) for x in p.page_labels)
    meta: dict[str, Any] = {
        "source": str(p.source),
        "title": str(p.title),
        "page": int(p.page_start),  # physical page, 1-based
        "page_end": int(p.page_end),
        "page_label": str(p.page_label),  # the printed label of the first page
        "page_label_end": labels[-1] if labels else str(p.page_end),
        "section": p.section_path,  # "Chapter > Section"
        "passage_id": str(p.id),
        "doc_id": str(p.doc_id),
        "file_sha256": str(p.file_sha256),
        "start": int(p.start),  # character offsets in the document's normalised text
        "end": int(p.end),
        "chunk_index": int(p.index),
        "score": float(p.score),
        "rank": int(p.rank),
    }
    for stage, value in sorted(p.scores.items()):  # dense / lexical / fused / rerank
        meta[f"score_{stage}"] = float(value)
    for stage, value in sorted(p.ranks.items()):
        meta[f"rank_{stage}"] = int(value)
    if p.context_before:
        meta["context_before"] = str(p.context_before)
    if p.context_after:
        meta["context_after"] = str(p.context_after)
    if document is not None:
        tags = document.get("tags", {}) or {}
        meta["date"] = document_date(document)
        meta["date_source"] = document_date_source(document)
        if tags.get("version"):
            meta["version"] = str(tags["version"])
    if editions is not None and editions.superseded(p.source) is not None:  # store/versions.py
        e = editions.superseded(p.source)
        meta["superseded"] = e.note()
        meta["superseded_by"] = str(e.superseded_by)
        meta["superseded_by_date"] = str(e.superseded_by_date)
    return Document(page_content=p.text, id=p.id, metadata=meta)


class RagMedRetriever(BaseRetriever):
    """A LangChain retriever over a ragmed collection (hybrid, dense or lexical search).

    Give an existing `RagMed` (`rag=`), or `collection=` / `index_dir=` to build one on first use
    (the environment's settings fill in the rest, as for `RagMed(...)`).

    k:      passages returned (default: the RagMed settings' k, RAGMED_K)
    mode:   "dense", "lexical" or "hybrid" (default: the settings' mode)
    filter: a `SearchFilter` (or a dict of its fields) restricting documents, sections, tags, dates
    dedup:  near-duplicate threshold 0-1 (default: off, like `RagMed.search`)

    Each of these can also be given per call: `retriever.invoke(query, k=2, mode="lexical")`.
    Each `Document` has the passage text as `page_content`, the passage id as `id`, and the
    provenance in `metadata` (source, title, page, page_end, page_label, section, passage_id,
    doc_id, file_sha256, score, rank, score_<stage>, rank_<stage>, date, ...).
    """

    rag: Optional[RagMed] = None
    collection: Optional[str] = None
    index_dir: Optional[Union[str, Path]] = None
    k: Optional[int] = Field(default=None, ge=1)
    mode: Optional[Mode] = None
    filter: Optional[SearchFilter] = None  # noqa: A003
    dedup: Optional[float] = Field(default=None, ge=0, le=1)

    _built: Optional[RagMed] = PrivateAttr(default=None)

    model_config = ConfigDict(arbitrary_types_allowed=True)

    @field_validator("filter", mode="before")
    @classmethod
    def _filter(cls, value: Any) -> SearchFilter | None:
        return _as_filter(value)

    @model_validator(mode="after")
    def _one_source(self) -> "RagMedRetriever":
        if self.rag is not None and (self.collection is not None or self.index_dir is not None):
            raise ValueError("give either rag= or collection=/index_dir=, not both")
        return self

    def get_rag(self) -> RagMed:
        """The RagMed this retriever searches (built on first use when not given)."""
        if self.rag is not None:
            return self.rag
        if self._built is None:
            self._built = RagMed(collection=self.collection, index_dir=self.index_dir)
        return self._built

    def _get_ls_params(self, **kwargs: Any):
        params = super()._get_ls_params(**kwargs)
        params["ls_vector_store_provider"] = "ragmed"
        return params

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **kwargs: Any,
    ) -> list[Document]:
        kwargs.pop("verbose", None)  # BaseRetriever.invoke hands on its own kwargs too
        unknown = set(kwargs) - set(SEARCH_ARGS)
        if unknown:
            raise TypeError(f"RagMedRetriever got unexpected keyword argument(s) {', '.join(sorted(unknown))}; "
                            f"it accepts {', '.join(SEARCH_ARGS)}.")
        rag = self.get_rag()
        k = kwargs.get("k", self.k)
        mode = kwargs.get("mode", self.mode)
        flt = _as_filter(kwargs["filter"]) if "filter" in kwargs else self.filter
        dedup = kwargs.get("dedup", self.dedup)
        if k is not None and (isinstance(k, bool) or not isinstance(k, int) or k < 1):
            raise InputError(f"k must be a whole number of at least 1, not {k!r}.")
        passages = rag.search(query, k=k or rag.settings.k, mode=mode, filter=flt, dedup=dedup)
        manifest = rag.index.manifest(cached=True)
        docs = manifest.documents if manifest is not None else {}
        return [passage_to_document(p, docs.get(p.source), rag.editions()) for p in passages]

    async def _aget_relevant_documents(
        self, query: str, *, run_manager: AsyncCallbackManagerForRetrieverRun, **kwargs: Any,
    ) -> list[Document]:
        # The default executor fallback, but passing the per-call kwargs on (BaseRetriever's own
        # fallback has no **kwargs, so `ainvoke(query, k=2)` would raise TypeError).
        return await run_in_executor(None, self._get_relevant_documents, query,
                                     run_manager=run_manager.get_sync(), **kwargs)


class RagMedAnswerer(RunnableSerializable[Union[str, dict], dict]):
    """ragmed's grounded, cited, checked answer as a LangChain runnable.

    Input: a question string, or a dict with "question" (and optionally "k", "grounded",
    "filter", overriding `ask_kwargs` for that call, and "chat_history": the earlier messages, as
    LangChain messages or {"role", "content"} dicts; other keys are ignored), or a list of chat
    messages whose last human message is the question (system messages: instructions under the
    grounding rules).
    Output: `Answer.to_dict()`, the JSON `ragmed ask --json` prints (answer, citations, passages,
    claims, support, abstained, ...).
    `stream()` yields the answer text as the model writes it, then that dict as the last chunk
    (streamed text is the model's raw answer; the dict's `answer` is the checked one, which may
    differ: removed invalid citations, or an abstention).
    """

    rag: RagMed
    ask_kwargs: dict[str, Any] = Field(default_factory=dict)

    model_config = ConfigDict(arbitrary_types_allowed=True)

    @field_validator("ask_kwargs")
    @classmethod
    def _known_args(cls, value: dict[str, Any]) -> dict[str, Any]:
        unknown = set(value) - set(ASK_ARGS)
        if unknown:
            raise ValueError(f"unknown ask argument(s) {', '.join(sorted(unknown))}: use {', '.join(ASK_ARGS)}")
        if "filter" in value:
            value = {**value, "filter": _as_filter(value["filter"])}
        return value

    def _parse(self, value: Any) -> tuple[str, dict[str, Any]]:
        kwargs = dict(self.ask_kwargs)
        if isinstance(value, str):
            return value, kwargs
        if isinstance(value, (list, tuple)):  # chat messages: the last human message is the question
            from ..conversation import split_messages

            kwargs["instructions"], kwargs["history"], question = split_messages(chat_messages(value))
            return question, kwargs
        if isinstance(value, Mapping) and ("chat_history" in value or "history" in value):
            value = dict(value)
            kwargs["history"] = history_turns(value.pop("chat_history", None) or value.pop("history", None) or [])
        if isinstance(value, Mapping):
            if not isinstance(value.get("question"), str):
                raise InputError("The answer runnable takes a dict with a 'question' string.")
            for key in ASK_ARGS:
                if key in value:
                    kwargs[key] = _as_filter(value[key]) if key == "filter" else value[key]
            return value["question"], kwargs
        raise InputError(f"The answer runnable takes a question string or a dict with 'question', "
                         f"not {type(value).__name__}.")

    def _answer(self, value: Any) -> dict:
        question, kwargs = self._parse(value)
        return self.rag.ask(question, **kwargs).to_dict()

    def invoke(self, input: Union[str, dict], config: RunnableConfig | None = None, **kwargs: Any) -> dict:  # noqa: A002
        return self._call_with_config(self._answer, input, config)

    def _stream_answer(self, inputs: Iterator[Any]) -> Iterator[Union[str, dict]]:
        value: Any = None
        for chunk in inputs:  # the input may itself arrive in pieces (a streamed upstream step)
            if value is None:
                value = chunk
            else:
                try:
                    value = value + chunk
                except TypeError:
                    value = chunk
        question, kwargs = self._parse(value)
        for event in self.rag.ask_stream(question, **kwargs):
            if event.kind == "answer" and event.text:
                yield event.text
            elif event.kind == "final" and event.answer is not None:
                yield event.answer.to_dict()

    def transform(self, input: Iterator[Union[str, dict]], config: RunnableConfig | None = None,  # noqa: A002
                  **kwargs: Any) -> Iterator[Union[str, dict]]:
        yield from self._transform_stream_with_config(input, self._stream_answer, config)

    def stream(self, input: Union[str, dict], config: RunnableConfig | None = None,  # noqa: A002
               **kwargs: Any) -> Iterator[Union[str, dict]]:
        yield from self.transform(iter([input]), config)


_ROLES = {"human": "user", "user": "user", "ai": "assistant", "assistant": "assistant", "system": "system"}


def chat_messages(messages: Any) -> list[dict[str, Any]]:
    """LangChain messages (`HumanMessage`, `AIMessage`, `SystemMessage`, ("human", text) tuples) or
    OpenAI-style dicts as {"role", "content"} dicts."""
    out = []
    for m in messages:
        if isinstance(m, Mapping):
            out.append({"role": m.get("role", ""), "content": m.get("content", "")})
        elif isinstance(m, (tuple, list)) and len(m) == 2:
            out.append({"role": _ROLES.get(str(m[0]), str(m[0])), "content": m[1]})
        else:
            out.append({"role": _ROLES.get(getattr(m, "type", ""), ""), "content": getattr(m, "content", "")})
    return out


def history_turns(history: Any) -> list:
    """A runnable input's "chat_history": LangChain messages, OpenAI messages or {"question",
    "answer"} turns, as ragmed `Turn`s (conversation.py)."""
    from ..conversation import to_turns

    items = list(history)
    if items and all(isinstance(h, Mapping) and "question" in h for h in items):
        return to_turns(items)
    return to_turns(chat_messages(items))


def answer_runnable(rag: RagMed, **ask_kwargs: Any) -> RagMedAnswerer:
    """A runnable answering questions with `rag.ask(question, **ask_kwargs)` (k, grounded, filter)
    and returning `Answer.to_dict()`; see `RagMedAnswerer`."""
    return RagMedAnswerer(rag=rag, ask_kwargs=ask_kwargs)
