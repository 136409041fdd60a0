"""How rare a search term is in a collection, for follow-up resolution (retrieve/followup.py).

    rarity = collection_rarity(collection.lexical_snapshot())
    rarity(["tuberculosis", "children"]) -> {"tuberculosis": 0.004, "children": 0.09}
"""

from __future__ import annotations

from typing import Callable

from ..tokenize import tokenize


def collection_rarity(snapshot) -> Callable[[list[str]], dict[str, float]]:
    """`rarity` over a lexical snapshot (store/lexical.py `LexicalSnapshot`): each term's document
    frequency divided by the number of chunks. Its `floor` (one chunk's share) makes a word found in
    a single chunk rare even in a small collection."""
    n = max(len(snapshot), 1)

    def rarity(terms: list[str]) -> dict[str, float]:
        return {t: df / n for t, df in snapshot.doc_freq(terms).items()}

    def postings(term: str):
        import numpy as np

        bm25 = getattr(snapshot, "bm25", None)
        i = bm25.vocab_dict.get(term) if bm25 is not None else None
        if i is None or i + 1 >= len(bm25.scores["indptr"]):
            return np.zeros(0, dtype=np.int64)
        ptr = bm25.scores["indptr"]
        return np.unique(bm25.scores["indices"][ptr[i]:ptr[i + 1]])

    def cooccurrence(phrase_terms: list[str], context_terms: list[str]) -> float:
        """max over the chunks holding every phrase term of the summed log(n / df) of the context
        terms they hold (0 when no chunk holds the phrase)."""
        import numpy as np

        if not phrase_terms:
            return 0.0
        chunks = postings(phrase_terms[0])
        for t in phrase_terms[1:]:
            chunks = np.intersect1d(chunks, postings(t), assume_unique=True)
        if not len(chunks):
            return 0.0
        total = np.zeros(len(chunks))
        for t in set(context_terms) - set(phrase_terms):
            p = postings(t)
            if len(p):
                total += np.log(n / len(p)) * np.isin(chunks, p, assume_unique=True)
        return float(total.max())

    rarity.floor = 1.0 / n  # type: ignore[attr-defined]
    rarity.cooccurrence = cooccurrence  # type: ignore[attr-defined]
    return rarity


__all__ = ["collection_rarity"]


def cooccurs(phrase: str, question: str, rarity) -> bool:
    """Is `phrase` found in a chunk together with a term of `question` (`rarity.cooccurrence` > 0)?
    "How are they treated?" after "symptoms of TB": TB and "treat" share chunks, so a singular "TB"
    may stand for "they"; "how often are they seen once stable?" after "... dose of ramipril?": no
    chunk names ramipril with "seen" or "stable", so "they" is not ramipril (retrieve/followup.py)."""
    own = [t for t in tokenize(question) if t not in tokenize(phrase)]
    return hasattr(rarity, "cooccurrence") and rarity.cooccurrence(tokenize(phrase), own) > 0
