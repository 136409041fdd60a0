"""Structure-aware chunking.

The document's normalised text is cut into *units* that must not be split: sentences of prose,
whole list items, whole table rows and headings. Units are packed into chunks that

- never cross a section heading (each chunk has one section path),
- end on a unit boundary (so on a sentence boundary in prose),
- fit a token budget counted with the embedder's own tokenizer, the section header included,
  so nothing is silently truncated at the embedder's input limit.

Table rows (`ingest/tables.py`) are packed in groups of a few rows that never cross a page, each
chunk's text starting with the table's header row, so one row is retrieved and cited with its
column names and its own page.

A single unit longer than the budget (a run-on sentence or a giant table row) is split at token
boundaries, the only case where text is cut mid-sentence; the chunker counts these.
"""

from __future__ import annotations

import bisect
import hashlib
import re
from collections import deque
from dataclasses import dataclass
from typing import Protocol

from ..types import Chunk, ExtractedDocument, chunk_embed_text
from ..text import split_sentences
from .structure import SectionIndex
from .tables import ROWS_PER_CHUNK, find_tables

# The version of what ingestion makes of a document: a new one makes every existing collection
# refuse ingestion (manifest.check_build says to `ragmed ingest --rebuild`), while it stays searchable.
# "2" (issue 20): page furniture, superscripts, glued words and interleaved columns, bullets and
# units read differently; table rows chunked with their header row; OCR'd pages read column by column.
CHUNKER_VERSION = "2"


class Tokenizer(Protocol):
    def count_tokens(self, texts: list[str]) -> list[int]: ...

    def token_spans(self, text: str) -> list[tuple[int, int]]: ...


@dataclass
class _Unit:
    start: int
    end: int
    kind: str  # "sentence" | "item" | "row" | "heading" | "table-header"
    tokens: int = 0
    table: int = -1  # index of the table run a row belongs to (-1: not in a table)
    header: str = ""  # that table's header row


_BULLET = re.compile(r"^(?:[\u2022\u25aa\u25e6\u25cf\u25cb\u25a0\u25a1\u2023\u2043\u00b7*\-\u2013\u2014>]|\(?\d{1,2}[.)]|\(?[a-zA-Z][.)]|\(?[ivx]{1,4}[.)])\s+")
def _is_row(line: str) -> bool:
    """A line that looks like a table row: several short cells, numbers, no sentence ending."""
    if "\t" in line or re.search(r"\S {3,}\S", line) or line.count("|") >= 2:
        return True
    tokens = line.split()
    if not tokens or len(line) > 120 or re.search(r"[.!?]$", line):
        return False
    numeric = sum(bool(re.search(r"\d", t)) for t in tokens)
    return numeric >= 2 and numeric / len(tokens) >= 0.3


def segment(doc: ExtractedDocument, heading_starts: set[int]) -> list[_Unit]:
    """Cut the document text into units (sentences, list items, table rows, headings)."""
    text = doc.text
    units: list[_Unit] = []
    block_start: int | None = None
    block_kind = "para"
    block_end = 0

    def close_block() -> None:
        nonlocal block_start
        if block_start is None:
            return
        if block_kind == "item":
            units.append(_Unit(block_start, block_end, "item"))
        else:
            units.extend(_Unit(s, e, "sentence") for s, e in split_sentences(text, block_start, block_end))
        block_start = None

    pos = 0
    gap = False
    heading_sorted = sorted(heading_starts)
    for line in text.split("\n"):
        line_start, line_end = pos, pos + len(line)
        pos = line_end + 1
        stripped = line.strip()
        if not stripped:
            gap = True  # a blank line (or page break) ends a block, unless the text runs on
            continue
        if gap:
            gap = False
            runs_on = (
                block_start is not None and block_kind == "para"
                and not re.search(r"[.!?:]$", text[block_start:block_end])
                and stripped[:1].islower()
            )
            if not runs_on:
                close_block()
        lstart = line_start + (len(line) - len(line.lstrip()))
        lend = line_start + len(line.rstrip())
        i = bisect.bisect_left(heading_sorted, line_start)
        is_heading = i < len(heading_sorted) and heading_sorted[i] < line_end + 1
        if is_heading:
            close_block()
            h = heading_sorted[i]
            if h > lstart and text[lstart:h].strip():  # heading found mid-line: text before it
                units.extend(_Unit(s, e, "sentence") for s, e in split_sentences(text, lstart, h))
            units.append(_Unit(max(h, lstart), lend, "heading"))
            continue
        if _BULLET.match(stripped):
            close_block()
            block_start, block_kind, block_end = lstart, "item", lend
            continue
        if _is_row(stripped):
            close_block()
            units.append(_Unit(lstart, lend, "row"))
            continue
        if block_start is None:
            block_start, block_kind = lstart, "para"
        elif block_kind == "item" and re.search(r"[.!?:]$", text[block_start:block_end]) and stripped[:1].isupper():
            close_block()  # the list item ended; a new paragraph starts
            block_start, block_kind = lstart, "para"
        block_end = lend
    close_block()
    return [u for u in units if text[u.start:u.end].strip()]


def chunk_document(
    doc: ExtractedDocument,
    tokenizer: Tokenizer,
    max_tokens: int,
    doc_id: str,
) -> tuple[list[Chunk], int]:
    """Chunk one document. Returns the chunks and how many over-long units had to be split."""
    sections = SectionIndex(doc.headings)
    units = segment(doc, sections.starts())
    if not units:
        return [], 0
    text = doc.text
    counts = tokenizer.count_tokens([text[u.start:u.end] for u in units])
    for u, n in zip(units, counts):
        u.tokens = n
    page_starts = [p.start for p in doc.pages]
    for t, run in enumerate(find_tables(text, units)):
        if run.header_unit is not None:
            units[run.header_unit].kind = "table-header"
        for u in units[run.first:run.last + 1]:
            u.table, u.header = t, run.prefix
    header_rows = {u.header for u in units if u.header}
    header_row_tokens = dict(zip(header_rows, tokenizer.count_tokens(list(header_rows)))) if header_rows else {}

    def page_of(u: _Unit) -> int:
        return bisect.bisect_right(page_starts, u.start) - 1

    header_cache: dict[tuple[str, ...], int] = {}

    def header_tokens(section: tuple[str, ...]) -> int:
        if section not in header_cache:
            header = chunk_embed_text(doc.title, section, "")
            header_cache[section] = tokenizer.count_tokens([header])[0] if header.strip() else 0
        return header_cache[section]

    spans: list[tuple[int, int, tuple[str, ...], int, str]] = []  # start, end, section, tokens, prefix
    forced = 0
    cur: list[_Unit] = []
    cur_section: tuple[str, ...] = ()
    cur_tokens = 0

    def flush() -> None:
        nonlocal cur, cur_tokens
        if cur:
            prefix = cur[0].header if cur[0].table >= 0 else ""
            spans.append((cur[0].start, cur[-1].end, cur_section, cur_tokens, prefix))
        cur, cur_tokens = [], 0

    pending = deque(units)
    while pending:
        u = pending.popleft()
        if u.kind == "table-header":
            continue  # repeated at the top of each of its table's row groups
        section = sections.path_at(u.start)
        if cur and (u.table >= 0 or cur[-1].table >= 0) and (
            u.table != cur[-1].table or page_of(u) != page_of(cur[-1])
            or sum(x.table >= 0 for x in cur) >= ROWS_PER_CHUNK
        ):
            flush()  # a table row group ends: another table, another page, or the group is full
        if u.table >= 0 and not cur and u.header:
            cur_section = section
            cur_tokens = header_tokens(section) + header_row_tokens[u.header]
            cur.append(u)
            cur_tokens += u.tokens
            continue
        if u.kind == "heading" and cur and any(x.kind != "heading" for x in cur):
            flush()
        if not cur:
            cur_section = section
            cur_tokens = header_tokens(section)
        elif u.kind == "heading" and all(x.kind == "heading" for x in cur):
            cur_section = section  # consecutive headings: the chunk belongs to the innermost
            cur_tokens = max(cur_tokens, header_tokens(section) + sum(x.tokens for x in cur))
        budget = max_tokens - header_tokens(cur_section)
        if u.tokens > budget and u.kind in ("item", "row"):
            # An over-long list item or row: fall back to its sentences rather than cut words.
            parts = [_Unit(s, e, "sentence") for s, e in split_sentences(text, u.start, u.end)]
            if len(parts) > 1:
                for part, n in zip(parts, tokenizer.count_tokens([text[p.start:p.end] for p in parts])):
                    part.tokens = n
                pending.extendleft(reversed(parts))
                continue
        if u.tokens > budget:
            flush()
            cur_section = section
            for s, e in _split_long(text, u, tokenizer, max_tokens - header_tokens(section)):
                n = tokenizer.count_tokens([text[s:e]])[0]
                spans.append((s, e, section, n + header_tokens(section), ""))
            forced += 1
            continue
        if cur and cur_tokens + u.tokens > max_tokens:
            flush()
            cur_section = section
            cur_tokens = header_tokens(section)
        cur.append(u)
        cur_tokens += u.tokens
    flush()

    chunks = []
    for index, (s, e, section, n_tok, prefix) in enumerate(spans):
        p0 = bisect.bisect_right(page_starts, s) - 1
        p1 = bisect.bisect_right(page_starts, e - 1) - 1
        pages = doc.pages[p0 : p1 + 1]
        body = f"{prefix}\n{text[s:e]}" if prefix else text[s:e]
        shift = len(prefix) + 1 if prefix else 0  # where text[s] is in the body
        breaks = tuple(max(0, pg.start - s) + shift for pg in pages[1:])  # where each next page begins
        cid = hashlib.sha256(f"{doc_id}\0{doc.sha256}\0{s}\0{e}\0{body}".encode()).hexdigest()[:32]
        chunks.append(
            Chunk(
                id=cid, doc_id=doc_id, source=doc.path, file_sha256=doc.sha256, text=body,
                start=s, end=e, page_start=pages[0].number, page_end=pages[-1].number,
                page_labels=tuple(p.label for p in pages), section=section, n_tokens=n_tok,
                index=index, title=doc.title, page_breaks=breaks,
            )
        )
    return chunks, forced


def _split_long(text: str, u: _Unit, tokenizer: Tokenizer, budget: int) -> list[tuple[int, int]]:
    """Split one over-long unit at token boundaries (preferring whitespace) into budget-sized parts."""
    budget = max(budget, 16)
    spans = tokenizer.token_spans(text[u.start:u.end])
    out = []
    i = 0
    while i < len(spans):
        j = min(i + budget, len(spans))
        if j < len(spans):
            # back off to a token that starts after whitespace, so words stay whole
            k = j
            while k > i + budget // 2 and not text[u.start + spans[k][0] - 1 : u.start + spans[k][0]].isspace():
                k -= 1
            if k > i + budget // 2:
                j = k
        s = u.start + spans[i][0]
        e = u.start + (spans[j][0] if j < len(spans) else len(text[u.start:u.end]))
        seg = text[s:e].rstrip()
        if seg.strip():
            out.append((s, s + len(seg)))
        i = j
    return out
