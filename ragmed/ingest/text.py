"""Text normalisation for extracted pages.

- superscript digits mapped *before* NFKC, so they stay apart from the number they follow: a power
  of ten "10⁹" becomes "10^9", a footnote marker "30¹" becomes "30 [1]" (NFKC alone would give
  "109" and "301"); units keep NFKC's form ("m²" -> "m2"); bullets drawn from symbol fonts or the
  private-use area (U+F0B7, a lone "ï" from a bullet font without a ToUnicode map) become "•"/"◦";
- NFKC (turns ligatures such as "ﬁ" into "fi", full-width forms into ASCII) and removal of soft
  hyphens, zero-width characters and control characters;
- running headers and footers dropped only when they truly repeat: the same line at the top or
  bottom of many pages, or lines that differ only in a number that counts the pages ("Page 2 of 3");
  a line whose other numbers differ (a dose row "16 kg 240 mg") or a table row (cells separated by
  " | ") is never removed;
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


_SUP = "⁰¹²³⁴⁵⁶⁷⁸⁹"
_SUP_MAP = str.maketrans(_SUP + "⁻⁺", "0123456789-+")
_POWER = re.compile(r"(?<![\d.,])(10)([⁻⁺]?[" + _SUP + r"]+)")
_UNIT_SUP = re.compile(r"(?<![A-Za-z])((?:[cmdk]?m|ft|in|µm|μm)[²³])")
_MARKER = re.compile(r"(?<=[\w)%])([" + _SUP + r"]+(?:[,–‑-][" + _SUP + r"]+)*)")
# Bullets from symbol fonts: Word's Symbol/Wingdings code points in the private-use area
# (U+F0xx = the font's byte xx), and "ï" (0xEF), what a bullet font without a ToUnicode map reads as
# in WinAnsi (seen in the CDC 2022 opioid guideline's sub-lists).
_PUA_BULLETS = {0xF0B7: "•", 0xF0A7: "▪", 0xF0D8: "➢", 0xF0FC: "✓", 0xF06E: "■", 0xF0A8: "◦",
                0xF076: "❖", 0xF0E0: "→", 0xF02D: "-", 0xF0BE: "—"}
_LINE_BULLET = re.compile(r"(?m)^([ \t]*)(?:ï|[\ue000-\uf8ff])(?=[ \t]+\S)")
_PUA = re.compile(r"[\ue000-\uf8ff]")


def map_glyphs(text: str) -> str:
    """Superscript digits and bullet glyphs, before NFKC (see the module docstring).

    "below 30¹ mL" -> "below 30 [1] mL"; "1.5 × 10⁹/L" -> "1.5 × 10^9/L"; "1.73 m²" -> "1.73 m2";
    a line-initial PUA bullet or lone "ï" -> "◦"/"•". Remaining private-use characters (icons with no
    text meaning) are dropped; `private_use_count` lets callers warn about them.
    """
    if any(c in text for c in _SUP):
        text = _POWER.sub(lambda m: m.group(1) + "^" + m.group(2).translate(_SUP_MAP), text)
        text = _UNIT_SUP.sub(lambda m: m.group(1).translate(str.maketrans("²³", "23")), text)
        text = _MARKER.sub(lambda m: " [" + m.group(1).translate(_SUP_MAP) + "]", text)
    if "ï" in text or _PUA.search(text):
        text = _LINE_BULLET.sub(lambda m: m.group(1) + ("◦" if m.group(0).strip() == "ï" else "•"), text)
        text = text.translate(_PUA_BULLETS)
        text = _PUA.sub("", text)
    return text


def normalize(text: str) -> str:
    """Map superscripts and bullets (`map_glyphs`), NFKC-normalise and tidy whitespace; keeps line
    breaks (they carry layout) and the " | " cell separators of table rows."""
    text = unicodedata.normalize("NFKC", map_glyphs(text.translate(_INVISIBLE)))
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


def _counts_pages(occurrences: list[tuple[int, str]]) -> bool:
    """True when lines sharing a key are identical, or differ only in numbers that count the pages.

    `occurrences` holds (page index, line). Each number position whose values differ between
    occurrences must move with the page index (value - page index constant: "Page 2 of 3", "12 |
    MMWR"); any other difference ("15 kg 225 mg" vs "27 kg 405 mg") means the lines are content.
    """
    if "|" in occurrences[0][1] and len({ln for _, ln in occurrences}) == 1:
        return False  # a table's header row repeated on each page is kept (a running header such as
        # "12 | MMWR / ..." has "|" too, but its page number moves: checked below)
    numbers = [(i, re.findall(r"\d+", ln)) for i, ln in occurrences]
    for pos in range(len(numbers[0][1])):
        values = {int(nums[pos]) for _, nums in numbers}
        if len(values) > 1 and len({int(nums[pos]) - i for i, nums in numbers}) > 1:
            return False
    return True


def strip_running_lines(pages: list[str], edge: int = 3, min_pages: int = 3) -> tuple[list[str], int]:
    """Drop lines that repeat at the top or bottom of many pages (running headers/footers).

    A line counts as running when its number-insensitive key occurs within `edge` lines of the top
    or bottom of at least a quarter of the pages with text (and at least `min_pages` pages):
    books and journals alternate headers between even and odd pages; and when its occurrences are
    identical or differ only in a page-counting number (`_counts_pages`). Returns the cleaned pages
    and how many lines were removed.
    """
    with_text = [p for p in pages if p.strip()]
    if len(with_text) < min_pages:
        return pages, 0
    counts: Counter[str] = Counter()
    seen: dict[str, list[tuple[int, str]]] = {}
    for index, page in enumerate(pages):
        if not page.strip():
            continue
        lines = [ln for ln in page.split("\n") if ln.strip()]
        edges = set(lines[:edge]) | set(lines[-edge:])
        keys = {}
        for ln in edges:
            if len(ln) <= 160 and _line_key(ln):
                keys.setdefault(_line_key(ln), ln)
        counts.update(keys.keys())
        for key, ln in keys.items():
            seen.setdefault(key, []).append((index, ln))
    threshold = max(min_pages, (len(with_text) + 3) // 4)
    running = {key for key, n in counts.items() if n >= threshold and key and _counts_pages(seen[key])}
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
