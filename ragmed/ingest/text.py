"""Text normalisation for extracted pages.

- NFKC (turns ligatures such as "ﬁ" into "fi", full-width forms into ASCII) and removal of soft
  hyphens, zero-width characters and control characters;
- running headers and footers (lines repeated at the top or bottom of many pages, page numbers
  included) dropped;
- words hyphenated across a line break re-joined, keeping true hyphens ("long-term") when the
  document itself spells the word with a hyphen elsewhere.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"), None)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_HYPHENS = "-\u2010\u2011"  # hyphen-minus, hyphen, non-breaking hyphen (NFKC maps most to '-')


def normalize(text: str) -> str:
    """NFKC-normalise and tidy whitespace; keeps line breaks (they carry layout)."""
    text = unicodedata.normalize("NFKC", text.translate(_INVISIBLE))
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub(" ", text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    # Collapse runs of blank lines to a single blank line.
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out)


def _line_key(line: str) -> str:
    """Lines that differ only in numbers (page numbers, dates) share a key; prose has none."""
    line = line.strip()
    if re.search(r"[.!?]$", line) and len(line.split()) >= 5:
        return ""  # a sentence, not a running header or footer
    return re.sub(r"\d+", "#", line.lower())


def strip_running_lines(pages: list[str], edge: int = 3, min_pages: int = 3) -> tuple[list[str], int]:
    """Drop lines that repeat at the top or bottom of many pages (running headers/footers).

    A line counts as running when its number-insensitive key occurs within `edge` lines of the top
    or bottom of at least a quarter of the pages with text (and at least `min_pages` pages):
    books and journals alternate headers between even and odd pages. Returns the cleaned pages
    and how many lines were removed.
    """
    with_text = [p for p in pages if p.strip()]
    if len(with_text) < min_pages:
        return pages, 0
    counts: Counter[str] = Counter()
    for page in with_text:
        lines = [ln for ln in page.split("\n") if ln.strip()]
        edges = set(lines[:edge]) | set(lines[-edge:])
        counts.update({_line_key(ln) for ln in edges if len(ln) <= 160} - {""})
    threshold = max(min_pages, (len(with_text) + 3) // 4)
    running = {key for key, n in counts.items() if n >= threshold and key}
    if not running:
        return pages, 0
    removed = 0
    cleaned: list[str] = []
    for page in pages:
        lines = page.split("\n")
        nonblank = [i for i, ln in enumerate(lines) if ln.strip()]
        edge_idx = set(nonblank[:edge]) | set(nonblank[-edge:])
        keep = []
        for i, ln in enumerate(lines):
            if i in edge_idx and _line_key(ln) in running:
                removed += 1
                continue
            keep.append(ln)
        cleaned.append("\n".join(keep).strip("\n"))
    return cleaned, removed


_WORD = re.compile(r"[A-Za-z][A-Za-z']*")
_HYPHENATED_INLINE = re.compile(r"\b([A-Za-z]+)-([A-Za-z]+)\b")
_BREAK = re.compile(r"([A-Za-z]+)[" + _HYPHENS + r"]\n([A-Za-z]+)([^\S\n]*)")


def dehyphenate(pages: list[str]) -> list[str]:
    """Re-join words split by a hyphen at a line end, using the document's own spelling.

    "treat-\\nment" becomes "treatment"; "long-\\nterm" stays "long-term" when the document writes
    "long-term" elsewhere on one line; an unknown pair is joined when the second part starts in
    lower case (the common typesetting case), else the hyphen is kept.
    """
    full = "\n".join(pages)
    words = Counter(w.lower() for w in _WORD.findall(full))
    hyphenated = Counter(
        f"{a}-{b}".lower() for a, b in _HYPHENATED_INLINE.findall(full.replace("-\n", "\u0000"))
    )

    def fix(m: re.Match[str]) -> str:
        a, b = m.group(1), m.group(2)
        joined = a + b
        if hyphenated[f"{a}-{b}".lower()] > 0 and words[joined.lower()] == 0:
            return f"{a}-{b}\n"
        if words[joined.lower()] > 0 or b[:1].islower():
            return f"{joined}\n"
        return f"{a}-{b}\n"

    return [_BREAK.sub(fix, page) for page in pages]
