"""A document's date, read from the document itself (issue 25, "dates that are true").

`document_dating(pages, metadata_date, mtime) -> DocumentDate`: the publication or revision date the
document states, else the PDF's metadata date, else the file's modification date, with where it
came from (`source`) and the words it was read from (`evidence`). The manifest keeps all three
(`date`, `date_source`, `date_evidence`); `ragmed docs list` shows them and `ragmed docs date PATH
YYYY-MM-DD` (or `PUT /v1/collections/{c}/documents/{id}/date`) corrects them.

What counts, strongest first (only the first `FRONT_PAGES` and the last `BACK_PAGES` pages are read,
where publishers print it):

1. a labelled date: "Revised: March 2024", "Last updated 12 May 2023", "Published 2019-06-10",
   "Effective date: ...", "Version 2.3 - September 2016"; the latest labelled date wins (a revision
   date is later than the first publication date);
2. a full or month date on the first two pages ("November 4, 2022", "16 October 2023",
   "October 2023", "2023-10-16"): the cover or the imprint page;
3. a copyright or citation year ("© World Health Organization 2016", "Copyright 2019").

Dates are written as precisely as the document states them: "2023-10-16", "2023-10" or "2016"
(ISO 8601 reduced precision, so they sort as text). Month names may come out of PDF text spaced
("No vember"): the pattern allows one space inside a month name.

Hand-made patterns, not a date-parsing library: dateparser's `search_dates` finds "dates" in
ordinary words ("may", "march", "second") and in reference lists, and does not say which date is
the publication date; what matters here is the label next to the date, which the patterns read.
Checked on the 8 guideline PDFs of the shared evaluation set (tests/test_dates.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

FRONT_PAGES = 4
BACK_PAGES = 2
PAGE_CHARS = 6000  # characters read of each page (covers, imprint pages and their small print)

MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september",
          "october", "november", "december"]
_ABBR = {m[:3]: i + 1 for i, m in enumerate(MONTHS)} | {"sept": 9}


def _spaced(word: str) -> str:
    return r"\s?".join(word)


_MONTH = "(?P<month>" + "|".join(
    [_spaced(m) for m in MONTHS] + [m[:3] + r"\.?" for m in MONTHS if len(m) > 3] + [r"sept\.?"]) + ")"
_YEAR = r"(?P<year>(?:19[5-9]\d|20\d\d))"
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
_DATE_FORMS = [
    rf"{_MONTH}\s+{_DAY},?\s+{_YEAR}",  # November 4, 2022
    rf"{_DAY}\s+{_MONTH},?\s+{_YEAR}",  # 16 October 2023
    r"(?P<iso>(?:19|20)\d\d-[01]\d-[0-3]\d)",  # 2023-10-16
    rf"{_MONTH},?\s+{_YEAR}",  # October 2023
]
_FORMS = [
    rf"{_MONTH}\s+{_DAY},?\s+{_YEAR}",  # November 4, 2022
    rf"{_DAY}\s+{_MONTH},?\s+{_YEAR}",  # 16 October 2023
    r"(?P<iso>(?:19|20)\d\d-[01]\d-[0-3]\d)",  # 2023-10-16
    rf"{_MONTH},?\s+{_YEAR}",  # October 2023
]
_DATE = re.compile(r"\b(?:" + "|".join(f"(?:{f})" for f in _DATE_FORMS).replace("(?P<", "(?P<") + r")\b", re.I) \
    if False else None  # (named groups repeat across forms: each form is compiled on its own below)
_FORMS = [re.compile(rf"(?<![\w-])(?:{f})(?![\w-])", re.IGNORECASE) for f in _DATE_FORMS]
_LABEL = re.compile(
    r"(?:revised|revision(?:\s+date)?|last\s+(?:updated|revised|reviewed)|updated|published|publication\s+date|"
    r"date\s+of\s+(?:publication|issue|revision)|effective(?:\s+date)?|issued|approved|review\s+date|"
    r"version\s+[\w.]+)\s*(?:on|:|-|\u2013|\u2014|,)?\s*$", re.IGNORECASE)
_COPYRIGHT_YEAR = re.compile(r"(?:©|\(c\)|copyright)[^\n\d]{0,60}?((?:19[5-9]|20\d)\d)", re.IGNORECASE)


@dataclass(frozen=True)
class DocumentDate:
    """A document's date and where it came from."""

    value: str  # ISO date, as precise as stated: "2023-10-16", "2023-10", "2016"; "" unknown
    source: str  # "document text" | "pdf metadata" | "file metadata" | "file modified" | "set by admin"
    evidence: str = ""  # the words it was read from, with the page ("page 1: Version 2.3 - September 2016")

    def to_record(self) -> dict[str, str]:
        """The manifest fields: date, date_source, date_evidence."""
        return {"date": self.value, "date_source": self.source, "date_evidence": self.evidence}


@dataclass(frozen=True)
class _Found:
    value: str
    rank: int  # 3 labelled, 2 front-page date, 1 copyright year
    page: int
    words: str


def _iso(m: re.Match) -> str:
    g = m.groupdict()
    if g.get("iso"):
        return g["iso"]
    year = g.get("year")
    month_word = re.sub(r"[\s.]", "", (g.get("month") or "").lower())
    month = MONTHS.index(month_word) + 1 if month_word in MONTHS else _ABBR.get(month_word[:4], _ABBR.get(month_word[:3]))
    if not year or not month:
        return ""
    day = int(g["day"]) if g.get("day") else 0
    if day and not 1 <= day <= 31:
        return ""
    return f"{year}-{month:02d}-{day:02d}" if day else f"{year}-{month:02d}"


def _dates(text: str) -> list[tuple[int, int, str]]:
    """(start, end, ISO value) of every date in `text`, longest form first at each place."""
    out: list[tuple[int, int, str]] = []
    taken: list[tuple[int, int]] = []
    for form in _FORMS:
        for m in form.finditer(text):
            if any(m.start() < e and s < m.end() for s, e in taken):
                continue
            value = _iso(m)
            if value:
                out.append((m.start(), m.end(), value))
                taken.append((m.start(), m.end()))
    return sorted(out)


def _line(text: str, start: int, end: int) -> str:
    a = text.rfind("\n", 0, start) + 1
    b = text.find("\n", end)
    return " ".join(text[a:b if b >= 0 else len(text)].split())[:160]


def _page_candidates(text: str, page: int) -> list[_Found]:
    found: list[_Found] = []
    for start, end, value in _dates(text):
        before = " ".join(text[max(0, start - 60):start].split())
        if _LABEL.search(before):
            found.append(_Found(value, 3, page, _line(text, start, end)))
        elif page <= 2:
            found.append(_Found(value, 2, page, _line(text, start, end)))
    for m in _COPYRIGHT_YEAR.finditer(text):
        found.append(_Found(m.group(1), 1, page, _line(text, m.start(), m.end())))
    return found


def _better(a: _Found, b: _Found) -> bool:
    """Is `a` a better document date than `b`?"""
    if a.rank != b.rank:
        return a.rank > b.rank
    if a.rank == 3 and a.value != b.value:  # labelled: the latest (a revision after the first publication)
        return a.value > b.value
    if a.page != b.page:  # otherwise the earliest page (the cover), then the most precise
        return a.page < b.page
    return len(a.value) > len(b.value)


def stated_date(pages: list[str]) -> tuple[str, str]:
    """(ISO date, "page N: the words") the document states, ("", "") when it states none.
    `pages`: each page's text, in order."""
    n = len(pages)
    numbers = list(range(min(FRONT_PAGES, n))) + [i for i in range(max(FRONT_PAGES, n - BACK_PAGES), n)]
    best: _Found | None = None
    for i in numbers:
        for f in _page_candidates((pages[i] or "")[:PAGE_CHARS], i + 1):
            if best is None or _better(f, best):
                best = f
    return (best.value, f"page {best.page}: {best.words}") if best else ("", "")


def document_dating(pages: list[str], metadata_date: str = "", mtime: float | None = None,
                    pdf: bool = True) -> DocumentDate:
    """The document's date: stated in its text, else its metadata date (PDF creation date), else
    the file's modification time (`mtime`, seconds since the epoch); `DocumentDate("", "")` when
    none is known."""
    value, words = stated_date(pages)
    if value:
        return DocumentDate(value, "document text", words)
    if metadata_date:
        if pdf:
            return DocumentDate(metadata_date, "pdf metadata", "the PDF's creation date")
        return DocumentDate(metadata_date, "file metadata", "the date in the file's metadata (Word core properties, HTML meta)")
    if mtime is not None:
        when = datetime.fromtimestamp(mtime, timezone.utc).date().isoformat()
        return DocumentDate(when, "file modified", "the file's modification time (the document states no date)")
    return DocumentDate("", "")


_VALID = re.compile(r"(19|20)\d\d(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?")


def checked_date(value: str) -> str:
    """An admin's date, validated: YYYY, YYYY-MM or YYYY-MM-DD. Raises ValueError saying what to write."""
    value = (value or "").strip()
    if not _VALID.fullmatch(value):
        raise ValueError(f"{value!r} is not a date: write YYYY-MM-DD, YYYY-MM or YYYY (e.g. 2024-03-01).")
    if len(value) == 10:
        datetime.strptime(value, "%Y-%m-%d")  # 2023-02-30 raises
    return value


def pdf_dating(path) -> DocumentDate:
    """A PDF's date read as ingestion reads it (`document_dating` over the text pypdf extracts from
    the pages it looks at, then the PDF's metadata date, ingest/extract.py's rule), without
    extracting the other pages: for checking dates (`ragmed doctor`-style tools and tests)."""
    from pypdf import PdfReader

    from .extract import _pdf_date
    from .text import normalize

    reader = PdfReader(str(path))
    n = len(reader.pages)
    wanted = set(range(min(FRONT_PAGES, n))) | set(range(max(FRONT_PAGES, n - BACK_PAGES), n))
    pages = [normalize(reader.pages[i].extract_text() or "") if i in wanted else "" for i in range(n)]
    return document_dating(pages, _pdf_date(reader), None)


def record_of(doc, mtime: float) -> dict[str, str]:
    """The manifest's date fields for an `ExtractedDocument` (ingest/pipeline.py's hook)."""
    pdf = getattr(doc, "kind", "pdf") == "pdf"
    return document_dating([p.text for p in doc.pages], doc.date, mtime, pdf=pdf).to_record()
