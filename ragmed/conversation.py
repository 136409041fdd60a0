"""Conversations: follow-up questions answered with the earlier turns in mind.

    conv = rag.conversation()
    a1 = conv.ask("What are the symptoms of TB?")
    a2 = conv.ask("and in children?")       # a2.search_query: "What are the symptoms of TB in children?"
    conv.turns[0].result is a1              # each turn keeps its Answer

    rag.chat([{"role": "user", "content": "What are the symptoms of TB?"},
              {"role": "assistant", "content": "..."},
              {"role": "user", "content": "and in children?"}])   # -> Answer of the last message

    rag.ask("and in children?", history=[{"question": "...", "answer": "..."}])

A follow-up is resolved into a standalone search query (retrieve/followup.py); the gate and the
checks work on that query; the prompt carries the earlier turns (prompt/history.py). Nothing here
writes to disk: a conversation lives in memory until its owner saves it (`to_dict`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Sequence

from .errors import InputError
from .types import Answer, Turn

if TYPE_CHECKING:  # pragma: no cover
    from .api import RagMed
    from .pipeline import AskEvent

MAX_TURNS = 50  # earlier turns accepted in one request (the prompt keeps what its budget allows)


def message_text(content: Any) -> str:
    """The text of an OpenAI message's content (a string, or a list of parts of type "text")."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(p.get("text", "")) for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""


def split_messages(messages: Sequence[Any]) -> tuple[str, list[Turn], str]:
    """(system instructions, earlier turns, the question) of OpenAI-style chat messages.

    The last user message is the question; each earlier user message with the assistant reply that
    follows it is a turn (a user message without a reply is a turn with no answer); system (and
    developer) messages are joined as instructions. Raises `InputError` when there is no user
    message with text."""
    system: list[str] = []
    rows: list[tuple[str, str]] = []
    for m in messages:
        role = m.get("role") if isinstance(m, dict) else getattr(m, "role", "")
        text = message_text(m.get("content") if isinstance(m, dict) else getattr(m, "content", "")).strip()
        if role in ("system", "developer"):
            if text:
                system.append(text)
        elif role in ("user", "assistant") and text:
            rows.append((role, text))
    last = max((i for i, (r, _) in enumerate(rows) if r == "user"), default=None)
    if last is None:
        raise InputError("No user message with text: the last user message is the question.")
    turns: list[Turn] = []
    for role, text in rows[:last]:
        if role == "user":
            turns.append(Turn(text))
        elif turns and not turns[-1].answer:
            turns[-1].answer = text
    return "\n".join(system), turns, rows[last][1]


def to_turns(history: Iterable[Any] | None) -> list[Turn]:
    """Earlier turns from `Turn`s, `Answer`s, {"question", "answer", "query"?} dicts, or OpenAI
    messages ({"role", "content"}; all of them are turns then: no question is taken out)."""
    items = list(history or [])
    if not items:
        return []
    if all(isinstance(h, dict) and "role" in h for h in items):
        rows = [*items, {"role": "user", "content": "."}]
        return split_messages(rows)[1][-MAX_TURNS:]
    out = []
    for h in items:
        if isinstance(h, Turn):
            out.append(h)
        elif isinstance(h, Answer):
            out.append(Turn.of(h))
        elif isinstance(h, dict) and str(h.get("question", "")).strip():
            out.append(Turn.from_dict(h))
        else:
            raise InputError("Each history turn needs a \"question\" (and the \"answer\" shown), e.g. "
                             '[{"question": "What are the symptoms of TB?", "answer": "..."}].')
    return out[-MAX_TURNS:]


@dataclass
class Conversation:
    """A thread of questions over one `RagMed`; `ask` answers with the earlier turns in mind and
    adds the turn. `instructions`: like an OpenAI system message, under the grounding rules."""

    rag: "RagMed"
    turns: list[Turn] = field(default_factory=list)
    instructions: str = ""

    def ask(self, question: str, **kwargs: Any) -> Answer:
        """`RagMed.ask` with this conversation's history; the turn is added (with its `Answer`)."""
        answer = self.rag.ask(question, history=list(self.turns), instructions=self.instructions, **kwargs)
        self.turns.append(Turn.of(answer))
        return answer

    def ask_stream(self, question: str, **kwargs: Any) -> Iterator["AskEvent"]:
        """`RagMed.ask_stream` with the history; the turn is added when the "final" event arrives."""
        for event in self.rag.ask_stream(question, history=list(self.turns), instructions=self.instructions,
                                         **kwargs):
            if event.kind == "final" and event.answer is not None:
                self.turns.append(Turn.of(event.answer))
            yield event

    def evidence(self, question: str, **kwargs: Any) -> Answer:
        """Evidence mode with the history (no model); the turn is added."""
        answer = self.rag.evidence(question, history=list(self.turns), **kwargs)
        self.turns.append(Turn.of(answer))
        return answer

    @property
    def last(self) -> Answer | None:
        return self.turns[-1].result if self.turns else None

    def clear(self) -> None:
        """A new thread: forget the turns."""
        self.turns.clear()

    def to_dict(self) -> dict[str, Any]:
        return {"instructions": self.instructions, "turns": [t.to_dict() for t in self.turns]}


__all__ = ["Conversation", "split_messages", "to_turns", "message_text", "MAX_TURNS"]
