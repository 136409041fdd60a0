"""Split an answer into claims (sentences) and the passage numbers each one cites.

A claim is a sentence of the answer that states something: questions, the "documents do not answer"
sentence and fragments without content words are not claims. Citation markers are attached to the
sentence they belong to: "... 6 hours [2]." and "... 6 hours. [2]" both cite [2] for that sentence.
Markers naming passages that were not given to the model are removed from the text and reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..text import split_sentences
from ..tokenize import tokenize
from .marks import _MARK, cited_numbers

# The sentence the grounded prompt (prompt/grounded.py) asks the model to write when the passages
# do not answer; `says_not_found` also accepts close variants.
NOT_FOUND = "The provided documents do not answer this question."

def says_not_found(answer: str) -> bool:
    """Whether the answer is the model declaring that the passages do not answer."""
    text = " ".join(answer.lower().split())
    return NOT_FOUND.lower().rstrip(".") in text or bool(re.search(
        r"(?:do|does) not (?:answer|contain the answer|contain an answer|provide an answer)", text))


# Words that carry no claim content in an answer ("According to passage [2], ...").
FILLER = frozenset(tokenize("according passage passages document documents provided state states stated "
                            "say says mention mentions mentioned answer question"))
_ONLY_MARKS = re.compile(r"^[\s.,;:()]*(?:\[[^\]]*\][\s.,;:()]*)+$")


@dataclass(frozen=True)
class Sentence:
    text: str  # the sentence as written (its markers included)
    start: int
    end: int
    cites: tuple[int, ...]  # the passage numbers it cites, in order


def content_terms(text: str) -> list[str]:
    """The claim's content terms (ragmed's medical tokenizer, minus answer filler words)."""
    return [t for t in tokenize(_MARK.sub(" ", text)) if t not in FILLER]


def remove_invalid(answer: str, n_passages: int) -> tuple[str, list[int]]:
    """Drop the citation numbers that name no passage ([7] of 5); return the text and those numbers."""
    removed: list[int] = []

    def fix(m: re.Match) -> str:
        nums = cited_numbers(m.group(0))
        bad = [n for n in nums if not 1 <= n <= n_passages]
        if not bad:
            return m.group(0)
        removed.extend(n for n in bad if n not in removed)
        good = [n for n in nums if 1 <= n <= n_passages]
        return f"[{', '.join(map(str, good))}]" if good else ""

    text = _MARK.sub(fix, answer)
    if removed:
        text = re.sub(r"[ \t]+([.,;:])", r"\1", re.sub(r"[ \t]{2,}", " ", text))
    return text, sorted(removed)


def sentences(answer: str) -> list[Sentence]:
    """The answer's sentences, each with the citations that belong to it."""
    spans = split_sentences(answer, 0, len(answer)) or ([(0, len(answer))] if answer.strip() else [])
    out: list[Sentence] = []
    for s, e in spans:
        text = answer[s:e].strip()
        cites = tuple(cited_numbers(text))
        if _ONLY_MARKS.match(text) and out:  # "... hours. [2]": the marker belongs to the sentence before
            prev = out[-1]
            out[-1] = Sentence(prev.text + " " + text, prev.start, e, tuple(dict.fromkeys(prev.cites + cites)))
            continue
        lead = re.match(r"^(?:\[[^\]]*\]\s*)+", text)
        if lead and out and not out[-1].cites:  # "... hours. [2] Next ...": [2] closes the sentence before
            prev, moved = out[-1], tuple(cited_numbers(lead.group(0)))
            out[-1] = Sentence(prev.text + " " + lead.group(0).strip(), prev.start, s + lead.end(), moved)
            text, s = text[lead.end():], s + lead.end()
            cites = tuple(cited_numbers(text))
        out.append(Sentence(text, s, e, cites))
    return out


def is_claim(sentence: Sentence) -> bool:
    text = _MARK.sub(" ", sentence.text).strip()
    if not text or text.endswith("?") or says_not_found(text):
        return False
    return len(content_terms(text)) >= 2
