"""A passage's text as a reader sees it: heading lines, list items and sentences, each apart.

Evidence sentences are shown to a clinician one by one, so two layout faults of extracted text
must not reach them (issue 19, part 3; newcomer findings on the bundled demo):

- **A list shown as one sentence.** "The first medicine depends on age: • For patients younger
  than 55 ... • For patients aged 55 ..." is one sentence to `text.split_sentences` (a bullet
  follows the full stop, not a capital). Here each list item is its own unit: a line that starts
  with a list mark (the chunker's marks: •, ▪, ◦, -, *, "1.", "2)", "(a)", "iv.") begins an item,
  which runs on over its wrapped lines; a glyph bullet inside a line (•, ▪, ◦, ●, ■, ‣ between
  spaces) also begins one. The mark is dropped; the lead-in clause ("... depends on age:") stays a
  sentence of its own; an item that starts in lower case continues it ("You can reduce salt by:
  • not adding salt ...") and is shown with it ("You can reduce salt by: not adding salt ..."),
  an item that starts with a capital is shown alone (it reads as a sentence).
- **A heading glued onto a sentence.** "Starting dose Amlodipine 5 mg once daily ..." where
  "Starting dose" is a heading that PDF extraction did not set apart (same font, no outline).
  A line is a heading line when it is heading-shaped (`heading_shape`: 1-10 words, at most 80
  characters, a capital or digit first, no closing punctuation . ! ? : ; , no number after its
  first word ("Amlodipine 5 mg" is a table row), not ending on a function word ("... the": a
  wrapped prose line)); when the line above (across blank lines) ends a sentence, or is separated
  from it by a blank line and starts with a capital (under a lower-case fragment, "or fatigue",
  an unmarked list runs on); when the next line starts a sentence (capital, digit, list mark) or
  the text ends; and when at most one more heading-shaped line stands with it (a title over a
  subheading; three or more in a row are a list without marks: "Chest pain / Fever / Chills"). A
  sentence that starts with one of the passage's own section titles followed by a capital
  ("Starting doses Start amlodipine ...", a run-in heading) loses that title too. Heading lines are
  not sentences: each unit carries the heading above it (`Unit.heading`), which front ends show as
  the section of its citation (`section_of`) and under which evidence ranking reads the sentence.
  A heading-shaped line standing alone between blank lines that the rule does not take as a
  heading (a label, or a row of an unmarked list) is not shown as a sentence.

Rules chosen on the sample protocol and the dev split of benchmarks/evidence_ranking.py (results
in benchmarks/results/evidence_ranking.md).

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
HEADING_MAX_WORDS, HEADING_MAX_CHARS = 10, 80
MAX_STACKED = 2  # heading lines in a row (a title over a subheading); more is an unmarked list


@dataclass(frozen=True)
class Unit:
    start: int  # offsets in the text split (`units`), marks excluded
    end: int
    heading: str  # the heading line above it in the text ("" = none)
    lead: str = ""  # a list item that continues its lead-in ("by: • not adding salt"): that lead-in

    def text(self, source: str) -> str:
        """The unit as shown: its lead-in, when it has one, then its own words, whitespace collapsed."""
        return " ".join(f"{self.lead} {source[self.start:self.end]}".split())


def heading_shape(line: str) -> bool:
    """A line shaped like a heading (the module docstring's rule, without its neighbours)."""
    s = line.strip()
    words = s.split()
    if not (1 <= len(words) <= HEADING_MAX_WORDS) or len(s) > HEADING_MAX_CHARS or LIST_MARK.match(s):
        return False
    if not (s[0].isupper() or s[0].isdigit()) or re.search(r"[.!?:;,]$", s) or re.search(r"\||\t|\S {3,}\S", s):
        return False  # a sentence's end, or a table row
    if words[-1].lower() in _FUNCTION_END or not any(c.isalpha() for c in s):
        return False
    return not any(c.isdigit() for c in " ".join(words[1:]))  # "Amlodipine 5 mg": a value; "3.2 Dosing" may lead


def _starts_sentence(line: str | None) -> bool:
    s = (line or "").strip()
    return bool(s) and (s[0].isupper() or s[0].isdigit() or bool(LIST_MARK.match(s)))


def _heading_lines(lines: list[str]) -> set[int]:
    """Indexes of the heading lines among `lines`: runs of at most `MAX_STACKED` heading-shaped
    lines (a longer run is a list without marks: "Chest pain / Fever / Chills / Night sweats"),
    after the text's start, a line that ends a sentence, or a blank line under a line that starts
    with a capital (a fragment above, "or fatigue", means an unmarked list runs on), and before a
    line that starts a sentence (or the text's end)."""
    rows = [i for i, line in enumerate(lines) if line.strip()]
    found: set[int] = set()
    k = 0
    while k < len(rows):
        if not heading_shape(lines[rows[k]]):
            k += 1
            continue
        j = k
        while j + 1 < len(rows) and heading_shape(lines[rows[j + 1]]):  # a run, across blank lines
            j += 1
        first, last = rows[k], rows[j]
        before = lines[rows[k - 1]].strip() if k else None  # the line above, across blank lines
        gap = k and rows[k - 1] < first - 1
        after = lines[rows[j + 1]] if j + 1 < len(rows) else None
        above_ok = before is None or _ENDS_SENTENCE.search(before) or (gap and before[:1].isupper())
        # at the text's end, a heading heads the next chunk: nothing of it is shown here
        if j - k + 1 <= MAX_STACKED and above_ok and (after is None or _starts_sentence(after)):
            found.update(range(first, last + 1))
        k = j + 1
    return found


def _blocks(text: str) -> list[tuple[int, int, str, bool]]:
    """(start, end, heading above, is a list item) of the paragraph and list-item blocks of `text`
    (list marks excluded), heading lines set apart."""
    lines, pos = [], 0
    for line in text.split("\n"):
        lines.append((pos, line))
        pos += len(line) + 1
    headings = _heading_lines([line for _, line in lines])
    heading, block, out = "", None, []
    for i, (at, line) in enumerate(lines):
        s = line.strip()
        if not s:
            if block:
                out.append((block[0], block[1], heading, block[2]))
            block = None
            continue
        before = lines[i - 1][1] if i and lines[i - 1][1].strip() else None
        lstart = at + len(line) - len(line.lstrip())
        mark = LIST_MARK.match(s)
        if i in headings:
            if block:
                out.append((block[0], block[1], heading, block[2]))
            heading, block = s, None
            continue
        item_done = block is not None and block[2] and _ENDS_SENTENCE.search(before or "") and s[0].isupper()
        if mark or block is None or item_done:  # a new item, a new paragraph, or prose after an item
            if block:
                out.append((block[0], block[1], heading, block[2]))
            block = [lstart + (mark.end() if mark else 0), at + len(line.rstrip()), bool(mark)]
        else:
            block[1] = at + len(line.rstrip())
    if block:
        out.append((block[0], block[1], heading, block[2]))
    return out


def units(text: str, titles: tuple[str, ...] = ()) -> list[Unit]:
    """The sentences and list items of `text`, in order, without list marks and heading lines; a
    section title (`titles`, compared case-insensitively) run into a block's first sentence is cut.
    An item that starts in lower case continues its lead-in clause (the sentence before the list,
    ending with ":"), which it carries as `Unit.lead`."""
    out: list[Unit] = []
    lead = ""
    for start, end, heading, item in _blocks(text):
        if not item and "\n" not in text[start:end] and heading_shape(text[start:end]):
            continue  # a title-like line standing alone that is not a heading: a label, not a sentence
        pieces, a = [], start
        for m in _INLINE_MARK.finditer(text, start, end):
            pieces.append((a, m.start()))
            a = m.end()
        pieces.append((a, end))
        first = True
        for k, (a, b) in enumerate(pieces):
            for s, e in split_sentences(text, a, b):
                if first:
                    s, first = _after_title(text, s, e, titles), False
                if not text[s:e].strip():
                    continue
                in_list = item or k > 0
                if not in_list:
                    lead = text[s:e].strip() if text[s:e].rstrip().endswith(":") else ""
                starts_low = text[s:e].lstrip()[:1].islower()
                out.append(Unit(s, e, heading, " ".join(lead.split()) if in_list and starts_low else ""))
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
    for start, _end, heading, _item in _blocks(p.text):
        if start > m.start():
            break
        found = heading
    titles = {t.strip().lower() for t in (p.title, *p.section) if t}
    return "" if found.lower() in titles else found  # already the title or on the section path
