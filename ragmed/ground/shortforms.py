"""Short forms people type that the documents never write: clipped words ("hypo", "schisto") and
initialisms the documents do not define ("MDV" for the "multi-dose vials" they write out).

ground/abbreviations.py reads the abbreviations the documents define ("praziquantel (PZQ)") and a
short list of clinical shorthand; ground/asking.py matches misspellings. Two more ways of writing
a term short are read here, each against the collection's own words, so no word list is kept:

- **Clipped words** (`completion`): a typed word of at least `MIN_CLIP` letters that is not an
  index term, not a misspelling of one and not an everyday English word, and is the beginning of
  index terms at least `MIN_REST` letters longer, stands for the one the collection uses most
  (BM25 document frequency), when its family — the completions sharing its first `MIN_REST`
  letters past the typed ones — is used at least `DOMINANCE` times as often as the most used
  completion outside it: "schisto" -> "schistosomiasis" (its family "schistoso-": schistosomiasis,
  schistosoma, schistosome; no other completion), "hypo" -> "hypoglycaemia" (family "hypogly-", 14
  chunks of the guideline collection, against 3 for "hypotension"). A word with no clear
  completion is left as typed.
- **Initialisms** (`initialisms`): phrases of 2-4 words (hyphenated parts count as words:
  "multi-dose vial" spells MDV) of the collection's sentences, no stopword inside, counted by
  their initials. An initialism typed in a question that the collection has no term for stands for
  the phrase with the highest count times the rarity of its words (`asking.rarity`: medical
  phrases name rare things; "focus group study" is everyday), when that score is at least
  `DOMINANCE` times the next phrase's and the phrase occurs at least `MIN_COUNT` times.

Both only add words to the searched question (the typed word is kept), and only for words the
collection lacks: a term the documents use or define is never rewritten. Chosen on the dev split of
benchmarks/realistic_questions.py.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from typing import Callable, Iterable

MIN_CLIP = 4  # letters of a clipped word ("hypo")
MIN_REST = 3  # letters a completion adds at least ("schisto" -> "schistosomiasis")
DOMINANCE = 2.0  # the chosen completion or phrase against the next one
MIN_COUNT = 2  # occurrences of an initialism's phrase in the collection (a clipped word needs one chunk)
_PHRASE_WORDS = 4
_WORD = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)*")
_BREAK = re.compile(r"[.;:!?()\[\],\n]")


def completion(term: str, terms: Iterable[str], df: Callable[[str], int]) -> str | None:
    """The index term a clipped `term` stands for (see the module docstring), None when none is clear.
    `terms`: the collection's index terms; `df(term)`: in how many chunks it occurs."""
    if len(term) < MIN_CLIP or not term.isalpha():
        return None
    cands = sorted(((df(t), t) for t in terms if t.startswith(term) and len(t) >= len(term) + MIN_REST
                    and t.isalpha()), key=lambda x: (-x[0], x[1]))
    if not cands or cands[0][0] < 1:
        return None
    best = cands[0][1]
    family = best[:len(term) + MIN_REST]  # "schistosomiasi", "schistosoma": one word's family
    kin = sum(n for n, t in cands if t.startswith(family))
    other = max((n for n, t in cands if not t.startswith(family)), default=0)
    if kin < DOMINANCE * other:
        return None
    return best


def initialisms(texts: Iterable[str], stopwords: frozenset[str], rarity: Callable[[str], float]) -> dict[str, str]:
    """initials (lower case, 2-5 letters) -> the phrase they stand for in these texts (see the
    module docstring). Deterministic: ties in score go to sorted order."""
    grams: dict[str, Counter] = defaultdict(Counter)
    for text in texts:
        for part in _BREAK.split(text):
            words = [w.lower() for w in _WORD.findall(part)]
            for i in range(len(words)):
                pieces: list[str] = []
                for j in range(i, min(i + _PHRASE_WORDS, len(words))):
                    w = words[j]
                    if w in stopwords or len(w) < 3:
                        break
                    pieces.extend(x for x in w.split("-") if x)
                    if j > i and 2 <= len(pieces) <= 5:
                        grams["".join(x[0] for x in pieces)][" ".join(words[i:j + 1])] += 1
    out: dict[str, str] = {}
    for key in sorted(grams):
        c = grams[key]
        if max(c.values()) < MIN_COUNT:
            continue
        scored = sorted(((n * sum(rarity(x) for x in re.split(r"[ -]", p)), p) for p, n in c.items()),
                        key=lambda x: (-x[0], x[1]))
        best, phrase = scored[0]
        if c[phrase] < MIN_COUNT or best <= 0:
            continue
        if len(scored) > 1 and best < DOMINANCE * scored[1][0]:
            continue
        out[key] = phrase
    return out
