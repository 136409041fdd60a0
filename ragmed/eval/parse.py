"""Turn a model's free-text answer into a label: yes / no / maybe, or an option letter.

The parser never guesses. It reads, in order: an explicit "Answer: X" / "The answer is X" /
"Final answer: X"; then the answer's first word or option marker ("Yes, ...", "(B)", "C."); then,
for multiple choice, an option's full text quoted in the answer. If it finds none, or finds
conflicting labels at the same level (e.g. "yes" and "no" both stated as the answer), the answer is
**unparseable** (`None`): reported as its own bucket, never counted right or wrong silently.
A reasoning trace (<think>...</think>) is ignored: only the answer after it counts.
"""

from __future__ import annotations

import re

from ..generate.thinking import split_reasoning

YESNO = ("yes", "no", "maybe")
_EXPLICIT = re.compile(
    r"(?:final answer|correct answer|the answer|answer|correct option|option)"
    r"(?:\s+(?:to|for)\s+(?:the|this)\s+question)?\s*(?:is|:|=|would be|-)?\s*"
    r"[:\-]?\s*[\"'(\[*]*\s*(?P<x>[A-Za-z]+)\b",
    re.IGNORECASE,
)
_LEAD = re.compile(r"^\s*[\"'(\[*]*\s*(?P<x>[A-Za-z]+)\s*[\"')\].:,;*!\-\s]", re.IGNORECASE)


def _clean(text: str) -> str:
    answer = split_reasoning(text).answer if "<think>" in text or "</think>" in text else text
    return answer.strip() + " "


def parse_yes_no(text: str, allow_maybe: bool = True) -> str | None:
    """"yes" | "no" | "maybe" (when allowed) | None (unparseable)."""
    answer = _clean(text)
    allowed = YESNO if allow_maybe else YESNO[:2]
    lowered = answer.lower()
    explicit = {m.group("x").lower() for m in _EXPLICIT.finditer(answer)} & set(allowed)
    m = _LEAD.match(answer)
    lead = m.group("x").lower() if m and m.group("x").lower() in allowed else None
    if len(explicit) > 1 or (explicit and lead and lead not in explicit):
        return None  # conflicting answers
    if explicit or lead:
        return (explicit or {lead}).pop()
    words = set(re.findall(r"\b(yes|no|maybe)\b", lowered)) & set(allowed)
    return words.pop() if len(words) == 1 and len(answer.split()) <= 3 else None


def parse_choice(text: str, options: dict[str, str]) -> str | None:
    """The option letter ("A".."E") or None (unparseable)."""
    answer = _clean(text)
    letters = {k.upper() for k in options}
    explicit = {m.group("x").upper() for m in _EXPLICIT.finditer(answer)
                if len(m.group("x")) == 1} & letters
    m = _LEAD.match(answer)
    lead = m.group("x").upper() if m and len(m.group("x")) == 1 and m.group("x").upper() in letters else None
    if lead and re.match(r"^[\s\"'(\[*]*[A-Za-z][\s)\].,]*(?:or|and|/)\s", answer, re.IGNORECASE):
        lead = "?"  # "A or B": more than one option
    if len(explicit) > 1 or (explicit and lead and lead not in explicit) or lead == "?":
        return None
    if explicit or lead:
        return (explicit or {lead}).pop()
    lowered = " ".join(answer.lower().split())
    quoted = [k.upper() for k, v in options.items() if v and " ".join(v.lower().split()) in lowered]
    if len(quoted) == 1:
        return quoted[0]
    return None


def parse_label(text: str, kind: str, options: dict[str, str] | None = None) -> str | None:
    """Dispatch on the question kind: "yesno", "yesnomaybe" or "choice"."""
    if kind == "choice":
        return parse_choice(text, options or {})
    return parse_yes_no(text, allow_maybe=kind == "yesnomaybe")
