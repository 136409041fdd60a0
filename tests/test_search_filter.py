"""`RagMed.search` takes a filter as a `SearchFilter` or as the plain dict the HTTP API takes; the date
rule of filters, citations and listings is one function."""

from __future__ import annotations

import pytest

from ragmed.errors import InputError
from ragmed.retrieve.filters import SearchFilter
from ragmed.store.manifest import document_date_source
from ragmed.types import document_date

Q = "How often are stable patients seen for follow-up?"


def test_search_accepts_a_plain_dict_filter(demo_rag):
    typed = demo_rag.search(Q, k=3, filter=SearchFilter(documents=("hypertension",), after="2000"))
    as_dict = demo_rag.search(Q, k=3, filter={"documents": ["hypertension"], "after": "2000"})
    assert typed and [p.id for p in as_dict] == [p.id for p in typed]
    assert demo_rag.search(Q, k=3, filter={"documents": "no-such-document"}) == []
    with pytest.raises(InputError, match="Unknown filter field.*documents, sections, tags, after, before"):
        demo_rag.search(Q, filter={"document": "hypertension"})
    with pytest.raises(InputError, match="SearchFilter or a dict"):
        demo_rag.search(Q, filter=["hypertension"])
    with pytest.raises(InputError, match="not a date"):
        demo_rag.search(Q, filter={"after": "last year"})


def test_one_date_rule():
    assert document_date({"tags": {"date": "2024-01-02"}, "date": "2020-05-01"}) == "2024-01-02"
    assert document_date({"tags": {}, "date": "2020-05-01"}) == "2020-05-01"
    assert document_date({"tags": None}) == ""
    assert document_date_source({"tags": {"date": "2024-01-02"}, "date_source": "document text"}) == "tag"
    assert document_date_source({"tags": {}, "date_source": "document text"}) == "document text"
    assert document_date_source({}) == ""
    f = SearchFilter(after="2021")
    assert f._document_ok("a.pdf", {"tags": {"date": "2024-01-02"}, "date": "2020-05-01"})
    assert not f._document_ok("a.pdf", {"tags": {}, "date": "2020-05-01"})
