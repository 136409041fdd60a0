"""The lexical tokenizer's former home, kept so scripts written against it keep working: the code
lives in `ragmed.tokenize` (a leaf module shared by ingest, store and retrieve)."""

from ..tokenize import STOPWORDS, UNITS, tokenize  # noqa: F401

__all__ = ["STOPWORDS", "UNITS", "tokenize"]
