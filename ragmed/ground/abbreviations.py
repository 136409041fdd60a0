"""Abbreviations as the collection defines them, and clinical shorthand: "PZQ in pregnancy" is read
as "praziquantel (PZQ) in pregnancy" when a document writes "praziquantel (PZQ)".

- **Defined in the documents** (`definitions`): pairs "long form (SHORT)" and "SHORT (long form)"
  found in the collection's text by the algorithm of Schwartz & Hearst (2003, "A simple algorithm
  for identifying abbreviation definitions in biomedical text", PSB 8:451-462): the short form is
  2-10 characters with a letter, and its characters are found, right to left, in the words before
  the parenthesis, the first one starting a word; at most min(|S| + 5, 2|S|) words are looked at.
  Glossary entries of abbreviation lists ("PZQ: praziquantel;") count when the whole entry spells
  the short form the same way.
  A short form defined two ways keeps the long form written most often (ties: the shorter, then
  sorted order), so the table does not depend on the order documents were added.
- **Clinical shorthand** (`SHORTHAND`): abbreviations staff type in notes that documents rarely
  define ("tx", "pts", "meds"). The list holds only standard shorthand of clinical notes (as in
  medical abbreviation lists such as Wikipedia's "List of medical abbreviations"), each with one
  meaning in a question (shorthand that is also an everyday word — "im", "mo", "yo" — is left
  out); it is not fitted to any question set. A collection's own definition comes first.

`expand(question, table)` writes each short form of the question (a whole word, any case) as
"long form (SHORT)" — the short form is kept, so a document that uses it still matches. A
collection-defined short form typed in lower case that is an everyday English word ("ward",
"care", "act") is taken as typed; in capitals ("ACT") it is the abbreviation.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Iterable

from ..files import atomic_write_json

SHORTHAND = {
    "tx": "treatment", "dx": "diagnosis", "hx": "history", "sx": "symptoms", "rx": "prescription",
    "pt": "patient", "pts": "patients", "abx": "antibiotics", "meds": "medicines", "med": "medicine",
    "w/o": "without", "b/c": "because", "yr": "year", "yrs": "years",
    "wk": "week", "wks": "weeks", "mos": "months", "hr": "hour", "hrs": "hours",
    "dr": "doctor", "appt": "appointment", "preg": "pregnancy",
    "bp": "blood pressure", "iv": "intravenous",
    "ppe": "personal protective equipment", "uti": "urinary tract infection",
}

_PAREN = re.compile(r"\(([^()]{1,60})\)")
# Glossary entries of abbreviation lists: "PZQ: praziquantel;", "MD = mean difference,"
_GLOSSARY = re.compile(r"(?<![\w-])([A-Z][A-Za-z0-9/-]{1,9})\s*[:=]\s*([A-Za-z][A-Za-z -]{2,60}?)(?=\s*[;,.]|\s+[A-Z][A-Za-z0-9/-]{1,9}\s*[:=]|$)")
_SHORT = re.compile(r"^[A-Za-z][\w\-/.]{0,9}$")


def _long_for(short: str, before: str) -> str | None:
    """Schwartz-Hearst: the shortest tail of `before` whose letters spell `short` right to left."""
    words = before.split()
    n = min(len(short) + 5, 2 * len(short))
    words = words[-n:] if words else []
    cand = " ".join(words)
    s, li = len(short) - 1, len(cand) - 1
    sl, cl = short.lower(), cand.lower()
    while s >= 0:
        c = sl[s]
        if not c.isalnum():
            s -= 1
            continue
        while li >= 0 and (cl[li] != c or (s == 0 and li > 0 and cl[li - 1].isalnum())):
            li -= 1
        if li < 0:
            return None
        li -= 1
        s -= 1
    start = cand.rfind(" ", 0, li + 1) + 1
    long_form = cand[start:].strip(" ,;:")
    if not long_form or len(long_form) <= len(short) or short.lower() in long_form.lower().split():
        return None
    return long_form


def _is_short(s: str) -> bool:
    return bool(_SHORT.match(s)) and 2 <= len(s) <= 10 and any(c.isupper() for c in s) and len(s.split()) == 1


def definitions(texts: Iterable[str]) -> dict[str, str]:
    """Short form (lower case) -> long form, from "long form (SHORT)" and "SHORT (long form)" pairs."""
    seen: dict[str, Counter] = {}
    for text in texts:
        text = " ".join(text.split())
        for m in _PAREN.finditer(text):
            inner = m.group(1).strip()
            before = text[max(0, m.start() - 200):m.start()].rstrip()
            before = re.split(r"[.;:!?]\s", before)[-1]
            if _is_short(inner):
                lf = _long_for(inner, before)
                if lf:
                    seen.setdefault(inner.lower(), Counter())[lf.lower()] += 1
            else:
                words = before.split()
                if words and _is_short(words[-1]) and len(inner.split()) <= 2 * len(words[-1]):
                    lf = _long_for(words[-1], inner)
                    if lf:
                        seen.setdefault(words[-1].lower(), Counter())[lf.lower()] += 1
        for m in _GLOSSARY.finditer(text):
            short, inner = m.group(1), m.group(2).strip()
            if _is_short(short) and _long_for(short, inner) == inner:
                seen.setdefault(short.lower(), Counter())[inner.lower()] += 1
    return {s: min(c.items(), key=lambda kv: (-kv[1], len(kv[0]), kv[0]))[0] for s, c in sorted(seen.items())}


def expand(question: str, table: dict[str, str], everyday=lambda w: False) -> tuple[str, dict[str, str]]:
    """(the question with each short form written "long form (SHORT)", {short: long form} used).

    `table`: the collection's `definitions`, then `SHORTHAND`; `everyday(word)`: True for a
    lower-case word that is taken as typed (see the module docstring)."""
    used: dict[str, str] = {}

    def repl(m: re.Match) -> str:
        word = m.group(0)
        key = word.lower()
        if "/" in word and key not in table and key not in SHORTHAND:  # "MME/day": the short form, then "/day"
            head, _, tail = word.partition("/")
            return repl(re.match(r".+", head)) + "/" + tail
        long_form = table.get(key) or SHORTHAND.get(key)
        if not long_form or long_form.lower() in question.lower():
            return word
        if key not in SHORTHAND and not word.isupper() and everyday(key):
            return word
        used[word] = long_form
        return f"{long_form} ({word})"

    out = re.sub(r"(?<![\w/])[A-Za-z][A-Za-z0-9]*(?:/[A-Za-z]+)?(?![\w/])", repl, question)
    return out, used


_TABLES: dict[str, dict[str, str]] = {}


def of_collection(index, snapshot) -> dict[str, str]:
    """The `definitions` of a collection's text (`index`: store.collection.Collection; `snapshot`:
    its lexical snapshot), cached per snapshot stamp in memory and in ragmed's cache folder
    (reading 5,000 chunks takes seconds; the table is a few kB). Empty for an empty collection."""
    return _cached(index, snapshot, "", definitions)


def initialisms_of(index, snapshot) -> dict[str, str]:
    """The initialisms of a collection's phrases (ground/shortforms.py `initialisms`), cached as
    `of_collection` is (a few hundred kB for 5,000 chunks)."""
    from ..tokenize import STOPWORDS
    from .asking import rarity
    from .shortforms import initialisms

    return _cached(index, snapshot, "-initials", lambda texts: initialisms(texts, STOPWORDS, rarity))


def _cached(index, snapshot, suffix: str, build) -> dict[str, str]:
    import hashlib
    import json

    from ..config import cache_dir

    stamp = getattr(snapshot, "stamp", "")
    key = hashlib.sha1(f"{index.location}|{stamp}".encode()).hexdigest()[:20] + suffix
    if key in _TABLES:
        return _TABLES[key]
    path = cache_dir() / "abbreviations" / f"{key}.json"
    table = None
    try:
        table = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    if not isinstance(table, dict):
        refs = [r.id for r in getattr(snapshot, "refs", [])]
        texts = [p.text for p, _ in index.get(refs).values() if p is not None] if refs else []
        table = build(texts)
        try:
            atomic_write_json(path, table)
        except OSError:
            pass  # a read-only cache: the table is rebuilt next time
    if len(_TABLES) >= 4:  # the tables of one or two collections
        _TABLES.pop(next(iter(_TABLES)))
    _TABLES[key] = table
    return table
