"""Current guidance wins: what the pipeline adds to evidence, citations and answers about editions
and disagreeing sources (issue 25). The pipeline calls these; the logic lives in
store/versions.py (editions) and ground/conflicts.py (disagreements).

- `mark_evidence`: evidence sentences of superseded editions carry "superseded by the edition of
  DATE (FILE)" and come after the current editions' sentences (still shown: they may hold the only
  answer, e.g. a rule the new edition dropped);
- `mark_citations`: each citation gets its document's date, version and, for a superseded edition,
  the note and the replacing edition's date;
- `notices`: the plain-words lines every front end shows: "Superseded: ..." for each cited superseded
  edition, "Sources disagree: ..." / "Changed between editions: ..." for each conflict.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, Mapping, Sequence

from ..store.versions import Editions, of_manifest
from ..types import Citation, Passage, document_date
from .conflicts import Conflict, find_conflicts, renumbered

SUPERSEDED = "Superseded:"
DISAGREE = "Sources disagree:"
CHANGED = "Changed between editions:"


def editions_of(manifest) -> Editions:
    return of_manifest(manifest)


def mark_evidence(found: Sequence[Any], passages: Sequence[Passage], eds: Editions) -> list[Any]:
    """Evidence sentences with their superseded note, current editions' sentences first (stable)."""
    out = []
    for e in found:
        ed = eds.superseded(passages[e.n - 1].source) if 0 < e.n <= len(passages) else None
        out.append(replace(e, superseded=ed.note()) if ed is not None else e)
    return sorted(out, key=lambda e: bool(e.superseded))


def evidence_line(e) -> str:
    """One evidence sentence as shown: text, [n], and its superseded note when it has one."""
    return f"{e.text} [{e.n}]" + (f" ({e.superseded})" if getattr(e, "superseded", "") else "")


def mark_citations(citations: Sequence[Citation], documents: Mapping[str, Mapping[str, Any]],
                   eds: Editions) -> list[Citation]:
    out = []
    for c in citations:
        d = documents.get(c.source, {})
        ed = eds.superseded(c.source)
        out.append(replace(c, date=document_date(d), version=str((d.get("tags") or {}).get("version", "")),
                           superseded=ed.note() if ed else "", superseded_by_date=ed.superseded_by_date if ed else ""))
    return out


COUNTERPARTS = 2  # passages of each superseded edition searched for what it said on the question


def review(question: str, passages: Sequence[Passage], embedder, manifest, search=None) -> list[Conflict]:
    """The conflicts among the passages that bear on the question ([] without a manifest).

    `search(question, k, documents)`: when given, the superseded editions of the current editions
    among the passages are searched for their own passages on the question (retrieval drops an old
    passage that repeats the new one almost word for word, so a changed number would go unseen);
    those take part as statements cited by document (n = 0)."""
    if manifest is None:
        return []
    eds = of_manifest(manifest)
    extra: list[Passage] = []
    if search is not None and eds.of:
        have = {p.id for p in passages}
        for old in sorted({o for p in passages for o in eds.older(p.source)}):
            extra += [p for p in search(question, COUNTERPARTS, old) if p.id not in have and p.source == old]
    found = find_conflicts(question, list(passages) + extra, embedder, manifest.documents, eds)
    return renumbered(found, passages)


def notices(citations: Sequence[Citation], conflicts: Sequence[Conflict]) -> list[str]:
    """Lines for `Answer.notices`: superseded sources cited, then conflicts."""
    out = []
    seen: set[str] = set()
    for c in citations:
        if c.superseded and c.source not in seen:
            seen.add(c.source)
            when = f", dated {c.date}" if c.date else ""
            out.append(f"{SUPERSEDED} [{c.n}] {Path(c.source).name}{when} is {c.superseded}; "
                       "follow the current edition.")
    for k in conflicts:
        head = CHANGED if k.editions else DISAGREE
        out.append(f"{head} {k.summary()}")
    return out


__all__ = ["CHANGED", "DISAGREE", "SUPERSEDED", "editions_of", "evidence_line", "mark_citations",
           "mark_evidence", "notices", "review"]
