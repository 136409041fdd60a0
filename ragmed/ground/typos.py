"""Typos of a question's form words and word frequencies (used by ground/asking.py).

A word within one edit of an English stopword ("waht", "teh") or of a word that says what kind of
answer is asked for ("ofen", "lnog": `FORM_WORDS`) is a typo of that word when it is not itself a
common word (wordfreq Zipf < 3.5). Word frequencies come from wordfreq's deterministic tables.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ..tokenize import STOPWORDS


@lru_cache(maxsize=65536)
def zipf(word: str, lang: str = "en") -> float:
    """Zipf frequency of a word in a language (wordfreq; 0 = unknown)."""
    from wordfreq import zipf_frequency

    return zipf_frequency(word, lang)


# Words of the question's form: stopwords, and the words that say what kind of answer is asked for
# ("how often", "how long", "how much/many"); a typo of one ("ofen", "lnog", "hwo") is that word.
FORM_WORDS = frozenset("often long much many frequently usually".split())
_STOP_LIST = sorted({w for w in STOPWORDS if len(w) >= 3} | FORM_WORDS)


@lru_cache(maxsize=4096)
def typo_of_form_word(word: str) -> str | None:
    """The stopword or form word (`FORM_WORDS`) that `word` is a one-edit typo of ("waht" -> "what",
    "ofen" -> "often", "lnog" -> "long"; Optimal String Alignment distance, rapidfuzz), or None. A
    real word (wordfreq Zipf >= 3.5: "want", "wet", "log") is not a typo."""
    if len(word) < 3 or word in STOPWORDS or word in FORM_WORDS or zipf(word) >= 3.5:
        return None
    from rapidfuzz import process
    from rapidfuzz.distance import OSA

    hits = process.extract(word, _STOP_LIST, scorer=OSA.distance, score_cutoff=1, limit=None)
    # ties ("mny": "any" or "many"): a form word, then the same first letter, then sorted order
    return min(hits, key=lambda h: (h[1], h[0] not in FORM_WORDS, h[0][0] != word[0], h[0]))[0] if hits else None


def stopword_typo(word: str) -> bool:
    if len(word) < 3 or word in STOPWORDS:
        return word in STOPWORDS
    return typo_of_form_word(word) is not None


def form_spelled(question: str) -> str:
    """The question with typos of its form words written right ("how ofen" -> "how often"), so the
    kind of answer it asks for is read as if spelt right."""
    return re.sub(r"[A-Za-z]+", lambda m: typo_of_form_word(m.group(0).lower()) or m.group(0), question)
