"""The lexical tokenizer lives in `ragmed/tokenize.py` (a leaf: the store's BM25 index and the
claim checks use it too); this name stays for existing imports."""

from ..tokenize import STOPWORDS, UNITS, tokenize  # noqa: F401

__all__ = ["STOPWORDS", "UNITS", "tokenize"]
