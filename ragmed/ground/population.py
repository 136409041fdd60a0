"""Who a question is about, against whom the passages speak of: a notice when they differ.

A protocol written for adults gives adult doses. When a clinician asks about a child, a pregnant
patient or a patient with renal impairment, the checks under the answer can all be ✓ (the passage
does state that dose) while the guidance does not apply to that patient. So, besides the checks:

    population_notices("Amlodipine dose for a 6 year old?", passages)
    -> ['Your question is about children; protocol.pdf, page 1 (p. 2) says: "It does not cover
         pregnancy, children or patients admitted to a ward."']
    population_notices("Can pregnant women take praziquantel?", passages_without_pregnancy)
    -> ['Your question is about pregnancy; none of the passages found mentions pregnancy (they speak
         of children). Check that the guidance applies before using it.']

Populations are the "pop" cues of ground/cues.py (the claim checker's lexicon: children, older adults,
pregnancy, renal/hepatic impairment, opioid-naive/-tolerant, adults), plus ages written in the
question ("4-year-old", "aged 70", "6 months old") and everyday words for children ("baby",
"toddler", "teenager"). "women"/"men" name no clinical scope and are left out.

A sentence that limits the guidance ("scope exclusion", or a contraindication: "Do not give aspirin
to children") is a sentence of a retrieved document that names the population after a negation
or an exclusion word in the same clause ("does not cover pregnancy, children or ...", "not intended
for use in children", "excludes patients with renal impairment"), or before "are excluded"/"are not
covered" ("Children are excluded from this protocol").
"""

from __future__ import annotations

import re
from typing import Sequence

from ..text import split_sentences
from ..types import Passage
from .cues import analyse

IGNORED = frozenset({"women", "men"})
NOTICE = "Your question is about"  # every notice of this module starts so (front ends show them to the clinician)
ADULT_AGE, OLDER_AGE = 18, 65  # years: under 18 is a child (WHO/CRC), 65 and over an older adult

_AGE = re.compile(r"\b(\d{1,3})[- ]?(?:years?|yrs?|y)[- ]?(?:old|of age)\b|\baged? (\d{1,3})\b|"
                  r"\b(\d{1,2})[- ]?(?:months?|weeks?|days?)[- ]?old\b", re.I)
_CHILD_WORDS = re.compile(r"\b(?:bab(?:y|ies)|toddlers?|teen(?:ager)?s?|school ?child(?:ren)?|boys?|girls?|"
                          r"son|daughter)\b", re.I)
_EXCLUDES = re.compile(r"\b(?:not|n['’]t|never|excludes?|excluding|except|other than|unless)\b", re.I)
_EXCLUDED = re.compile(r"\b(?:are|is) (?:excluded|not covered|not included|outside (?:the|its|this) scope)\b", re.I)
_CLAUSE_END = re.compile(r"[;:,]|\bbut\b|\bwhile\b|\bwhereas\b", re.I)


def question_populations(question: str) -> set[str]:
    """The populations a question is about (values of ground/cues.py's "pop" family)."""
    pops = {c.value for c in analyse(question).of("pop")} - IGNORED
    for m in _AGE.finditer(question):
        if m.group(3):  # months/weeks/days old
            pops.add("children")
            continue
        age = int(m.group(1) or m.group(2))
        if age < ADULT_AGE:
            pops.add("children")
        elif age >= OLDER_AGE:
            pops.add("older adults")
    if _CHILD_WORDS.search(question):
        pops.add("children")
    if "children" in pops or "older adults" in pops:
        pops.discard("adults")  # "a child" is not also about adults; "older adults" is the narrower one
    return pops


def mentions(text: str) -> set[str]:
    """The populations a passage speaks of."""
    return {c.value for c in analyse(text).of("pop")} - IGNORED


def exclusions(passages: Sequence[Passage], population: str, numbers: Sequence[int] | None = None,
               ) -> list[tuple[int, str]]:
    """(passage number, sentence) of each sentence that excludes `population` from its document's
    scope (see the module docstring). `numbers`: the passages' [n] (default 1..len)."""
    out = []
    for n, p in zip(numbers or range(1, len(passages) + 1), passages):
        for a, b in split_sentences(p.text, 0, len(p.text)):
            sentence = " ".join(p.text[a:b].split())
            for cue in analyse(sentence).of("pop"):
                if cue.value != population:
                    continue
                before, after = _clause(sentence, cue.word)
                if _EXCLUDES.search(before) or _EXCLUDED.match(after.lstrip()) or _EXCLUDED.search(after[:40]):
                    out.append((n, sentence))
                    break
    return out


def _clause(sentence: str, word: str) -> tuple[str, str]:
    """The text of `word`'s clause before it and after it ("", "" when not found as written). A list
    ("pregnancy, children or ...") is one clause: commas end a clause only after the word."""
    m = re.search(rf"\b{re.escape(word)}\b", sentence, re.I)
    if m is None:
        return "", ""
    head, tail = sentence[:m.start()], sentence[m.end():]
    ends = [e for e in _CLAUSE_END.finditer(head) if e.group(0) != ","]
    head = head[ends[-1].end():] if ends else head
    stop = _CLAUSE_END.search(tail)
    return head, (tail[:stop.start()] if stop else tail)


def population_notices(question: str, passages: Sequence[Passage], scope: Sequence[Passage] = (),
                       ) -> list[str]:
    """Plain-words notices for the populations `question` is about: a sentence of `passages` or of
    `scope` (more passages of the same documents, e.g. their scope sections) that excludes the
    population, quoted with its source and page, else a notice when no passage mentions it (in
    its text, section path or document title). Empty when the question names no population or the passages speak of it."""
    pops = question_populations(question)
    if not pops or not passages:
        return []
    notes = []
    numbered = {p.id: n for n, p in enumerate(passages, 1)}
    extra = [p for p in scope if p.id not in numbered]
    spoken = set().union(*(mentions(f"{p.title}. {p.section_path}. {p.text}") for p in passages))
    for pop in sorted(pops):
        # named by source and page, not [n]: a refusal or evidence mode lists only some passages' sources
        found = [(_name(passages[n - 1]), s) for n, s in exclusions(passages, pop)]
        found += [(_name(extra[n - 1]), s) for n, s in exclusions(extra, pop)]
        if found:
            where, sentence = found[0]
            notes.append(f'{NOTICE} {pop}; {where} says: "{sentence}"')
        elif pop not in spoken:
            others = sorted(spoken - {pop})
            they = f" (they speak of {', '.join(others)})" if others else ""
            notes.append(f"{NOTICE} {pop}; none of the passages found mentions {pop}{they}. "
                         "Check that the guidance applies before using it.")
    return notes


def _name(p: Passage) -> str:
    """A passage outside the numbered ones, named as source lines name it: "file.pdf, page 1 (p. 2)"
    (printed page label, then the physical page when they differ)."""
    from pathlib import Path

    physical = f" (p. {p.page_start})" if p.page_label != str(p.page_start) else ""
    return f"{p.label or Path(p.source).name}, page {p.page_label}{physical}"
