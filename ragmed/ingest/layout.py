"""Page text from pypdf with the positions and sizes of its text runs, and per-page layout checks.

`read_page(page, number)` returns a `PageText`: the page's text and any warnings. It calls pypdf's
`extract_text` once with a `visitor_text` callback, which hands over every text run pypdf emits
with its text matrix and font size; pypdf's own text is exactly the runs joined (checked: 32 of 32
sampled pages of the CDC and WHO guideline PDFs), so the runs can be re-joined with these fixes:

- **raised small digits** (a footnote reference set 1-3 digits in a smaller font right after a
  number or word: "45" + small "2") become " [2]" instead of "452"; after "10" or a single letter
  they are a power: "10^9", "I^2";
- **table cells**: runs on one baseline separated by a wide gap (more than 1.5 em after the
  previous run's estimated end; widths estimated at 0.5 em per character) are joined with " | ",
  so a dosing row reads "16 kg | 240 mg | every 6 h" and the chunker keeps it as a row;
- **paragraph gaps**: a vertical gap of more than 1.8 line heights (or a drop to a font under 70%
  of the previous line's size after a gap) becomes a blank line, so a page-foot block (a publisher
  footer under the TB fact sheet's symptom list) is not glued onto the text above it;
- **cells of rows drawn as one run** (a text object moving between cells with Td, as most tables
  are written, reaches the visitor as one run "5 to < 8 20 + 160"): on a page with 3+ row-like
  lines, pypdf's layout mode (run once for that page) places the cells apart by their positions,
  and each row line whose characters match a layout line gets that line's cells: "5 to < 8 | 20 + 160";
- **interleaved columns**: when several lines hold two prose runs (>= 4 words each) across a wide
  gap, the page was drawn line by line across two columns; it is re-read column by column (runs
  left of the gap first, top to bottom, then the right column) and a page warning says so;
- **glued words** (pages set word by word without space characters: "Theloadingdoseof..."): when
  more than 8% of a page's words are 20+ letters long, the page is re-extracted with pypdf's
  `extraction_mode="layout"`, which places words by their positions; if that is still glued the
  page keeps its text and a warning is raised.

Why pypdf's run positions and layout mode rather than pdfplumber or pypdfium2: ragmed already
parses every page with pypdf, and the runs come with that parse (8 guideline PDFs: 13.6 pages/s
against 14.7 without runs, benchmarks/results/fidelity.md); layout mode re-read the glued-word
page of the fidelity suite correctly (CER 0) and runs only on the pages that need it. pdfplumber and
pypdfium2 would add a second parser and dependency; they were not measured here.
"""

from __future__ import annotations

import math
import re
from contextlib import contextmanager
from dataclasses import dataclass, field

RAISED_MAX_RATIO = 0.8  # a run at most this fraction of the previous run's size is "small"
CELL_GAP_EM = 1.5
PARA_GAP_LINES = 1.8
GLUED_SHARE = 0.08
GLUED_MIN_LEN = 20
_LONG = re.compile(r"[A-Za-z]{%d,}" % GLUED_MIN_LEN)
_WORDS = re.compile(r"[A-Za-z]+")


@dataclass
class PageText:
    """One page's text (before normalisation) and what was done or could not be done to it."""

    text: str
    warnings: list[str] = field(default_factory=list)
    fixes: list[str] = field(default_factory=list)  # e.g. "layout", "columns", "raised digits"


@dataclass
class _Run:
    text: str
    x: float
    y: float
    size: float


def glued_share(text: str) -> float:
    """Share of a text's words that are 20+ letters (German compounds aside, glued words)."""
    words = _WORDS.findall(text)
    if len(words) < 8:
        return 0.0
    return sum(len(w) >= GLUED_MIN_LEN for w in words) / len(words)


def read_page(page, number: int) -> PageText:
    """Text of one pypdf page with the fixes of the module docstring; raises what pypdf raises."""
    runs: list[_Run] = []

    def visit(text, cm, tm, font_dict, font_size):
        if not text:
            return
        a, b, _, _, e, f = _mul(tm, cm)
        runs.append(_Run(text, e, f, abs(font_size or 1.0) * (math.hypot(a, b) or 1.0)))

    with _text_streams_only():
        raw = page.extract_text(visitor_text=visit) or ""
    out = PageText(raw)
    if runs and "".join(r.text for r in runs) == raw:
        if _interleaved(runs):
            out.text = _by_columns(runs)
            out.fixes.append("columns")
            out.warnings.append(f"page {number}: two columns were interleaved line by line; "
                                "re-read column by column (check the order of this page's text)")
        else:
            out.text = _join(runs, out)
    if _has_table(out.text) and "layout" not in out.fixes:
        out.text = _cells_from_layout(page, out)
    if glued_share(out.text) > GLUED_SHARE:
        try:
            layout = page.extract_text(extraction_mode="layout") or ""
        except Exception:  # layout mode fails on some fonts; keep the plain text and warn
            layout = ""
        if layout and glued_share(layout) <= GLUED_SHARE:
            out.text = "\n".join(ln.strip() for ln in layout.split("\n"))
            out.fixes.append("layout")
        else:
            out.warnings.append(f"page {number}: words run together (no spaces in the PDF's text); "
                                "search may miss this page")
    return out


_ROWLIKE = re.compile(r"(?m)^(?![^\n]* \| )(?=(?:[^\n\d]*\d+){2})[^\n]{3,120}(?<![.!?:;])[ \t]*$")


_DOSING = re.compile(r"(?i)\d\s*(?:mg|g|kg|ml|mcg|µg|μg|mmol|iu|units?|mmhg|years?|months?)\b|[<>≤≥]|\d\s*(?:to|-|–)\s*<?\s*\d")


def _row_like(line: str) -> bool:
    """A table row's shape (as `chunker._is_row`): <= 14 tokens, >= 2 and >= 30% with digits."""
    tokens = line.split()
    if not _ROWLIKE.fullmatch(line) or len(tokens) > 14:
        return False
    numeric = sum(bool(re.search(r"\d", t)) for t in tokens)
    return numeric >= 2 and numeric / len(tokens) >= 0.3


def _has_table(text: str) -> bool:
    """3+ row-like lines in a row (blank lines between them allowed) holding doses, weights,
    ages or bands ("5 to < 8", "16 kg", "≥ 30"): a dosing or threshold table. Evidence tables of
    ratios and intervals are left as they are (layout mode costs ~0.1 s a page; measured)."""
    run = 0
    for line in text.split("\n"):
        if not line.strip():
            continue
        run = run + 1 if _row_like(line) and _DOSING.search(line) else 0
        if run >= 3:
            return True
    return False


def _cells_from_layout(page, out: PageText) -> str:
    """Row-like lines given the cell boundaries of pypdf's layout mode (2+ spaces apart)."""
    try:
        layout = page.extract_text(extraction_mode="layout") or ""
    except Exception:  # layout mode fails on some fonts; the rows stay as plain lines
        return out.text
    cells: dict[str, str] = {}
    for line in layout.split("\n"):
        parts = [c for c in re.split(r"\s{2,}", line.strip()) if c]
        if len(parts) >= 2:
            cells.setdefault(re.sub(r"\s+", "", line), " | ".join(parts))

    def fix(m: re.Match[str]) -> str:
        line = m.group(0)
        found = cells.get(re.sub(r"\s+", "", line)) if _row_like(line) else None
        return found if found and not re.match(r"^[•◦▪\-*] \| ", found) else line

    text = _ROWLIKE.sub(fix, out.text)
    if text != out.text:
        out.fixes.append("cells")
    return text


@contextmanager
def _text_streams_only():
    """While extracting with a `visitor_text`, let pypdf skip content streams without text.

    Given any visitor, pypdf 6-7 parses every form XObject's stream, figures included, in case an
    operator visitor wants them (`pypdf._text_extraction._get_content_stream_for_text`,
    `has_visitor`); that made the 8 guideline PDFs parse 17% slower (measured). A text visitor is
    never called for streams without text operators, so skipping them changes nothing it sees.
    Without that private function (another pypdf), extraction is only slower, not different.
    """
    import pypdf._text_extraction as te

    original = getattr(te, "_get_content_stream_for_text", None)
    if original is None:
        yield
        return

    def text_only(obj, pdf, content_key, *, has_visitor):
        return original(obj, pdf, content_key, has_visitor=False)

    te._get_content_stream_for_text = text_only
    try:
        yield
    finally:
        te._get_content_stream_for_text = original


def _mul(tm, cm) -> tuple[float, ...]:
    a1, b1, c1, d1, e1, f1 = tm
    a2, b2, c2, d2, e2, f2 = cm
    return (a1 * a2 + b1 * c2, a1 * b2 + b1 * d2, c1 * a2 + d1 * c2, c1 * b2 + d1 * d2,
            e1 * a2 + f1 * c2 + e2, e1 * b2 + f1 * d2 + f2)


def _end(run: _Run) -> float:
    return run.x + 0.5 * run.size * len(run.text.rstrip("\n"))


def _join(runs: list[_Run], out: PageText) -> str:
    parts: list[str] = []
    prev: _Run | None = None
    line_y, line_size = None, None
    raised = 0
    joined = ""  # the last characters written (enough for the checks below)
    for run in runs:
        text = run.text
        body = text.strip()
        if prev is not None and body:
            same_line = abs(run.y - prev.y) < 0.6 * max(run.size, prev.size, 1.0)
            if (same_line and re.fullmatch(r"\d{1,3}(?:[,\u2013-]\d{1,3})*", body)
                    and run.size <= RAISED_MAX_RATIO * prev.size and re.search(r"[\w)%]$", joined)):
                if re.search(r"(?:^|[^\w.,])(?:10|[A-Za-z])$", joined):  # 10 + raised 9, I + raised 2
                    text = f"^{body}" + text[len(text.rstrip()):]
                else:
                    text = f" [{body}]" + text[len(text.rstrip()):]
                raised += 1
            elif same_line and run.x - _end(prev) > CELL_GAP_EM * run.size and not joined.endswith("\n"):
                text = " | " + text.lstrip()
                parts[-1] = parts[-1].rstrip(" ")
                joined = joined.rstrip(" ")
            elif (not same_line and joined.endswith("\n") and line_y is not None
                  and (line_y - run.y > PARA_GAP_LINES * max(run.size, line_size)
                       or (line_y - run.y > 1.2 * line_size and run.size < 0.7 * line_size))
                  and not joined.endswith("\n\n")):
                text = "\n" + text
        if body:
            if prev is None or abs(run.y - prev.y) >= 0.6 * max(run.size, prev.size, 1.0):
                line_y, line_size = run.y, run.size
            prev = run
        parts.append(text)
        joined = (joined + text)[-8:]
    if raised:
        out.fixes.append("raised digits")
    return "".join(parts)


def _interleaved(runs: list[_Run]) -> bool:
    """Several baselines carrying two prose runs (>= 4 words each) across a wide gap."""
    hits = 0
    for prev, run in zip(runs, runs[1:]):
        if (abs(run.y - prev.y) < 0.3 * run.size and run.x - _end(prev) > 2 * run.size
                and len(prev.text.split()) >= 4 and len(run.text.split()) >= 4):
            hits += 1
            if hits >= 3:
                return True
    return False


def _by_columns(runs: list[_Run]) -> str:
    """Runs re-ordered column by column, split at the median x of the right-hand runs."""
    rights = sorted(run.x for prev, run in zip(runs, runs[1:])
                    if abs(run.y - prev.y) < 0.3 * run.size and run.x - _end(prev) > 2 * run.size)
    split = rights[len(rights) // 2] - 1.0
    lines: list[str] = []
    for column in ([r for r in runs if r.x < split], [r for r in runs if r.x >= split]):
        column.sort(key=lambda r: (-round(r.y, 1), r.x))
        cur_y = None
        for r in column:
            t = r.text.strip()
            if not t:
                continue
            if cur_y is not None and abs(r.y - cur_y) < 0.3 * r.size:
                lines[-1] += " " + t
            else:
                lines.append(t)
                cur_y = r.y
        lines.append("")
    return "\n".join(lines).strip() + "\n"
