"""Typed records shared by every pipeline stage.

All records are plain dataclasses: cheap to build, easy to serialise (`to_dict`) and stable for
other programs that call ragmed's Python API.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Mapping


def _dict(obj: Any) -> dict[str, Any]:
    return asdict(obj)


def document_date(record: Mapping[str, Any]) -> str:
    """A document's date from its manifest record: its `date` tag (`ragmed ingest --tag date=...`),
    else the date ingestion recorded (the PDF's creation date, else the file's modification date);
    "" when neither is known. The one rule for filters, citations and listings."""
    tags = record.get("tags") or {}
    return str(tags.get("date") or record.get("date") or "")


@dataclass(frozen=True)
class Page:
    """One physical page of a source document after text normalisation."""

    number: int  # physical page, 1-based
    label: str  # printed page label (e.g. "iv", "12"); the physical number when the PDF has none
    text: str
    start: int = 0  # character offset of this page in the document's normalised text
    has_text: bool = True


@dataclass(frozen=True)
class Heading:
    """A section heading located in a document's normalised text."""

    title: str
    level: int  # 0 = top level
    offset: int  # character offset in the document's normalised text
    source: str  # "outline" (PDF bookmarks), "markdown" or "detected"


@dataclass
class ExtractedDocument:
    """A source file turned into normalised text with page and section structure."""

    path: str
    sha256: str
    kind: str  # "pdf" | "text" | "markdown"
    title: str
    text: str
    pages: list[Page]
    headings: list[Heading]
    warnings: list[str] = field(default_factory=list)
    pages_without_text: list[int] = field(default_factory=list)
    date: str = ""  # ISO date from the file's metadata (PDF creation date), "" if unknown
    title_source: str = ""  # where `title` came from: "metadata", "first heading" or "file name"
    # pages whose text was read by OCR (ingest/ocr.py): {page number: {"engine", "confidence"}}
    ocr_pages: dict[int, dict] = field(default_factory=dict)


@dataclass(frozen=True)
class Chunk:
    """A retrievable unit of text with full provenance."""

    id: str  # stable content-hash id
    doc_id: str
    source: str  # file path as ingested (absolute)
    file_sha256: str
    text: str
    start: int  # character offsets in the document's normalised text
    end: int
    page_start: int  # physical, 1-based
    page_end: int
    page_labels: tuple[str, ...]
    section: tuple[str, ...]  # section path, outermost first
    n_tokens: int  # embedder tokens of `embed_text`, special tokens excluded
    index: int  # position of the chunk in its document
    title: str = ""
    # offsets in `text` where page_start+1, page_start+2 ... begin (a chunk that spans pages)
    page_breaks: tuple[int, ...] = ()

    @property
    def embed_text(self) -> str:
        """The text given to the embedder: section path as a header, then the chunk."""
        return chunk_embed_text(self.title, self.section, self.text)

    def to_dict(self) -> dict[str, Any]:
        return _dict(self)


def chunk_embed_text(title: str, section: tuple[str, ...] | list[str], text: str) -> str:
    header = " > ".join([p for p in (title, *section) if p])
    return f"{header}\n{text}" if header else text


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its rank and score."""

    id: str
    text: str
    source: str
    file_sha256: str
    page_start: int
    page_end: int
    page_labels: tuple[str, ...]
    section: tuple[str, ...]
    start: int
    end: int
    score: float  # the ranking score of the mode used (higher is better), see `scores`
    rank: int  # 1-based
    title: str = ""
    doc_id: str = ""
    index: int = -1  # position of the chunk in its document
    label: str = ""  # the source's shown name (RagMed.source_labels): "" = its file name
    # Per-stage evidence: {"dense": cosine, "lexical": BM25, "fused": ..., "rerank": ...} and the
    # 1-based rank in each stage's list ({"dense": 3, "lexical": 1}); absent = not retrieved there.
    scores: dict[str, float] = field(default_factory=dict)
    ranks: dict[str, int] = field(default_factory=dict)
    # Neighbour expansion: text of the adjacent chunks of the same document ("" = not expanded).
    context_before: str = ""
    context_after: str = ""
    # offsets in `text` where page_start+1, ... begin; () on one page or indexed before they were kept
    page_breaks: tuple[int, ...] = ()

    @property
    def page(self) -> int:
        return self.page_start

    def page_of(self, sentence: str) -> tuple[int, str]:
        """(physical page, printed label) of the page holding `sentence` (one of this passage's, by
        its first 8 words) from `page_breaks`; the first page when not found or no breaks are known."""
        import bisect
        import re

        m = re.search(r"\s+".join(map(re.escape, sentence.split()[:8])), self.text) if self.page_breaks else None
        i = bisect.bisect_right(self.page_breaks, m.start()) if m and sentence.strip() else 0
        return self.page_start + i, self.page_labels[i] if i < len(self.page_labels) else str(self.page_start + i)

    @property
    def page_label(self) -> str:
        return self.page_labels[0] if self.page_labels else str(self.page_start)

    @property
    def section_path(self) -> str:
        return " > ".join(self.section)

    @property
    def body(self) -> str:
        """The text without its leading heading lines (chunks repeat their section titles)."""
        titles = {t.strip().lower() for t in (self.title, *self.section) if t}
        lines = self.text.splitlines()
        i = 0
        while i < len(lines) and (not lines[i].strip() or lines[i].strip().lstrip("#").strip().lower() in titles):
            i += 1
        return "\n".join(lines[i:])

    def to_dict(self) -> dict[str, Any]:
        d = _dict(self)
        d["page"] = self.page
        d["page_label"] = self.page_label
        d["section_path"] = self.section_path
        d["page_labels"] = list(self.page_labels)
        d["section"] = list(self.section)
        d["page_breaks"] = list(self.page_breaks)
        return d


@dataclass(frozen=True)
class Citation:
    """A [n] marker in an answer, resolved to the passage it names."""

    n: int
    passage_id: str
    source: str
    page: int
    page_label: str
    section: str
    quote: str
    title: str = ""  # the document's title
    date: str = ""  # the document's date (its `date` tag, PDF creation date or file date)
    version: str = ""  # the document's `version` tag, when set at ingest
    label: str = ""  # the source's shown name: its file name, with folders when names collide
    ocr: str = ""  # "text read by OCR (engine, confidence N%)" when the cited page was OCR'd
    superseded: str = ""  # a superseded edition: "superseded by the edition of DATE (FILE)" (store/versions.py)
    superseded_by_date: str = ""  # the date of the edition that replaces it

    def to_dict(self) -> dict[str, Any]:
        return _dict(self)


@dataclass(frozen=True)
class Claim:
    """One sentence of an answer, checked against the passages it cites (see docs/trust.md)."""

    text: str
    status: str  # "supported" | "unsupported" | "uncited"
    cites: tuple[int, ...] = ()  # the passage numbers it cites (valid ones only)
    supported_by: tuple[int, ...] = ()  # cited passages that support it on their own
    overlap: float = 0.0  # share of its content terms found in the cited passages
    similarity: float = 0.0  # best embedding similarity to a sentence of the cited passages
    missing_numbers: tuple[str, ...] = ()  # numbers of the claim absent from the cited passages
    model_score: float | None = None  # the optional NLI / cross-encoder verifier's score
    suggested: int | None = None  # unsupported/uncited: a given passage that does support it
    reason: str = ""  # why it is not supported, in plain words ("the passage says 25 µg, not 25 mg")

    def to_dict(self) -> dict[str, Any]:
        d = _dict(self)
        d["cites"], d["supported_by"] = list(self.cites), list(self.supported_by)
        d["missing_numbers"] = list(self.missing_numbers)
        return d


@dataclass(frozen=True)
class Support:
    """How well an answer is backed by its citations (ALCE-style; docs/trust.md defines each)."""

    claims: int = 0
    supported: int = 0
    unsupported: int = 0
    uncited: int = 0
    citations: int = 0  # citation links counted over all claims
    supported_share: float = 0.0  # supported / claims (1.0 when there are no claims)
    citation_precision: float = 0.0  # ALCE citation precision
    citation_recall: float = 0.0  # ALCE citation recall

    def to_dict(self) -> dict[str, Any]:
        return _dict(self)


@dataclass(frozen=True)
class Abstention:
    """Why ragmed did not give a generated answer."""

    stage: str  # "gate": retrieval evidence too weak; "verification": no claim supported; "model"
    reason: str
    score: float | None = None  # the gate's answerability score
    threshold: float | None = None  # the threshold it was compared with
    code: str = ""  # the gate's machine reason: "not_covered", "no_answer_of_kind", "language"

    def to_dict(self) -> dict[str, Any]:
        return _dict(self)


@dataclass(frozen=True)
class Compression:
    """What prompt compression (prompt/compress.py) did to the retrieved passages.

    `passages` are the passages to give the model (in rank order; passage n is cited as [n]); the
    counts say what was kept and dropped. `to_dict` leaves the passages out: `Answer.passages`
    holds them."""

    passages: list[Passage]
    budget: int  # the passage-token budget (0 = off)
    compressed: bool  # False: given unchanged (budget 0, the passages fit it, or they hold only boilerplate)
    sentences: int = 0  # sentences in the retrieved passages (boilerplate lines included)
    kept: int = 0  # of them, sentences kept
    duplicates: int = 0  # dropped: the same sentence as in a higher-ranked passage (or earlier)
    boilerplate: int = 0  # dropped: page headers/footers, bare links, fragments without letters, very short
    tokens_before: int = 0  # the model's tokens of the passages' text as retrieved (context included)
    tokens_after: int = 0  # ... as given to the model
    passages_before: int = 0
    passages_dropped: int = 0  # passages with no sentence kept, left out

    def to_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in self.__dict__.items() if k != "passages"}
        d["passages_after"] = len(self.passages)
        return d


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    passages_in_prompt: int = 0
    passages_dropped: int = 0  # retrieved but left out by the context budget
    reasoning_tokens: int = 0  # of completion_tokens, those spent inside the reasoning trace

    def to_dict(self) -> dict[str, Any]:
        return _dict(self)


@dataclass
class Timings:
    retrieve_s: float = 0.0
    compress_s: float = 0.0  # prompt compression (sentence scoring), 0 when off
    prompt_s: float = 0.0
    generate_s: float = 0.0
    first_token_s: float | None = None
    total_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return _dict(self)


@dataclass
class Answer:
    """The result of `RagMed.ask`."""

    question: str
    answer: str
    reasoning: str  # the model's thinking trace, kept apart from the answer ("" when none)
    grounded: bool
    citations: list[Citation]
    # The retrieved passages, [n] = passages[n-1] for the answer's and the evidence's citations alike;
    # those given to the model hold the (compressed) text it read (usage.passages of them).
    passages: list[Passage]
    invalid_citations: list[int] = field(default_factory=list)  # [n] that name no passage
    reasoning_closed: bool = True  # False when a thinking trace never closed (answer may be empty)
    reasoning_truncated: bool = False  # the reasoning budget ran out; ragmed closed the trace
    finish_reason: str = ""
    model: str = ""
    usage: Usage = field(default_factory=Usage)
    timings: Timings = field(default_factory=Timings)
    evidence: list = field(default_factory=list)  # evidence mode: ranked EvidenceSentence records
    claims: list[Claim] = field(default_factory=list)  # the answer's sentences, checked
    support: Support | None = None  # None: not verified (ungrounded, or abstained before generation)
    abstained: bool = False
    abstention: Abstention | None = None
    model_answer: str = ""  # the model's own answer when ragmed replaced it by an abstention
    gate_score: float | None = None  # the abstention gate's answerability score for this question
    notices: list[str] = field(default_factory=list)  # e.g. instruction-like text removed from a passage
    compression: Compression | None = None  # None: prompt compression off (or nothing was generated)
    conflicts: list = field(default_factory=list)  # ground.conflicts.Conflict: sources that disagree
    search_query: str = ""  # what retrieval searched for (a follow-up resolved against the history)
    history_turns: int = 0  # earlier turns carried in the prompt (retrieve/followup.py, prompt/history.py)
    history_dropped: int = 0  # earlier turns left out by the context budget, the oldest first

    @property
    def unsupported_claims(self) -> list[Claim]:
        return [c for c in self.claims if c.status == "unsupported"]

    @property
    def uncited_claims(self) -> list[Claim]:
        return [c for c in self.claims if c.status == "uncited"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "evidence": [e.to_dict() for e in self.evidence],
            "answer": self.answer,
            "abstained": self.abstained,
            "abstention": self.abstention.to_dict() if self.abstention else None,
            "gate_score": self.gate_score,
            "model_answer": self.model_answer,
            "notices": list(self.notices),
            "claims": [c.to_dict() for c in self.claims],
            "support": self.support.to_dict() if self.support else None,
            "reasoning": self.reasoning,
            "reasoning_closed": self.reasoning_closed,
            "reasoning_truncated": self.reasoning_truncated,
            "grounded": self.grounded,
            "citations": [c.to_dict() for c in self.citations],
            "invalid_citations": list(self.invalid_citations),
            "passages": [
                {"n": i, **p.to_dict()} for i, p in enumerate(self.passages, start=1)
            ],
            "finish_reason": self.finish_reason,
            "model": self.model,
            "usage": self.usage.to_dict(),
            "timings": self.timings.to_dict(),
            "compression": self.compression.to_dict() if self.compression else None,
            "conflicts": [c.to_dict() for c in self.conflicts],
            "search_query": self.search_query or self.question,
            "history": {"turns": self.history_turns, "dropped": self.history_dropped},
        }


# Ingestion's records (reports of a run, the documents of a collection) live in reports.py; they
# are re-exported here so every record is importable from ragmed.types.
from .reports import DocumentInfo, DocumentReport, IngestReport, PageIssue  # noqa: E402,F401


@dataclass
class Turn:
    """One earlier turn of a conversation: the question, the answer that was shown, and the search
    query retrieval used for it ("" = the question). `result`: the turn's `Answer`, when this
    process made it (not serialised: `to_dict` keeps the three strings)."""

    question: str
    answer: str = ""
    query: str = ""
    result: "Answer | None" = None

    def to_dict(self) -> dict[str, Any]:
        return {"question": self.question, "answer": self.answer, "query": self.query or self.question}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Turn":
        """From {"question", "answer", "query"?} (the `--history` file, `/v1/ask`'s `history`)."""
        return cls(str(d.get("question", "")), str(d.get("answer", "") or ""), str(d.get("query", "") or ""))

    @classmethod
    def of(cls, answer: "Answer") -> "Turn":
        return cls(answer.question, answer.answer, answer.search_query, answer)
