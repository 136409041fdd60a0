"""Tables as tables: runs of table rows found by the chunker, given their header row.

A dosing or threshold table comes out of a PDF as consecutive row lines ("16 kg 240 mg every 6 h",
"5 to < 8 20 + 160"; `chunker._is_row`: several short cells, numbers, no sentence ending), with
its header line ("Body weight Single dose Interval") just above the first row of each page. The
chunker packs such rows in groups of at most `ROWS_PER_CHUNK` rows that never cross a page, and
each group's chunk text starts with the header row, so a question on one row ("dose for a 16 kg
child") retrieves a short chunk holding that row and its column names, cited with its own page.

Why not pdfplumber's table finder: pypdf already gives each row as one line, and on dosing-table
pages its layout mode gives the cells (ingest/layout.py); pdfplumber (pdfminer) would be a second
PDF parser run over the pages. It was not installed or measured here: with pypdf's rows, every row
of the Table QA benchmark is found (benchmarks/results/table_qa.md), so it had nothing to win there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ROWS_PER_CHUNK = 4  # rows per chunk: small groups keep one row's numbers near the top of a passage
MIN_ROWS = 3  # fewer consecutive rows are not treated as a table
MAX_HEADER_WORDS = 16


@dataclass(frozen=True)
class TableRun:
    """Consecutive row units `first..last` (indexes into the unit list) under one header line."""

    first: int
    last: int
    header: str  # the header row's text, "" when none was found
    header_unit: int | None  # the unit index of the header line, if it is a unit of its own
    caption: str = ""  # "Table 2. ..." above the header (carried to the same table on later pages)

    @property
    def prefix(self) -> str:
        """What each row group's chunk text starts with: the caption and the header row."""
        return "\n".join(p for p in (self.caption, self.header) if p)


def is_header_line(line: str) -> bool:
    """A column-header line: short, not a sentence, at most one number ("(mg) for 3 days")."""
    line = line.strip()
    words = line.split()
    if not words or len(words) > MAX_HEADER_WORDS or re.search(r"[.!?;]$", line):
        return False
    return sum(bool(re.search(r"\d", w)) for w in words) <= 1


def find_tables(text: str, units: list) -> list[TableRun]:
    """Table runs among the chunker's units (each has .start, .end, .kind)."""
    runs: list[TableRun] = []
    i = 0
    while i < len(units):
        if units[i].kind != "row":
            i += 1
            continue
        j = i  # the run ends before the next digit-free row (a header row repeated on the next page)
        while (j + 1 < len(units) and units[j + 1].kind == "row"
               and re.search(r"\d", text[units[j + 1].start:units[j + 1].end])):
            j += 1
        header, header_unit, caption = "", None, ""
        if i > 0:
            prev = units[i - 1]
            between = text[prev.end:units[i].start]
            block = _header_block(text, prev.end)
            if block and not between.strip() and between.count("\n") <= 3:
                header = " ".join(block)
                if re.sub(r"\s+", " ", text[prev.start:prev.end]).strip() == header:
                    header_unit = i - 1
        first_row = text[units[i].start:units[i].end].strip()
        if not header and j > i and not re.search(r"\d", first_row):
            header, header_unit = first_row, i  # the header row is itself a row ("Drug | Dose | Interval")
            i += 1
        if header:
            caption = _caption(text, units[header_unit].start if header_unit is not None else units[i].start)
            if not caption and runs and runs[-1].header == header:
                caption = runs[-1].caption  # the same table continued on the next page
        if j - i + 1 >= MIN_ROWS or (header and runs and runs[-1].header == header):
            runs.append(TableRun(i, j, header, header_unit, caption))
        i = j + 1
    return runs


def _header_block(text: str, end: int) -> list[str]:
    """The header lines ending at `end`: up to 10 header-like lines (40 words) above it, stopping at a blank
    line ("Body weight", "(kg)", "Dose (mg) of artemether + lumefantrine", "given twice daily")."""
    lines: list[str] = []
    for line in reversed(text[max(0, end - 800):end].split("\n")):
        if not line.strip():
            if lines:
                break
            continue
        if not is_header_line(line) or len(lines) >= 10:
            return lines[::-1] if len(lines) >= 1 and sum(len(x.split()) for x in lines) <= 40 else []
        lines.append(line.strip())
    return lines[::-1] if sum(len(x.split()) for x in lines) <= 40 else []


_CAPTION = re.compile(r"^(?:Table|Tableau|Tabla|Tabelle|Box)\s+[\w.]+", re.IGNORECASE)


def _caption(text: str, header_start: int) -> str:
    """A "Table N. ..." line among the 3 non-blank lines above a table's header, else ""."""
    lines = [ln.strip() for ln in text[max(0, header_start - 600):header_start].split("\n") if ln.strip()]
    for line in reversed(lines[-3:]):
        if _CAPTION.match(line) and len(line) <= 200:
            return line
    return ""
