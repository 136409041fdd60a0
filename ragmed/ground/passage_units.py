"""A passage's text as a reader sees it: heading lines, list items and sentences, each apart.

Evidence sentences are shown to a clinician one by one, so two layout faults of extracted text
must not reach them (issue 19, part 3; newcomer findings on the bundled demo):

- **A list shown as one sentence.** "The first medicine depends on age: • For patients younger
  than 55 ... • For patients aged 55 ..." is one sentence to `text.split_sentences` (a bullet
  follows the full stop, not a capital). Here each list item is its own unit: a line that starts
  with a list mark (the chunker's marks: •, ▪, ◦, -, *, "1.", "2)", "(a)", "iv.") begins an item,
  which runs on over its wrapped lines; a glyph bullet inside a line (•, ▪, ◦, ●, ■, ‣ between
  spaces) also begins one. The mark is dropped; the lead-in clause ("... depends on age:") stays a
  sentence of its own and is not repeated in front of each item (an item that means little alone
  is still cited to its passage, where the lead-in is one line above).
- **A heading glued onto a sentence.** "Starting dose Amlodipine 5 mg once daily ..." where
  "Starting dose" is a heading that PDF extraction did not set apart (same font, no outline).
  A line is a heading line when it is short (1-8 words, at most 80 characters), starts with a
  capital or a digit, has no closing punctuation (. ! ? : ; ,), does not end on a function word
  ("... the", "... of": a wrapped prose line), follows the start of the text, a blank line or a
  line that ends a sentence, and the next non-blank line starts a sentence (capital, digit or list
  mark). A sentence that starts with one of the passage's own section titles followed by a capital
  ("Starting doses Start amlodipine ...", a run-in heading) loses that title too. Heading lines are
  not sentences: each unit carries the heading above it (`Unit.heading`), which front ends show as
  the section of its citation (`section_of`).

Used by evidence mode (`relevance.passage_sentences(..., units=True)`) and by citations' section
(`citations.resolve`). The gate, compression and the conflict finder keep the plain sentence
splitter, so their measured figures stand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..text import split_sentences
from ..types import Passage

# the chunker's list marks (ingest/chunker.py `_BULLET`): glyphs, dashes, "1." "2)" "(a)" "iv."
LIST_MARK = re.compile(r"(?:[\u2022\u25aa\u25e6\u25cf\u25cb\u25a0\u25a1\u2023\u2043\u00b7*\-\u2013\u2014>]|"
                       r"\(?\d{1,2}[.)]|\(?[a-zA-Z][.)]|\(?[ivx]{1,4}[.)])\s+")
_INLINE_MARK = re.compile(r"\s[\u2022\u25aa\u25e6\u25cf\u25a0\u2023]\s+")  # a glyph bullet inside a line
_ENDS_SENTENCE = re.compile(r"[.!?:;][\"'\u201d\u2019)\]]*$")
_FUNCTION_END = frozenset("a an the of to and or in on for with by at from as than is are be if when per "
                          "into over under within not no".split())
HEADING_MAX_WORDS, HEADING_MAX_CHARS = 8, 80


@dataclass(frozen=True)
class Unit:
    start: int  # offsets in the text split (`units`), marks excluded
    end: int
    heading: str  # the heading line above it in the text ("" = none)


def heading_line(line: str, before: str | None, after: str | None, after_heading: bool = False) -> bool:
    """Whether `line` is a heading set on a line of its own (the module docstring's rule); `before`
    / `after`: the previous / next non-blank line, None when a blank line or the text's edge is
    there; `after_heading`: the previous line is a heading line (stacked headings)."""
    s = line.strip()
    words = s.split()
    if not (1 <= len(words) <= HEADING_MAX_WORDS) or len(s) > HEADING_MAX_CHARS or LIST_MARK.match(s):
        return False
    if not (s[0].isupper() or s[0].isdigit()) or re.search(r"[.!?:;,]$", s) or re.search(r"\||\t|\S {3,}\S", s):
        return False  # a sentence's end, or a table row
    if words[-1].lower() in _FUNCTION_END or not any(c.isalpha() for c in s):
        return False
    if any(c.isdigit() for c in " ".join(words[1:])):
        return False  # "Amlodipine 5 mg": a value; a section number may lead ("3.2 Starting dose")
    if before is not None and not after_heading and not _ENDS_SENTENCE.search(before.strip()):
        return False  # a wrapped line of the sentence above
    nxt = (after or "").strip()
    return bool(nxt) and (nxt[0].isupper() or nxt[0].isdigit() or bool(LIST_MARK.match(nxt)))


def _blocks(text: str) -> list[tuple[int, int, str]]:
    """(start, end, heading above) of the paragraph and list-item blocks of `text` (list marks
    excluded), heading lines set apart."""
    lines, pos = [], 0
    for line in text.split("\n"):
        lines.append((pos, line))
        pos += len(line) + 1
    heading, block, out, was_heading = "", None, [], False
    for i, (at, line) in enumerate(lines):
        s = line.strip()
        if not s:
            if block:
                out.append((block[0], block[1], heading))
            block, was_heading = None, False
            continue
        before = lines[i - 1][1] if i and lines[i - 1][1].strip() else None
        after = next((ln for _, ln in lines[i + 1:] if ln.strip()), None)
        lstart = at + len(line) - len(line.lstrip())
        mark = LIST_MARK.match(s)
        if heading_line(s, before, after, was_heading and before is not None):
            if block:
                out.append((block[0], block[1], heading))
            heading, block, was_heading = s, None, True
            continue
        was_heading = False
        item_done = block is not None and block[2] and _ENDS_SENTENCE.search(before or "") and s[0].isupper()
        if mark or block is None or item_done:  # a new item, a new paragraph, or prose after an item
            if block:
                out.append((block[0], block[1], heading))
            block = [lstart + (mark.end() if mark else 0), at + len(line.rstrip()), bool(mark)]
        else:
            block[1] = at + len(line.rstrip())
    if block:
        out.append((block[0], block[1], heading))
    return out


def units(text: str, titles: tuple[str, ...] = ()) -> list[Unit]:
    """The sentences and list items of `text`, in order, without list marks and heading lines; a
    section title (`titles`, compared case-insensitively) run into a block's first sentence is cut."""
    out: list[Unit] = []
    for start, end, heading in _blocks(text):
        pieces, a = [], start
        for m in _INLINE_MARK.finditer(text, start, end):
            pieces.append((a, m.start()))
            a = m.end()
        pieces.append((a, end))
        first = True
        for a, b in pieces:
            for s, e in split_sentences(text, a, b):
                if first:
                    s, first = _after_title(text, s, e, titles), False
                if text[s:e].strip():
                    out.append(Unit(s, e, heading))
    return out


def _after_title(text: str, s: int, e: int, titles: tuple[str, ...]) -> int:
    """`s` moved past a section title that opens the sentence and runs into it ("Starting doses Start ...")."""
    for t in sorted({t.strip() for t in titles if t and t.strip()}, key=len, reverse=True):
        n = len(t)
        if text[s:s + n].lower() == t.lower() and text[s + n:s + n + 1].isspace():
            rest = text[s + n:e].lstrip()
            if rest[:1].isupper() or rest[:1].isdigit():
                return e - len(rest)
    return s


def section_of(p: Passage, sentence: str) -> str:
    """The section to cite for `sentence` of passage `p`: its section path, with the heading line
    above the sentence in the passage's text added when the path does not already end with it."""
    heading = heading_above(p, sentence)
    path = list(p.section)
    if heading and (not path or path[-1].strip().lower() != heading.lower()):
        path.append(heading)
    return " > ".join(path)


def heading_above(p: Passage, sentence: str) -> str:
    """The heading line above `sentence` (found by its first 8 words) in `p.text`; "" when none."""
    words = sentence.split()[:8]
    if not words:
        return ""
    m = re.search(r"\s+".join(map(re.escape, words)), p.text)
    if m is None:
        return ""
    found = ""
    for start, _end, heading in _blocks(p.text):
        if start > m.start():
            break
        found = heading
    titles = {t.strip().lower() for t in (p.title, *p.section) if t}
    return "" if found.lower() in titles else found  # already the title or on the section path
