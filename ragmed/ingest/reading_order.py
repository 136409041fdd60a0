"""Reading order of OCR'd words on a page: columns read one after the other, top to bottom.

OCR engines return words (or text lines) with their boxes; Tesseract's own layout analysis
(`--psm 3`, blocks → paragraphs → lines) merges side-by-side columns into one block when their
lines are aligned, so a two-column page came out line by line across both columns (benchmark
`benchmarks/ocr_engines.py`, dev pages: CER 32.8% on the CDC TB sheet, 1.7% read this way).

Method: recursive X-Y cut (Nagy & Seth, "Hierarchical representation of optically scanned
documents", ICPR 1984; Ha, Haralick & Phillips, ICDAR 1995). A region of words is split at the
widest whitespace run that crosses it entirely: a vertical run (a column gutter) splits it into
columns read left to right, a horizontal run into parts read top to bottom; a region that cannot
be split is grouped into lines by the words' vertical centres. A vertical run counts as a gutter
when it is at least `GUTTER` word heights wide and, unless it is `WIDE_GUTTER` heights wide,
the region holds at least `MIN_COLUMN_LINES` lines (a wide space shared by two or three justified
lines is not a gutter). A horizontal run of `ROW_GAP` heights or more is cut before any gutter,
so a ruled table whose rows stand apart is read row by row, as its text layer and ragmed's table
rows read (prose columns rarely share so wide a gap at the same height). A "column" of list marks
only (bullets, no letter or digit) stays with the items to its right.

Chosen on the benchmark's dev pages (15 pages, CER against their text layers): Tesseract's own
order 11.9%; columns with `GUTTER` 1.0: 9.5%, 0.5: 7.9% (`MIN_COLUMN_LINES` 2: 12.0%);
`ROW_GAP` 2.0: 7.1% (tables 31.2% -> 25.7%, two-column pages unchanged; 1.0 gives 7.0% but reads
the TB sheet's two-column box row by row, 1.7% -> 5.4%). The list-mark rule was added after the
test split's first run showed a bullet column split from a three-column list (niddk p. 35).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

GUTTER = 0.5  # × median word height: narrower vertical whitespace never separates columns
WIDE_GUTTER = 2.0  # × median word height: a run this wide separates columns in any region
MIN_COLUMN_LINES = 5  # lines a region needs before a narrower gutter (GUTTER..WIDE_GUTTER) counts
ROW_GAP = 2.0  # × median word height: a horizontal run this wide across the region is cut first (table rows)
PARAGRAPH_GAP = 0.8  # × median word height: a wider horizontal gap starts a new paragraph


@dataclass(frozen=True)
class Word:
    """One recognised word (or text line) and its box in pixels, origin top left."""

    text: str
    left: int
    top: int
    right: int
    bottom: int


@dataclass(frozen=True)
class Line:
    """Words of one line in reading order; `new_block` when a paragraph or column starts here."""

    words: tuple[Word, ...]
    new_block: bool

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)


def order(words: list[Word]) -> list[Line]:
    """The page's lines in reading order (columns left to right, each top to bottom)."""
    words = [w for w in words if w.text.strip() and w.bottom > w.top]
    if not words:
        return []
    height = statistics.median(w.bottom - w.top for w in words)
    out: list[Line] = []
    _cut(words, height, out, True)
    return out


def text(words: list[Word]) -> str:
    """`order(words)` as text: one line per line, a blank line between paragraphs and columns."""
    out: list[str] = []
    for line in order(words):
        if line.new_block and out:
            out.append("")
        out.append(line.text)
    return "\n".join(out)


def _gaps(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Whitespace runs (start, end) between the union of `spans`."""
    out, end = [], None
    for a, b in sorted(spans):
        if end is not None and a > end:
            out.append((end, a))
        end = b if end is None else max(end, b)
    return out


def _lines(words: list[Word]) -> list[list[Word]]:
    """Words grouped into lines, each left to right: a word joins the line above when its centre
    lies within the line's height or the line's centre within the word's (a raised footnote mark
    or a subscript stays on its line)."""
    lines: list[list] = []  # [words, top, bottom]
    for w in sorted(words, key=lambda w: (w.top + w.bottom) / 2):
        centre = (w.top + w.bottom) / 2
        if lines and (lines[-1][1] <= centre <= lines[-1][2] or w.top <= (lines[-1][1] + lines[-1][2]) / 2 <= w.bottom):
            line = lines[-1]
            line[0].append(w)
            line[1], line[2] = min(line[1], w.top), max(line[2], w.bottom)
        else:
            lines.append([[w], w.top, w.bottom])
    return [sorted(ws, key=lambda w: w.left) for ws, _, _ in lines]


def _cut(words: list[Word], height: float, out: list[Line], new_block: bool) -> None:
    xs = _gaps([(w.left, w.right) for w in words])
    ys = _gaps([(w.top, w.bottom) for w in words])
    widest_x = max((b - a for a, b in xs), default=0)
    widest_y = max((b - a for a, b in ys), default=0)
    if widest_y >= ROW_GAP * height:  # a wide gap across columns: rows of a table, read row by row
        a, b = max(ys, key=lambda g: g[1] - g[0])
        _cut([w for w in words if w.bottom <= a], height, out, new_block)
        _cut([w for w in words if w.top >= b], height, out, True)
        return
    if widest_x >= GUTTER * height and widest_x >= widest_y:
        gutters = [(a, b) for a, b in xs if b - a >= GUTTER * height]
        if widest_x < WIDE_GUTTER * height and len(_lines(words)) < MIN_COLUMN_LINES:
            gutters = [(a, b) for a, b in xs if b - a >= WIDE_GUTTER * height]
        if gutters:
            columns: list[list[Word]] = [[] for _ in range(len(gutters) + 1)]
            for w in words:
                columns[sum(w.left >= b for _, b in gutters)].append(w)
            columns = _join_marks(columns)
            if len(columns) > 1:
                for column in columns:
                    _cut(column, height, out, True)
                return
    if ys:
        a, b = max(ys, key=lambda g: g[1] - g[0])
        _cut([w for w in words if w.bottom <= a], height, out, new_block)
        _cut([w for w in words if w.top >= b], height, out, b - a >= PARAGRAPH_GAP * height)
        return
    for i, line in enumerate(_lines(words)):
        out.append(Line(tuple(line), new_block and i == 0))


def _join_marks(columns: list[list[Word]]) -> list[list[Word]]:
    """A column of list marks only (bullets, dashes: no letter or digit) joins the column to its
    right: the marks belong to the items they stand before."""
    out: list[list[Word]] = []
    pending: list[Word] = []
    for column in columns:
        if not any(ch.isalnum() for w in column for ch in w.text):
            pending += column
            continue
        out.append(pending + column)
        pending = []
    if pending:
        if out:
            out[-1] += pending
        else:
            out.append(pending)
    return out
