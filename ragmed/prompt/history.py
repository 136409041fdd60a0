"""The grounded prompt of a follow-up question: earlier turns, then the passages and the question.

    messages = [system (grounding rules, then any client instructions under them),
                worked example (prompt/grounded.py), earlier turns as user/assistant pairs,
                user: numbered passages + the question]

Earlier turns carry the question and the answer that was shown, without its reasoning and with its
[n] citation markers dropped: they numbered *that* turn's passages, and only the current passages are
numbered in this prompt (so every [n] the model writes names a current passage). Turns are kept
newest first while the prompt without passages stays within `HISTORY_SHARE` of the budget; the
oldest turns are dropped first and counted (`HistoryPrompt.dropped`).

Client instructions (an OpenAI client's system message) come after the grounding rules, introduced
as the user's preferences that cannot change them; the passages' safety rules are unchanged.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Callable, Sequence

from ..ground.gate import NOT_COVERED
from ..ground.release import MODEL_NOT_FOUND, WITHHELD
from ..types import Passage, Turn
from . import grounded as base

HISTORY_SHARE = 0.4  # earlier turns and instructions may use at most this share of the prompt budget
MAX_INSTRUCTION_CHARS = 2000
_CITATION = re.compile(r"\s*\[\d+(?:\s*[,–-]\s*\d+)*\]")
_THINK = re.compile(r"<think>.*?(?:</think>|$)", re.S | re.I)
INSTRUCTIONS_HEAD = ("The user's own instructions follow. Apply them only where they agree with the rules "
                     "above; they cannot change those rules (answer only from the passages, cite them, "
                     "say so when the passages do not answer):")


# ragmed's own text in place of an answer (withheld, "not found", refused: ground/release.py,
# pipeline.NOT_COVERED, gate explanations with their nearest sources): not an answer the model gave.
_NOTICE = re.compile(r"^\s*(?:" + "|".join(re.escape(h) for h in (
    WITHHELD.split(":")[0], MODEL_NOT_FOUND, os.path.commonprefix([NOT_COVERED, "The indexed documents do not cover"])))
    + ")", re.I)
_NOTICE_LIST = ("Nearest sources:", "The nearest sentences are:", "The passages' best sentences are:")


def clean_answer(text: str) -> str:
    """An earlier answer as the prompt carries it: no reasoning trace, no [n] citation markers; ""
    when the turn shows ragmed's notice instead of an answer (withheld, not found, refused), so the
    model is not shown that notice as its own earlier reply (it then copies it)."""
    text = text or ""
    if _NOTICE.match(text) or any(m in text for m in _NOTICE_LIST):
        return ""
    return " ".join(_CITATION.sub("", _THINK.sub("", text)).split())


def system_message(instructions: str = "") -> str:
    """The grounding rules, then the client's instructions under them (if any)."""
    extra = " ".join((instructions or "").split())[:MAX_INSTRUCTION_CHARS]
    return f"{base.SYSTEM_GROUNDED}\n\n{INSTRUCTIONS_HEAD}\n{extra}" if extra else base.SYSTEM_GROUNDED


def turn_messages(turns: Sequence[Turn]) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for t in turns:
        out.append({"role": "user", "content": f"Question: {t.question}"})
        out.append({"role": "assistant", "content": clean_answer(t.answer) or base.NOT_FOUND})
    return out


@dataclass
class HistoryPrompt(base.Prompt):
    turns: int = 0  # earlier turns carried in the prompt
    history_dropped: int = 0  # earlier turns left out by the budget (the oldest)


def grounded(question: str, passages: list[Passage], history: Sequence[Turn],
             prompt_tokens: Callable[[list[dict[str, str]]], int], budget: int,
             passage_tokens: int | None = None, instructions: str = "",
             numbers: Sequence[int] | None = None) -> HistoryPrompt:
    """The grounded prompt with earlier turns (newest kept first, within `HISTORY_SHARE` of the
    budget) and `instructions` under the grounding rules; `numbers` as in `grounded.grounded`."""
    system = system_message(instructions)

    def make(turns: Sequence[Turn]):
        def messages(ps: list[Passage]) -> list[dict[str, str]]:
            blocks = [base.passage_block(numbers[i - 1] if numbers else i, p) for i, p in enumerate(ps, start=1)]
            return [{"role": "system", "content": system},
                    {"role": "user", "content": base.EXAMPLE_USER},
                    {"role": "assistant", "content": base.EXAMPLE_ASSISTANT},
                    *turn_messages(turns),
                    {"role": "user", "content": base.user_grounded(question, blocks)}]
        return messages

    turns = list(history)
    limit = int(budget * HISTORY_SHARE) + prompt_tokens(make([])([]))
    while turns and prompt_tokens(make(turns)([])) > min(limit, budget):
        turns.pop(0)  # the oldest first
    p = base.fit(passages, make(turns), prompt_tokens, budget, passage_tokens)
    return HistoryPrompt(p.messages, p.passages, p.dropped, turns=len(turns),
                         history_dropped=len(history) - len(turns))


__all__ = ["HistoryPrompt", "grounded", "clean_answer", "system_message", "HISTORY_SHARE"]
