"""ragmed: private, fully on-device medical RAG.

    from ragmed import RagMed
    rag = RagMed(collection="clinic")
    rag.ingest(["corpora/"])
    answer = rag.ask("When should a patient be referred urgently?")
    passages = rag.search("amlodipine dose", k=5, filter=SearchFilter(tags={"dept": "cardiology"}))
    print(answer.answer, [c.source for c in answer.citations])

Importing ragmed is cheap: models, Chroma and llama.cpp load lazily on first use.
"""

from __future__ import annotations

from .version import __version__

from .config import Settings
from .errors import (
    CollectionNotFoundError,
    ConfigError,
    DependencyMissingError,
    DiskFullError,
    DocumentError,
    IndexBusyError,
    IndexMismatchError,
    InputError,
    ModelNotFoundError,
    RagmedError,
)
from .retrieve.filters import SearchFilter
from .types import (
    Answer,
    Chunk,
    Citation,
    Compression,
    DocumentInfo,
    DocumentReport,
    IngestReport,
    Page,
    PageIssue,
    Passage,
    Timings,
    Turn,
    Usage,
)
from .conversation import Conversation

__all__ = [
    "RagMed",
    "SearchFilter",
    "Settings",
    "Answer",
    "Chunk",
    "Citation",
    "Compression",
    "DocumentInfo",
    "DocumentReport",
    "IngestReport",
    "Page",
    "PageIssue",
    "Passage",
    "Timings",
    "Usage",
    "Turn",
    "Conversation",
    "RagmedError",
    "ConfigError",
    "CollectionNotFoundError",
    "DependencyMissingError",
    "DocumentError",
    "DiskFullError",
    "IndexBusyError",
    "IndexMismatchError",
    "InputError",
    "ModelNotFoundError",
    "__version__",
]


def __getattr__(name: str):
    if name == "RagMed":
        from .api import RagMed

        return RagMed
    raise AttributeError(f"module 'ragmed' has no attribute {name!r}")
