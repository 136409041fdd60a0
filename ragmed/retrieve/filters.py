"""Metadata filters: which documents and sections a search may return.

Document-level conditions (document, tags, date) are resolved against the manifest into the set of
document versions allowed; the section condition is resolved against the lexical catalogue into the
exact section paths allowed. Both sides of hybrid search then apply the same sets, so a filter never
lets the lexical and dense rankings disagree about what is visible.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from ..errors import InputError
from ..store.manifest import Manifest
from ..types import document_date

_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


_KEYS = ("documents", "sections", "tags", "after", "before")


@dataclass(frozen=True)
class SearchFilter:
    """Restrict a search. Every given condition must hold (AND); within a list, any value (OR).

    documents: a document's path, file name or title contains one of these (case-insensitive)
    sections:  the chunk's section path ("Part > Chapter > Section") contains one of these
    tags:      the document was ingested with all of these `--tag key=value` pairs
    after/before: the document's date (its `date` tag, else the PDF's creation date, else the
               file's modification date) is on/after, on/before this ISO date (YYYY[-MM[-DD]])
    """

    documents: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    after: str | None = None
    before: str | None = None

    @classmethod
    def of(cls, value: "SearchFilter | Mapping[str, Any] | None") -> "SearchFilter | None":
        """A filter from what callers pass: a `SearchFilter`, None, or a plain dict with the same keys
        as the HTTP API's `filter` ({"documents": [...], "sections": [...], "tags": {...}, "after":
        "YYYY[-MM[-DD]]", "before": ...}; a single string is one value). Raises `InputError` for any
        other type, an unknown key or a malformed date."""
        if value is None or isinstance(value, cls):
            return value
        if not isinstance(value, Mapping):
            raise InputError(f"filter must be a SearchFilter or a dict with keys {', '.join(_KEYS)}, "
                             f"not {type(value).__name__}.")
        unknown = sorted(set(value) - set(_KEYS))
        if unknown:
            raise InputError(f"Unknown filter field(s) {', '.join(map(str, unknown))}: use {', '.join(_KEYS)}.")

        def many(v: Any) -> tuple[str, ...]:
            return (v,) if isinstance(v, str) else tuple(v or ())

        return cls(documents=many(value.get("documents")), sections=many(value.get("sections")),
                   tags=dict(value.get("tags") or {}), after=value.get("after"), before=value.get("before"))

    def __post_init__(self) -> None:
        for name in ("after", "before"):
            v = getattr(self, name)
            if v is not None and not _DATE.match(v):
                raise InputError(f"--{name} {v!r} is not a date: use YYYY, YYYY-MM or YYYY-MM-DD.")

    @property
    def empty(self) -> bool:
        return not (self.documents or self.sections or self.tags or self.after or self.before)

    def describe(self) -> str:
        """The conditions in words, as the CLI spells them (for "the filter matched no document")."""
        parts = [f"--doc {d}" for d in self.documents] + [f"--section {x}" for x in self.sections]
        parts += [f"--tag {k}={v}" for k, v in self.tags.items()]
        parts += [f"--{n} {getattr(self, n)}" for n in ("after", "before") if getattr(self, n)]
        return " ".join(parts)

    @property
    def document_level(self) -> bool:
        return bool(self.documents or self.tags or self.after or self.before)

    def allowed_shas(self, manifest: Manifest) -> list[str]:
        """Committed document versions that pass the document-level conditions."""
        out = []
        for path, d in manifest.documents.items():
            if self._document_ok(path, d):
                out.append(d["sha256"])
        return sorted(set(out))

    def _document_ok(self, path: str, d: dict[str, Any]) -> bool:
        if self.documents:
            hay = [path.lower(), Path(path).name.lower(), str(d.get("title", "")).lower()]
            if not any(q.lower() in h for q in self.documents for h in hay):
                return False
        tags = d.get("tags", {})
        if any(tags.get(k) != v for k, v in self.tags.items()):
            return False
        date = document_date(d)
        if self.after and (not date or date[: len(self.after)] < self.after):
            return False
        if self.before and (not date or date[: len(self.before)] > self.before):
            return False
        return True

    def allowed_sections(self, sections: Iterable[str]) -> list[str] | None:
        """Exact section paths matching the section condition (None: no section condition)."""
        if not self.sections:
            return None
        wanted = [s.lower() for s in self.sections]
        return sorted({s for s in sections if any(w in s.lower() for w in wanted)})

    def to_dict(self) -> dict[str, Any]:
        return {"documents": list(self.documents), "sections": list(self.sections), "tags": dict(self.tags),
                "after": self.after, "before": self.before}


def parse_tags(pairs: Iterable[str]) -> dict[str, str]:
    """`["dept=cardiology", "year=2024"]` -> dict; a pair without '=' is an error."""
    out: dict[str, str] = {}
    for raw in pairs:
        key, sep, value = raw.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value:
            raise InputError(f"Tag {raw!r} is not key=value (for example --tag department=cardiology).")
        if not re.match(r"^[A-Za-z0-9_.-]+$", key):
            raise InputError(f"Tag key {key!r} may use only letters, digits, '_', '.' and '-'.")
        out[key] = value
    return out
