"""Document structure: section headings located in normalised text.

Headings come from the PDF outline (bookmarks) when the file has one, from `#` lines in Markdown,
and otherwise from conservative line heuristics (numbered headings such as "2.1 Vital signs" and
short ALL-CAPS lines). "1. Something" in sentence case (French, German and most non-English
documents write headings so: "1. Objectif tensionnel") is a heading when the document numbers such
lines in sequence (1., 2., ...) with at least `SECTION_GAP_LINES` lines between them; numbered
list items follow each other on adjacent lines and stay items.
"""

from __future__ import annotations

import bisect
import re

from ..types import Heading

_NUMBERED = re.compile(r"^(?P<num>\d{1,2}(?:\.\d{1,2}){0,3})(?P<dot>\.?)\s+(?P<title>[A-Z][^\n]{1,90})$")
_TERMINAL = re.compile(r"[.,;:!?]$")
SECTION_GAP_LINES = 3


def detect_headings(text: str) -> list[Heading]:
    """Find likely headings in text that has no outline."""
    headings: list[Heading] = []
    sentence_case: list[tuple[int, int, Heading]] = []  # (line number, section number, heading)
    offset = 0
    for n, line in enumerate(text.split("\n")):
        stripped = line.strip()
        level = _heading_level(stripped)
        if level is not None:
            headings.append(Heading(stripped, level, offset + line.index(stripped[:1]), "detected"))
        elif _heading_level(stripped, title_case=False) == 0 and len(stripped.split()) <= 10:
            number = int(stripped.split(".", 1)[0])
            sentence_case.append((n, number, Heading(stripped, 0, offset + line.index(stripped[:1]), "detected")))
        offset += len(line) + 1
    for i, (n, number, heading) in enumerate(sentence_case):
        neighbours = sentence_case[i - 1 : i] + sentence_case[i + 1 : i + 2]
        if any(abs(num - number) == 1 and abs(m - n) >= SECTION_GAP_LINES for m, num, _ in neighbours):
            headings.append(heading)
    return sorted(headings, key=lambda h: h.offset)


def _heading_level(line: str, title_case: bool = True) -> int | None:
    if not line or len(line) > 90 or _TERMINAL.search(line):
        return None
    words = line.split()
    m = _NUMBERED.match(line)
    if m and len(words) <= 12:
        title_words = m.group("title").split()
        depth = m.group("num").count(".")
        if m.group("dot") and depth == 0:
            # "1. Something" is usually a list item; accept it only in Title Case.
            if title_case and not all(w[:1].isupper() or not w[:1].isalpha() or len(w) <= 3 for w in title_words):
                return None
        if sum(c.isdigit() for c in m.group("title")) > 3:
            return None  # table rows such as "2 Amlodipine 5 mg 10 mg"
        return depth
    letters = [c for c in line if c.isalpha()]
    if len(letters) >= 4 and len(words) <= 10 and sum(c.isupper() for c in letters) / len(letters) > 0.9:
        return 0
    return None


def markdown_headings(text: str) -> list[Heading]:
    headings = []
    offset = 0
    for line in text.split("\n"):
        m = re.match(r"^(#{1,6})\s+(.+?)\s*#*\s*$", line)
        if m:
            headings.append(Heading(m.group(2), len(m.group(1)) - 1, offset, "markdown"))
        offset += len(line) + 1
    return headings


def locate_title(text: str, title: str, start: int, end: int) -> int | None:
    """Find an outline title in text[start:end], tolerant of case, whitespace and line breaks."""
    words = re.findall(r"\w+", title)
    if not words:
        return None
    pattern = r"\W*".join(re.escape(w) for w in words[:12])
    m = re.search(pattern, text[start:end], flags=re.IGNORECASE)
    return start + m.start() if m else None


class SectionIndex:
    """Answers "which section path holds offset X" for one document."""

    def __init__(self, headings: list[Heading]):
        self.headings = sorted(headings, key=lambda h: (h.offset, h.level))
        self._offsets = [h.offset for h in self.headings]
        self._paths: list[tuple[str, ...]] = []
        stack: list[Heading] = []
        for h in self.headings:
            while stack and stack[-1].level >= h.level:
                stack.pop()
            stack.append(h)
            self._paths.append(tuple(x.title for x in stack))

    def path_at(self, offset: int) -> tuple[str, ...]:
        i = bisect.bisect_right(self._offsets, offset) - 1
        return self._paths[i] if i >= 0 else ()

    def starts(self) -> set[int]:
        return set(self._offsets)


class Lines:
    """A document's text written line by line (Word and HTML readers, ingest/docx.py and html.py):
    each added line normalised and whitespace-collapsed, empty lines dropped, and a heading recorded
    at its character offset in the joined text ("\n".join(lines))."""

    def __init__(self, source: str):
        self.source = source  # Heading.source: "docx" | "html"
        self.lines: list[str] = []
        self.headings: list[Heading] = []
        self.offset = 0

    def add(self, line: str, level: int | None = None) -> None:
        from .text import normalize

        line = " ".join(normalize(line).split())
        if not line:
            return
        if level is not None:
            self.headings.append(Heading(line, level, self.offset, self.source))
        self.lines.append(line)
        self.offset += len(line) + 1
