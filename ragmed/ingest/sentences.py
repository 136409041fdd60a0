"""Sentence boundaries: the splitter lives in `ragmed/text.py` (shared by every stage)."""

from ..text import split_sentences

__all__ = ["split_sentences"]
