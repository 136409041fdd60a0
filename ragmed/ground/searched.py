"""The question as searched again by the gate (ground/gate.py): misspelt words in the collection's
spelling, abbreviations written out (the collection's own definitions, then clinical shorthand:
ground/abbreviations.py), initialisms the documents write out but never define
(ground/shortforms.py) and brand names the documents do not use, as the generic name or class they
use (ground/drugnames.py). The typed short forms are kept beside the written-out ones."""

from __future__ import annotations

import re

from ..tokenize import tokenize
from . import asking


def corrected_question(question: str, corrected: dict[str, str]) -> str:
    """The question with each corrected word replaced by the collection's term ("" when none)."""
    if not corrected:
        return ""
    out = question
    for word, term in corrected.items():
        out = re.sub(rf"(?<!\w){re.escape(word)}(?!\w)", term, out, flags=re.IGNORECASE)
    return out


def searched_question(question: str, corrected: dict[str, str], index=None, snapshot=None) -> tuple[str, dict[str, str]]:
    """(the question as searched again: spelling variants corrected and abbreviations written out,
    "" when nothing changed; {short form: long form} written out). `index`/`snapshot`: the
    collection, whose own abbreviation definitions come first (ground/abbreviations.py)."""
    from . import abbreviations, drugnames
    from .vocabulary import vocabulary_of

    table = abbreviations.of_collection(index, snapshot) if index is not None and snapshot is not None else {}
    drugs = drugnames.written_out(question, vocabulary_of(snapshot).terms) if snapshot is not None else {}
    # a brand name is not a misspelling of a collection word ("narcan" is naloxone, not "narayan")
    base = corrected_question(question, {w: t for w, t in corrected.items() if w.lower() not in drugs}) or question
    if index is not None and snapshot is not None:  # initialisms the documents write out but never define
        table = {**_undefined_initialisms(base, table, abbreviations.initialisms_of(index, snapshot),
                                          vocabulary_of(snapshot)), **table}
    table = {**drugs, **table}
    expanded, used = abbreviations.expand(base, table, everyday=lambda w: asking.zipf(w) >= 4.0)
    return (expanded if expanded != question else ""), used


def _undefined_initialisms(question: str, table: dict[str, str], initials: dict[str, str],
                           vocabulary: asking.Vocabulary) -> dict[str, str]:
    """{word: phrase} for the question's words that are initialisms of a collection phrase
    (ground/shortforms.py) and neither an index term, a defined abbreviation, clinical shorthand nor
    an everyday English word."""
    from .abbreviations import SHORTHAND

    out = {}
    for word in re.findall(r"(?<![\w/])[A-Za-z]{2,5}(?![\w/])", question):
        key = word.lower()
        if key in initials and key not in table and key not in SHORTHAND and asking.zipf(key) < asking.CORRECT_BELOW \
                and not set(tokenize(key)) & vocabulary.terms:
            out[key] = initials[key]
    return out
