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
