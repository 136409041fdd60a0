"""What a collection knows about its documents, beyond their passages: shown labels (folders when
file names collide, ingest/identity.py), dates, versions and editions (store/versions.py), conflicts
between sources (ground/conflicts.py) and OCR provenance. Mixed into `RagMed` (api.py), which
provides `index`, `retriever` and `embedder`.
"""

from __future__ import annotations

from pathlib import Path

from .errors import InputError
from .types import DocumentInfo, Passage


class DocumentKnowledge:
    """Methods of `RagMed` about documents' identity and currency (see the module docstring)."""

    def source_labels(self) -> dict[str, str]:
        """{path: label} of the collection's documents: file names, with the shortest distinguishing
        folders when names collide (ingest/identity.py); cached per manifest version."""
        from .ingest.identity import source_labels

        m = self.index.manifest(cached=True)
        if m is None:
            return {}
        key = (m.updated_at, len(m.documents))
        if getattr(self, "_labels_key", None) != key:
            self._labels, self._labels_key = source_labels(m.documents), key
        return self._labels

    def labelled(self, passages: list[Passage]) -> list[Passage]:
        """`passages` with their `label` set (see `source_labels`)."""
        from dataclasses import replace

        labels = self.source_labels()
        return [replace(p, label=labels.get(p.source, "")) if labels.get(p.source) else p for p in passages]

    def with_currency(self, citations: list) -> list:
        """Add each cited document's date, version and, for a superseded edition, the edition that
        replaces it (store/versions.py) to its citations; and its shown label (folders when names
        collide, ingest/identity.py) and OCR provenance of the cited page (ingest/formats.py)."""
        from dataclasses import replace

        from .ground.currency import editions_of, mark_citations
        from .ingest.formats import ocr_citation

        m = self.index.manifest(cached=True)
        if m is None:
            return citations
        labels = self.source_labels()
        out = []
        for c in mark_citations(citations, m.documents, editions_of(m)):
            d = m.documents.get(c.source, {})
            out.append(replace(c, label=labels.get(c.source, ""), ocr=ocr_citation(d, c.page, c.page)))
        return out

    # -- editions, conflicts and dates (issue 25; ground/currency.py, store/versions.py) -----------
    def editions(self):
        """The collection's editions (`store.versions.Editions`): which documents are superseded."""
        from .store.versions import of_manifest

        return of_manifest(self.index.manifest(cached=True))

    def currency(self, question: str, passages: list[Passage], found: list) -> tuple[list, list]:
        """(evidence sentences marked and ordered, current editions first; conflicts among the
        passages' statements that bear on the question)."""
        from .ground.currency import editions_of, mark_evidence, review
        from .retrieve.filters import SearchFilter

        m = self.index.manifest(cached=True)
        if m is None:
            return found, []

        def search(q: str, k: int, path: str) -> list[Passage]:
            return self.retriever.search(q, k, filter=SearchFilter(documents=(path,)))

        return mark_evidence(found, passages, editions_of(m)), review(question, passages, self.embedder, m, search)

    @staticmethod
    def currency_notices(citations: list, conflicts: list) -> list[str]:
        from .ground.currency import notices

        return notices(citations, conflicts)

    @staticmethod
    def renumbered(conflicts: list, passages: list[Passage]) -> list:
        from .ground.conflicts import renumbered

        return renumbered(conflicts, passages)

    def set_date(self, path: str | Path, date: str) -> DocumentInfo:
        """Correct a document's date (admin): YYYY, YYYY-MM or YYYY-MM-DD; recorded as "set by
        admin". A `date` tag of the document is removed (it would hide the correction). Raises
        InputError for a malformed date or a document not in the collection."""
        from .ingest.dates import checked_date
        from .store.manifest import now

        try:
            value = checked_date(date)
        except ValueError as exc:
            raise InputError(str(exc)) from None
        with self.index.write_lock():
            m = self.index.require_manifest()
            key = str(Path(path).expanduser().resolve()) if str(path) not in m.documents else str(path)
            if key not in m.documents:
                raise InputError(f"{path} is not in this collection (see `ragmed docs list`).")
            d = m.documents[key]
            (d.get("tags") or {}).pop("date", None)
            d.update(date=value, date_source="set by admin", date_evidence=f"corrected on {now()[:10]}")
            m.save()
        return next(i for i in self.documents() if i.path == key)

    # -- who the guidance is for (ground/population.py) -----------------------------------------
    def population_notices(self, question: str, passages: list[Passage]) -> list[str]:
        """Notices when `question` is about a population (children, pregnancy, renal impairment ...)
        that the passages do not speak of, or that a sentence of their documents excludes from the
        documents' scope ("It does not cover pregnancy, children ..."). The scope sentences are
        looked for with one more search, restricted to the passages' documents."""
        from .ground.population import population_notices, question_populations
        from .retrieve.filters import SearchFilter

        pops = question_populations(question)
        if not pops or not passages:
            return []
        docs = tuple(dict.fromkeys(p.source for p in passages))
        scope = self.retriever.search(f"does not cover {' '.join(sorted(pops))} scope", 3,
                                      filter=SearchFilter(documents=docs))
        return population_notices(question, passages, scope)
