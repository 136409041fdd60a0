"""Keep a model's reasoning trace apart from its answer.

Thinking models (Qwen3, MedPsy) write `<think>reasoning</think>answer`. A chat template may insert
the opening tag itself, so the output can hold only the closing tag. A trace that never closes
(the token budget ran out mid-thought) yields an empty answer and `closed=False`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

OPEN, CLOSE = "<think>", "</think>"


@dataclass(frozen=True)
class Split:
    reasoning: str
    answer: str
    closed: bool  # False: reasoning started but never ended


def split_reasoning(text: str) -> Split:
    if CLOSE in text:
        head, _, tail = text.partition(CLOSE)
        reasoning = head.replace(OPEN, "", 1) if OPEN in head else head
        answer = tail.replace(OPEN, "").replace(CLOSE, "")
        return Split(reasoning.strip(), answer.strip(), True)
    stripped = text.lstrip()
    if stripped.startswith(OPEN):
        return Split(stripped[len(OPEN):].strip(), "", False)
    return Split("", re.sub(r"</?think>", "", text).strip(), True)


class StreamSplitter:
    """Classify streamed text as reasoning or answer as it arrives.

    `feed(piece)` returns [(kind, text)] with kind "reasoning" or "answer"; text that could be the
    start of a tag is held back until the next piece decides it. `in_reasoning=True` starts inside a
    trace (a template that pre-inserts `<think>`); otherwise a trace is recognised only if the
    output opens with `<think>`.
    """

    def __init__(self, in_reasoning: bool = False):
        self.state = "reasoning" if in_reasoning else "start"
        self.buf = ""
        self.answer_started = False

    def feed(self, piece: str) -> list[tuple[str, str]]:
        self.buf += piece
        out: list[tuple[str, str]] = []
        while True:
            if self.state == "start":
                s = self.buf.lstrip()
                if s.startswith(OPEN):
                    self.buf = s[len(OPEN):]
                    self.state = "reasoning"
                    continue
                if OPEN.startswith(s) and len(s) < len(OPEN):
                    return out  # undecided: "<thi" could still become "<think>"
                self.state = "answer"
                continue
            if self.state == "reasoning":
                i = self.buf.find(CLOSE)
                if i >= 0:
                    if i:
                        out.append(("reasoning", self.buf[:i]))
                    self.buf = self.buf[i + len(CLOSE):]
                    self.state = "answer"
                    continue
                keep = _partial_suffix(self.buf, CLOSE)
                if len(self.buf) > keep:
                    out.append(("reasoning", self.buf[: len(self.buf) - keep]))
                    self.buf = self.buf[len(self.buf) - keep:]
                return out
            # answer: leading blank lines and stray tags are dropped, as split_reasoning does
            if not self.answer_started:
                self.buf = self.buf.lstrip()
                if not self.buf:
                    return out
            keep = max(_partial_suffix(self.buf, CLOSE), _partial_suffix(self.buf, OPEN))
            text = self.buf[: len(self.buf) - keep] if keep else self.buf
            self.buf = self.buf[len(text):]
            text = text.replace(OPEN, "").replace(CLOSE, "")
            if text:
                self.answer_started = True
                out.append(("answer", text))
            return out

    def flush(self) -> list[tuple[str, str]]:
        kind = "reasoning" if self.state == "reasoning" else "answer"
        text, self.buf = self.buf, ""
        return [(kind, text)] if text else []


def _partial_suffix(text: str, tag: str) -> int:
    """Length of the longest end of `text` that is a proper start of `tag`."""
    for n in range(min(len(tag) - 1, len(text)), 0, -1):
        if tag.startswith(text[-n:]):
            return n
    return 0


# -- thinking modes (`--thinking on|off|budget N`, `RAGMED_THINKING`) -----------------------------------
# Qwen3's documented way to answer without a trace (enable_thinking=False in its chat template): the
# assistant turn starts with an empty, closed trace, so the model writes the answer at once.
NO_THINK_PREFILL = OPEN + "\n\n" + CLOSE + "\n\n"
THINKING_HELP = ("on (reason within the reasoning_tokens budget, default), off (an empty <think></think> "
                 "prefilled: answer at once; Qwen3 hybrids such as MedPsy-1.7B), or budget N (reason at "
                 "most N tokens, then ragmed closes the trace)")


@dataclass(frozen=True)
class ThinkingMode:
    """How a reasoning model may think: `mode` "on" (budget: the reasoning_tokens setting), "off"
    (no trace), or "budget" (at most `budget` tokens)."""

    mode: str
    budget: int | None = None

    def reasoning_tokens(self, default: int) -> int:
        """The trace's token budget: 0 when off, N for "budget N", else `default`."""
        return 0 if self.mode == "off" else self.budget if self.mode == "budget" else default

    def __str__(self) -> str:
        return f"budget {self.budget}" if self.mode == "budget" else self.mode


def parse_thinking(text: str | None) -> ThinkingMode:
    """"on", "off", "budget N", "budget=N", "budget:N" or "N" (tokens) -> `ThinkingMode`.
    Raises ValueError (with the accepted forms) for anything else."""
    from ..config import THINKING_FORMS

    s = (text or "on").strip().lower()
    if s in ("on", "off"):
        return ThinkingMode(s)
    if not re.fullmatch(THINKING_FORMS, s):
        raise ValueError(f"Thinking mode {text!r} is unknown: use on, off or budget N (for example "
                         "--thinking off or --thinking 'budget 256').")
    return ThinkingMode("budget", int(re.findall(r"\d+", s)[0]))
