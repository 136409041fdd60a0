"""Grounded and ungrounded prompts, with a context budget.

The grounded prompt numbers the passages [1]..[n] (best first), tells the model to answer only
from them and to cite them as [n], and to say so when they do not hold the answer. Passages that
do not fit the model's context (after room for the answer) are left out, lowest-ranked first,
and counted; a passage is never cut in the middle.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..errors import InputError
from ..types import Passage

NOT_FOUND = "The provided documents do not answer this question."

SYSTEM_GROUNDED = (
    "You are a careful clinical assistant. Answer the question using ONLY the numbered passages "
    "from the clinic's documents. After every sentence, cite the passage(s) it comes from with "
    "their number in square brackets, for example [1] or [2][3]. Do not use outside knowledge. "
    f"If the passages do not contain the answer, reply exactly: {NOT_FOUND}"
)
SYSTEM_UNGROUNDED = (
    "You are a careful clinical assistant. Answer the question concisely and accurately."
)


def describe(p: Passage) -> str:
    where = f"{Path(p.source).name}, page {p.page_label}"
    if p.section:
        where += f", section: {p.section_path}"
    return where


def passage_block(n: int, p: Passage) -> str:
    body = " ".join(p.text.split())
    return f"[{n}] ({describe(p)})\n{body}"


def user_grounded(question: str, blocks: list[str]) -> str:
    return (
        "Passages:\n\n" + "\n\n".join(blocks) + "\n\n"
        f"Question: {question}\n"
        "Answer in a few sentences, citing passage numbers like [1]."
    )


@dataclass
class Prompt:
    messages: list[dict[str, str]]
    passages: list[Passage]  # in prompt order: passage n is passages[n-1]
    dropped: int


def ungrounded(question: str) -> Prompt:
    return Prompt(
        [{"role": "system", "content": SYSTEM_UNGROUNDED}, {"role": "user", "content": question}], [], 0
    )


def grounded(
    question: str,
    passages: list[Passage],
    prompt_tokens: Callable[[list[dict[str, str]]], int],
    budget: int,
) -> Prompt:
    """Fit as many passages as the budget (prompt tokens) allows, in rank order."""
    def messages(ps: list[Passage]) -> list[dict[str, str]]:
        blocks = [passage_block(i, p) for i, p in enumerate(ps, start=1)]
        return [
            {"role": "system", "content": SYSTEM_GROUNDED},
            {"role": "user", "content": user_grounded(question, blocks)},
        ]

    if prompt_tokens(messages([])) > budget:
        raise InputError(
            f"The question is too long for the model's context ({budget} prompt tokens available). "
            "Shorten it, or use a larger --n-ctx."
        )
    chosen: list[Passage] = []
    for p in passages:
        if prompt_tokens(messages([*chosen, p])) <= budget:
            chosen.append(p)
        else:
            break
    return Prompt(messages(chosen), chosen, len(passages) - len(chosen))
