"""Document text is data: neutralise passages before they go into a prompt.

A PDF can carry text written to steer a language model ("ignore previous instructions and ...",
fake chat-template tokens, forged citation numbers). Before a passage is shown to the model:

1. chat-template control tokens (`<|im_start|>`, `<start_of_turn>`, `[INST]`, `<think>`, ...) and
   control characters are removed: they can end the passage's turn and open a fake system turn;
2. sentences that address a language model (override, role-play and prompt-leak instructions)
   are replaced by `REMOVED`, so the model never reads them and no answer or citation can quote them;
3. bracketed numbers inside the text ("[3]") become "(3)", so a passage cannot forge a citation
   to another passage;
4. the prompt itself (prompt/grounded.py) puts all passages between fixed begin/end lines, joins
   each passage onto one line (it cannot start a new "Question:" line) and tells the model that
   passages are quoted documents, never instructions.

What was removed is reported (`Answer.notices`), so a clinic learns which document carries it.
"""

from __future__ import annotations

import re
from dataclasses import replace

from ..text import split_sentences
from ..types import Passage

REMOVED = "[instruction-like text removed by ragmed]"

_CONTROL_TOKENS = re.compile(
    r"<\|[^|<>\n]{1,40}\|>|</?(?:start_of_turn|end_of_turn|think|s|system|user|assistant|bos|eos)>|"
    r"\[/?INST\]|<</?SYS>>|<\|?endoftext\|?>",
    re.IGNORECASE,
)
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_BRACKET_NUMBER = re.compile(r"\[(\s*\d{1,3}(?:\s*[-\u2013,;]\s*\d{1,3})*\s*)\]")

_INSTRUCTION = re.compile(
    r"|".join([
        # "ignore/disregard all previous instructions", "forget the rules above"
        r"\b(?:ignore|disregard|forget|override|bypass)\b[^.!?\n]{0,40}\b(?:previous|prior|above|earlier|preceding|"
        r"all|any|your|the|these|those|system)\b[^.!?\n]{0,30}\b(?:instructions?|prompts?|rules|directions|"
        r"guidelines for the assistant|messages?|context)\b",
        # prompt leaking: "reveal/print/repeat your system prompt"
        r"\b(?:reveal|repeat|print|show|output|disclose|leak)\b[^.!?\n]{0,30}\b(?:system|hidden|secret|initial|"
        r"original)\s+(?:prompt|instructions?|message)",
        r"\bsystem prompt\b",
        # role play / new instructions
        r"\byou are now\b", r"\bfrom now on,?\s+(?:you|answer|respond|reply|always)\b",
        r"\b(?:new|updated|real)\s+instructions?\s*:", r"\bdeveloper mode\b", r"\bjailbreak",
        r"\b(?:respond|reply|answer)\s+only\s+with\b", r"\b(?:say|output|print)\s+only\b",
        r"\b(?:as an? )?(?:ai|language model|assistant|chatbot|llm)\b[^.!?\n]{0,40}\b(?:must|should|will)\s+"
        r"(?:now|always|only|instead)\b",
    ]),
    re.IGNORECASE | re.MULTILINE,
)


def clean_tokens(text: str) -> str:
    """Chat-template control tokens and invisible control characters removed."""
    return _CONTROL_TOKENS.sub(" ", _CONTROL_CHARS.sub("", text))


def neutralise(text: str) -> tuple[str, list[str]]:
    """The text made safe to quote in a prompt, and the instruction-like sentences removed from it."""
    text = clean_tokens(text)
    if not _INSTRUCTION.search(text):
        return _BRACKET_NUMBER.sub(r"(\1)", text), []
    removed: list[str] = []
    out, last = [], 0
    for s, e in split_sentences(text, 0, len(text)) or [(0, len(text))]:
        sentence = text[s:e]
        if _INSTRUCTION.search(sentence):
            out.append(text[last:s] + REMOVED)
            removed.append(" ".join(sentence.split()))
            last = e
    out.append(text[last:])
    return _BRACKET_NUMBER.sub(r"(\1)", "".join(out)), removed


def neutralise_passage(p: Passage) -> tuple[Passage, list[str]]:
    """`neutralise` applied to a passage's text and its neighbour context."""
    text, removed = neutralise(p.text)
    before, r1 = neutralise(p.context_before) if p.context_before else ("", [])
    after, r2 = neutralise(p.context_after) if p.context_after else ("", [])
    removed = removed + r1 + r2
    if text == p.text and before == p.context_before and after == p.context_after:
        return p, []
    return replace(p, text=text, context_before=before, context_after=after), removed


def neutralise_all(passages: list[Passage]) -> tuple[list[Passage], list[str]]:
    """Every passage neutralised; notices name each passage that held instruction-like text."""
    from pathlib import Path

    out, notices = [], []
    for p in passages:
        q, removed = neutralise_passage(p)
        out.append(q)
        if removed:
            notices.append(f"{Path(p.source).name}, page {p.page_label}: {len(removed)} instruction-like "
                           "sentence(s) addressed to a language model were removed from this passage "
                           "before the model saw it.")
    return out, notices
