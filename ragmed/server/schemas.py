"""Request bodies of the HTTP API (pydantic models; they make the OpenAPI schema)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..api import MAX_QUESTION_CHARS


class Filter(BaseModel):
    """Restrict retrieval, as `ragmed search/ask --doc/--section/--tag/--after/--before`."""

    model_config = ConfigDict(extra="forbid")
    documents: list[str] = Field(default_factory=list, description="path, file name or title contains one of these")
    sections: list[str] = Field(default_factory=list, description="section path contains one of these")
    tags: dict[str, str] = Field(default_factory=dict)
    after: str | None = Field(None, description="document date on/after YYYY[-MM[-DD]]")
    before: str | None = None

    def to_search_filter(self):
        from ..retrieve.filters import SearchFilter

        return SearchFilter(documents=tuple(self.documents), sections=tuple(self.sections),
                            tags=dict(self.tags), after=self.after, before=self.before)


class HistoryTurn(BaseModel):
    """An earlier turn of the conversation: the question and the answer that was shown."""

    model_config = ConfigDict(extra="ignore")
    question: str = Field(..., min_length=1, max_length=MAX_QUESTION_CHARS)
    answer: str = Field("", max_length=20000)
    query: str = Field("", max_length=MAX_QUESTION_CHARS, description="the search query that turn used")


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question: str = Field(..., min_length=1, max_length=MAX_QUESTION_CHARS)
    collection: str | None = Field(None, description="default: the server's collection")
    k: int | None = Field(None, ge=1, le=50)
    mode: Literal["answer", "evidence"] = Field("answer", description="evidence: no model, cited sentences")
    grounded: bool = Field(True, description="false: ask the model without retrieval (for comparison)")
    stream: bool = Field(False, description="server-sent events: reasoning/answer text, then final")
    filter: Filter | None = None
    thinking: str | None = Field(None, max_length=20, description="reasoning models: on, off or 'budget N' "
                                 "(default: the server's)")
    history: list[HistoryTurn] = Field(default_factory=list, max_length=50,
                                       description="earlier turns, oldest first: the question is a follow-up")
    thread: str | None = Field(None, max_length=40, description='a server-side thread id ("new": start one); '
                               "its turns are the history and this turn is added to it")

    def turns(self):
        from ..types import Turn

        return [Turn(t.question, t.answer, t.query) for t in self.history]


class ThreadRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field("", max_length=200)
    collection: str | None = None


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    query: str = Field(..., min_length=1, max_length=MAX_QUESTION_CHARS)
    collection: str | None = None
    k: int | None = Field(None, ge=1, le=100)
    mode: Literal["dense", "lexical", "hybrid"] | None = None
    filter: Filter | None = None


class CheckRequest(BaseModel):
    """`POST /v1/check`: check any text's sentences against passages cited as [1], [2], ..."""

    model_config = ConfigDict(extra="forbid")
    text: str = Field(..., min_length=1, max_length=20000, description="the text to check, with [n] citations")
    passages: list[str] = Field(..., min_length=1, max_length=50, description="passage n is passages[n-1]")
    collection: str | None = Field(None, description="whose embedder the checks use (default: the server's)")


class SessionRequest(BaseModel):
    token: str = Field(..., max_length=512)


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: str
    content: str | list[dict[str, Any]] | None = None


class ChatCompletionRequest(BaseModel):
    """OpenAI's chat-completions body. The last user message is the question; the earlier user and
    assistant messages are its history (a follow-up is searched for as a standalone question) and
    system messages are instructions under the grounding rules (conversation.py). Extra fields:
    collection, k, grounded."""

    model_config = ConfigDict(extra="ignore")
    model: str | None = None
    messages: list[ChatMessage] = Field(..., min_length=1)
    stream: bool = False
    max_tokens: int | None = Field(None, ge=1, le=8192)
    max_completion_tokens: int | None = Field(None, ge=1, le=8192)
    temperature: float | None = Field(None, ge=0, le=2)
    seed: int | None = None
    collection: str | None = None
    k: int | None = Field(None, ge=1, le=50)
    grounded: bool = True

    def question(self) -> str:
        for m in reversed(self.messages):
            if m.role == "user":
                if isinstance(m.content, str):
                    return m.content
                return "\n".join(str(p.get("text", "")) for p in (m.content or []) if p.get("type") == "text")
        return ""
