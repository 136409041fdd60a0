"""Sources that disagree: statements of different documents that give different values or
recommendations for the same thing (issue 25, "conflicts between sources").

`find_conflicts(question, passages, embedder, documents) -> list[Conflict]`:

1. the sentences of the passages that bear on the question: the `TOP` best by ground/relevance.py's
   score (the one evidence mode ranks with), within `MARGIN` of the best;
2. pairs of those sentences from different documents that are about the same thing: embedding
   similarity of the two bare sentences at least `SAME` (read under their section paths, two rules
   for different conditions in sections of the same name look alike);
3. the pair disagrees (`disagreement`) when both state a value of the same kind (ground/quantities.py,
   pint: "90 MME/day" against "50 MME/day", "3 months" against "6 months") and share enough of their
   content terms to be about the same thing; or, between near-identical statements, when ground/
   meaning.py's checks (negation, bound, direction, order, modality, population, entity) find that
   one says what the other does not, or a single content word is swapped (a drug for another). One
   side giving no value at all is not a conflict, and "for adults ... 50 mg" beside "for children ...
   25 mg" in different words is two rules, not one disputed.

A pair from two editions of one guideline (store/versions.py) is a *change*: the current edition's
statement is shown first, the superseded one after it. Identical sentences never conflict (the
passage reader keeps one copy). Thresholds were chosen on the dev seeds of
benchmarks/versions_conflicts.py (results in benchmarks/results/versions_conflicts.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import re

from ..tokenize import UNITS, tokenize
from ..types import Passage, document_date
from .meaning import Mismatch, compare
from .quantities import quantities
from .relevance import CONTENT, passage_sentences, scores, vectors

TOP = 10  # sentences of the passages compared (the best for the question)
MARGIN = 0.35  # ... within this much of the best sentence's score
ANSWER_MARGIN = 0.15  # one sentence of a pair must be within this much of the best: it answers the question
MIN_CHARS = 25
SAME = 0.75  # cosine of two sentences about the same thing (different conditions score about 0.5-0.65)
SAME_WORDING = 0.8  # ... for differences other than a value
MIN_TERMS = 4  # content terms a sentence needs to be a statement ("Version 2.0 - March 2024" is not)
QTY_OVERLAP = 0.34  # Jaccard of content terms: the same thing, possibly in other words
POLARITY_OVERLAP = 0.5  # ... for a negation or modality difference ("not recommended", "must")
WORDING_OVERLAP = 0.8  # ... the same statement apart from another cue
SWAP_OVERLAP = 0.75  # ... the same statement apart from one word
LIMIT = 3  # conflicts reported per answer
DOSE_UNITS = ("milligram", "microgram", "gram", "nanogram", "IU", "milliliter")
DOSE_PER = ("", "day", "kg", "dose")  # a dose, not a concentration (mg/dL is compared by value)

KIND_WORDS = {"quantity": "the value", "negation": "whether to do it", "bound": "the limit",
              "direction": "the direction", "order": "the order", "modality": "how strongly it is advised",
              "population": "who it applies to", "entity": "the drug or route", "scope": "the scope"}


@dataclass(frozen=True)
class Statement:
    """One side of a conflict: a sentence, cited."""

    text: str
    n: int  # the passage's number in the answer's passages ([n]); 0 when not among them
    passage_id: str
    source: str
    title: str
    page_label: str
    date: str  # the document's date ("" unknown)
    superseded: str = ""  # plain words when the document is a superseded edition ("" current)

    def cite(self) -> str:
        when = f", {self.date}" if self.date else ""
        return f"[{self.n}]{when}" if self.n else f"({self.title or self.source}{when})"

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Conflict:
    """Two documents stating different values or recommendations for the same thing."""

    kind: str  # meaning.Mismatch kind: "quantity", "negation", "modality", "population", ...
    reason: str  # the comparison's plain words, about `b` as read against `a`
    a: Statement  # the newer statement (the current edition's, for a change between editions)
    b: Statement
    editions: bool = False  # True: two editions of one guideline; `a` is the current one

    def summary(self) -> str:
        """One line for a clinician."""
        about = KIND_WORDS.get(self.kind, "this")
        if self.editions:
            newer = "A newer (itself superseded) edition" if self.a.superseded else "The current edition"
            return (f"{newer} {self.a.cite()} changed {about}: \u201c{self.a.text}\u201d; the superseded "
                    f"edition {self.b.cite()} said \u201c{self.b.text}\u201d.")
        return (f"Sources disagree on {about}: \u201c{self.a.text}\u201d {self.a.cite()} but \u201c{self.b.text}\u201d "
                f"{self.b.cite()}. Check which applies.")

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "reason": self.reason, "editions": self.editions, "summary": self.summary(),
                "a": self.a.to_dict(), "b": self.b.to_dict()}


def _terms(text: str) -> set[str]:
    """Content terms (ragmed's medical tokenizer, stemmed), numbers and units left out."""
    return {w for w in tokenize(text) if not re.search(r"\d", w) and w not in UNITS and (len(w) > 2 or w in ("no",))}


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z][a-z'-]+", text.lower()))


def _quantity(x: str, y: str) -> Mismatch | None:
    """A value of `x` that `y` gives differently in the same kind of unit (both with a unit, or both bare)."""
    qx, qy = quantities(x), quantities(y)
    for a in qx:
        if any(a.same_as(b) for b in qy):
            continue
        other = [b for b in qy if a.same_as(b) is False and bool(a.unit) == bool(b.unit)
                 and not any(b.same_as(c) for c in qx)]
        if other:
            return Mismatch("quantity", f"{a.shown} against {other[0].shown}")
    return None


def disagreement(x: str, y: str, similarity: float = 1.0) -> Mismatch | None:
    """The way `x` and `y` disagree (module docstring, step 3), None when they do not.

    Both must be statements (`MIN_TERMS` content terms) sharing `QTY_OVERLAP` of their content terms
    (Jaccard) for a quantity conflict, `WORDING_OVERLAP` for the other kinds (the same statement
    apart from the cue); a single swapped content word between near-identical statements
    ("allopurinol" for "febuxostat") is an entity conflict."""
    tx, ty = _terms(x), _terms(y)
    if min(len(tx), len(ty)) < MIN_TERMS:
        return None
    overlap = len(tx & ty) / len(tx | ty)
    if overlap >= QTY_OVERLAP:
        m = _quantity(x, y) or _quantity(y, x) or _bound_to(x, y)
        if m is not None:
            return m
    if overlap < POLARITY_OVERLAP or similarity < SAME_WORDING:
        return None
    for claim, ev in ((x, y), (y, x)):
        m = compare(claim, ev)
        if m is None or m.kind == "quantity":
            continue
        if m.kind != "negation" and m.reason.startswith("the passage does not"):
            continue
        if m.kind in ("negation", "modality") or overlap >= WORDING_OVERLAP:
            return m
    wx, wy = _words(x) - _words(y), _words(y) - _words(x)
    if len(wx) == 1 and len(wy) == 1 and len(tx - ty) == 1 and len(ty - tx) == 1 and overlap >= SWAP_OVERLAP:
        return Mismatch("entity", f'"{next(iter(wx))}" against "{next(iter(wy))}"')
    return None


def _bound_to(x: str, y: str) -> Mismatch | None:
    """The same dose given for different things: "allopurinol 100 mg" against "febuxostat 100 mg"
    (the word written just before the shared quantity differs, and neither sentence has the other's)."""
    wx, wy = _words(x), _words(y)
    for a in quantities(x):
        for b in quantities(y):
            if not (a.unit in DOSE_UNITS and b.unit in DOSE_UNITS and a.per in DOSE_PER and b.per in DOSE_PER
                    and a.same_as(b)):
                continue
            before_a = re.findall(r"[A-Za-z][A-Za-z-]+", x[:a.start])[-1:]
            before_b = re.findall(r"[A-Za-z][A-Za-z-]+", y[:b.start])[-1:]
            if before_a and before_b:
                u, v = before_a[0].lower(), before_b[0].lower()
                if u != v and len(u) > 3 and len(v) > 3 and u not in wy and v not in wx:
                    return Mismatch("entity", f"{u} {a.shown} against {v} {b.shown}")
    return None


def find_conflicts(question: str, passages: Sequence[Passage], embedder,
                   documents: Mapping[str, Mapping[str, Any]] | None = None, editions=None,
                   limit: int = LIMIT) -> list[Conflict]:
    """Conflicts among the passages' statements that bear on `question`, best first.

    `documents`: the manifest's records by path (for dates); `editions`: store.versions.Editions
    (a pair from two editions of one series is a change, the current edition first)."""
    documents = documents or {}
    sents = [s for s in passage_sentences(passages) if s.kind == CONTENT and len(s.text) >= MIN_CHARS]
    if len({passages[s.n - 1].source for s in sents}) < 2:
        return []
    rel = scores(question, sents, passages, embedder)
    best = max(rel)
    ranked = sorted(((r, s) for r, s in zip(rel, sents) if r >= best - MARGIN), key=lambda x: -x[0])[:TOP]
    picked = [s for _, s in ranked]
    score = [r for r, _ in ranked]
    vecs = vectors(embedder, [s.text for s in picked])  # the bare sentences: the subject must match
    out: list[Conflict] = []
    seen: set[tuple[str, str]] = set()
    for i, a in enumerate(picked):
        for j in range(i + 1, len(picked)):
            b = picked[j]
            pa, pb = passages[a.n - 1], passages[b.n - 1]
            if pa.source == pb.source or max(score[i], score[j]) < best - ANSWER_MARGIN:
                continue  # same document, or neither sentence answers the question itself
            sim = float(vecs[i] @ vecs[j])
            if sim < SAME:
                continue
            m = disagreement(a.text, b.text, sim)
            if m is None or (a.text, b.text) in seen:
                continue
            seen.add((a.text, b.text))
            out.append(_conflict(m, (a, pa), (b, pb), documents, editions))
            if len(out) >= limit:
                return out
    return out


def _conflict(m: Mismatch, x, y, documents, editions) -> Conflict:
    def statement(s, p: Passage) -> Statement:
        e = editions.superseded(p.source) if editions is not None else None
        return Statement(s.text, s.n, p.id, p.source, p.title, p.page_label,
                         document_date(documents.get(p.source, {})), e.note() if e is not None else "")

    a, b = statement(*x), statement(*y)
    same_series = (editions is not None and editions.current_of(a.source) == editions.current_of(b.source)
                   and a.source in editions.of)
    if same_series:
        if (not b.superseded, b.date) > (not a.superseded, a.date):
            a, b = b, a  # the current (else the newer) edition first
    elif (b.date or "") > (a.date or ""):
        a, b = b, a  # the newer statement first
    return Conflict(m.kind, m.reason, a, b, editions=bool(same_series))


def renumbered(conflicts: Sequence[Conflict], passages: Sequence[Passage]) -> list[Conflict]:
    """The conflicts with [n] taken from `passages` (an answer's prompt passages), by passage id."""
    from dataclasses import replace

    pos = {p.id: n for n, p in enumerate(passages, 1)}
    return [replace(c, a=replace(c.a, n=pos.get(c.a.passage_id, 0)), b=replace(c.b, n=pos.get(c.b.passage_id, 0)))
            for c in conflicts]


__all__ = ["Conflict", "Statement", "disagreement", "find_conflicts", "renumbered"]
