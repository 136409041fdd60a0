"""Editions of the same guideline in one collection, and which one is current (issue 25).

`editions(documents) -> Editions` reads the manifest's document records (path -> record) and groups
them into *series*:

- declared: `ragmed ingest --supersedes OLD NEW` (or the web upload's "supersedes" field) stores the
  tag `supersedes=<OLD's path>` on NEW; a `series=<name>` tag puts documents in a named series;
- found: documents whose titles are the same once dates, years, version and edition words are left
  out (`series_key`: "Hypertension protocol 2023 (v2)" and "Hypertension Protocol, 2024" are one
  series), with different dates or `version` tags.

In a series the edition with the latest date (then the highest `version` tag) is *current*; every
other edition is *superseded* by it. Declared links win over dates: a document declared to
supersede another is newer whatever the dates say. Documents with the same title and the same date
and version are not editions of each other (copies, or parts of one work): nothing is marked.

Superseded editions stay indexed and searchable. Retrieval places a superseded passage after the
best passage of its current edition (`prefer_current`), so the current wording comes first and a
repeated, unchanged statement of the old edition is dropped as a near-duplicate of the new one.

The exact title key, not fuzzy matching (rapidfuzz): "Guideline part 1" and "Guideline part 2"
score 94 of 100 and are not editions; editions whose titles changed more than dates and version
words ("... for Chronic Pain, 2016" -> "... for Pain, 2022") are declared with `--supersedes`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from ..types import document_date

_MONTHS = ("january|february|march|april|may|june|july|august|september|october|november|december|"
           "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec")
_DROP = re.compile(
    rf"\b(?:\d{{1,2}}(?:st|nd|rd|th)?\s+(?:{_MONTHS})\b|(?:{_MONTHS})\s+\d{{1,2}}\b(?!\d)|(?:19|20)\d\d(?:[-/.]\d{{1,2}}){{0,2}}|(?:{_MONTHS})\b|v(?:ersion)?\s*\.?\s*\d+(?:\.\d+)*|"
    r"rev(?:ision|ised)?\.?\s*\d*|edition|ed\.|update[ds]?|draft|final|current|new|old|"
    r"\d+(?:st|nd|rd|th)\b)", re.IGNORECASE)
MIN_KEY_CHARS = 4  # a title reduced to fewer letters than this ("v2", "2024") names no series


def series_key(title: str) -> str:
    """A title without dates, years, month names, version/edition/revision words and punctuation,
    lower case: the same for every edition of a guideline ("" when too little is left)."""
    text = _DROP.sub(" ", (title or "").replace("_", " "))
    key = " ".join(re.findall(r"[^\W_]+", text.lower()))
    return key if sum(c.isalpha() for c in key) >= MIN_KEY_CHARS else ""


def _version_order(v: str) -> tuple:
    return tuple(int(x) if x.isdigit() else x for x in re.findall(r"\d+|[a-z]+", (v or "").lower()))


@dataclass(frozen=True)
class Edition:
    """One document's place in its series."""

    path: str
    series: str  # the series key (or the `series` tag)
    date: str  # the document's date (types.document_date)
    version: str = ""  # its `version` tag
    how: str = ""  # "declared" (supersedes tag), "series tag" or "same title"
    superseded_by: str = ""  # path of the current edition ("" = this one is current)
    superseded_by_date: str = ""  # ... and its date
    superseded_by_title: str = ""
    editions: int = 1  # editions in the series

    @property
    def superseded(self) -> bool:
        return bool(self.superseded_by)

    def note(self) -> str:
        """Plain words for a clinician, "" for a current edition."""
        if not self.superseded:
            return ""
        when = f" of {self.superseded_by_date}" if self.superseded_by_date else ""
        return f"superseded by the edition{when} ({Path(self.superseded_by).name})"

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "superseded": self.superseded}


@dataclass
class Editions:
    """The editions of a collection: `of[path]` for every document in a series of two or more."""

    of: dict[str, Edition] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # e.g. a declared predecessor not in the collection

    def superseded(self, path: str) -> Edition | None:
        e = self.of.get(path)
        return e if e is not None and e.superseded else None

    def older(self, path: str) -> list[str]:
        """The editions of `path`'s series older than it (every superseded one, for the current edition)."""
        me = self.of.get(path)
        if me is None:
            return []
        series = self.current_of(path)
        return sorted(p for p, e in self.of.items() if p != path and self.current_of(p) == series
                      and e.superseded and (not me.superseded or e.date < me.date))

    def current_of(self, path: str) -> str:
        """The current edition's path for any document (itself when current or in no series)."""
        e = self.of.get(path)
        return e.superseded_by if e is not None and e.superseded else path


def _resolve(raw: str, documents: Mapping[str, Any]) -> str | None:
    if raw in documents:
        return raw
    try:
        full = str(Path(raw).expanduser().resolve())
    except OSError:
        full = raw
    if full in documents:
        return full
    named = [p for p in documents if Path(p).name == Path(raw).name]
    return named[0] if len(named) == 1 else None


def editions(documents: Mapping[str, Mapping[str, Any]]) -> Editions:
    """Group the manifest's documents into series and mark the superseded editions (module docstring)."""
    out = Editions()
    newer: dict[str, str] = {}  # old path -> the path declared to supersede it
    for path, d in documents.items():
        raw = (d.get("tags") or {}).get("supersedes", "")
        for old in (x.strip() for x in str(raw).split(";") if x.strip()):
            found = _resolve(old, documents)
            if found is None:
                out.problems.append(f"{Path(path).name} is declared to supersede {old}, which is not in this collection")
            elif found != path:
                newer[found] = path
    # union of declared links, series tags and title keys
    parent: dict[str, str] = {p: p for p in documents}

    def root(p: str) -> str:
        while parent[p] != p:
            parent[p] = parent[parent[p]]
            p = parent[p]
        return p

    how: dict[str, str] = {}
    by_key: dict[str, str] = {}
    for path, d in sorted(documents.items()):
        tags = d.get("tags") or {}
        key = ("tag:" + str(tags["series"]).strip().lower()) if tags.get("series") else "title:" + series_key(d.get("title", "") or Path(path).stem)
        if key in ("title:", "tag:"):
            continue
        if key in by_key:
            parent[root(path)] = root(by_key[key])
            how.setdefault(path, "series tag" if key.startswith("tag:") else "same title")
            how.setdefault(by_key[key], how[path])
        else:
            by_key[key] = path
    for old, new in newer.items():
        parent[root(old)] = root(new)
        how[old] = how[new] = "declared"
    groups: dict[str, list[str]] = {}
    for p in documents:
        groups.setdefault(root(p), []).append(p)
    for members in groups.values():
        if len(members) < 2:
            continue
        current = _current(members, documents, newer)
        if current is None:
            continue
        cur = documents[current]
        for p in members:
            d = documents[p]
            tags = d.get("tags") or {}
            sup = p != current
            out.of[p] = Edition(
                path=p, series=series_key(d.get("title", "")) or Path(p).stem, date=document_date(d),
                version=str(tags.get("version", "")), how=how.get(p, "same title"),
                superseded_by=current if sup else "", superseded_by_date=document_date(cur) if sup else "",
                superseded_by_title=cur.get("title", "") if sup else "", editions=len(members))
    return out


def _current(members: list[str], documents: Mapping[str, Mapping[str, Any]], newer: dict[str, str]) -> str | None:
    """The current edition of a series; None when nothing tells the editions apart."""
    declared_old = {p for p in members if p in newer}
    candidates = [p for p in members if p not in declared_old]
    if not candidates:
        return None

    def order(p: str) -> tuple:
        d = documents[p]
        return (document_date(d), _version_order(str((d.get("tags") or {}).get("version", ""))))

    ranked = sorted(candidates, key=order, reverse=True)
    if len(ranked) > 1 and order(ranked[0]) == order(ranked[1]) and not declared_old:
        return None  # same date and version: copies or parts, not editions
    return ranked[0]


def prefer_current(passages: Sequence[Any], eds: Editions) -> list[Any]:
    """`passages` (anything with `.source`) reordered: a passage of an older edition goes right after
    the first passage of the newest edition of its series among them (the current one, else the
    newest superseded one) when that one ranks lower; without a newer edition among them it keeps
    its place. Stable for everything else."""
    if not eds.of:
        return list(passages)
    present = {p.source for p in passages if p.source in eds.of}
    age = {s: (not eds.of[s].superseded, eds.of[s].date) for s in present}
    newest: dict[str, str] = {}
    for s in present:
        series = eds.current_of(s)
        best = max((x for x in present if eds.current_of(x) == series), key=lambda x: age[x])
        if best != s and age[best] > age[s]:
            newest[s] = best
    out: list[Any] = []
    waiting: dict[str, list[Any]] = {}
    seen: set[str] = set()
    for p in passages:
        target = newest.get(p.source)
        if target is not None and target not in seen:
            waiting.setdefault(target, []).append(p)
            continue
        out.append(p)
        seen.add(p.source)
        out.extend(waiting.pop(p.source, []))
    for rest in waiting.values():
        out.extend(rest)
    return out


_CACHE: dict[tuple, Editions] = {}


def of_manifest(manifest) -> Editions:
    """`editions(manifest.documents)`, computed once per manifest version (None: no editions)."""
    if manifest is None:
        return Editions()
    key = (manifest.collection, manifest.updated_at, len(manifest.documents), id(manifest.documents))
    if key not in _CACHE:
        if len(_CACHE) > 32:
            _CACHE.clear()
        _CACHE[key] = editions(manifest.documents)
    return _CACHE[key]


__all__ = ["annotate", "of_manifest", "Edition", "Editions", "editions", "prefer_current", "series_key"]


def annotate(infos: list, manifest) -> list:
    """`DocumentInfo`s with their edition fields (superseded_by, superseded_by_date, editions)."""
    from dataclasses import replace

    eds = of_manifest(manifest)
    out = []
    for i in infos:
        e = eds.of.get(i.path)
        out.append(i if e is None else replace(i, superseded_by=e.superseded_by,
                                                superseded_by_date=e.superseded_by_date, editions=e.editions))
    return out
