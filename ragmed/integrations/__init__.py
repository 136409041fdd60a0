"""Adapters that plug ragmed into other frameworks.

    from ragmed.integrations.langchain import RagMedRetriever, answer_runnable

Each adapter lives in its own module and imports its framework only when that module is imported,
so `import ragmed` (and `import ragmed.integrations`) never needs them. A missing framework gives
`DependencyMissingError` with the install command.
"""

from __future__ import annotations

_LANGCHAIN = ("RagMedRetriever", "RagMedAnswerer", "answer_runnable", "passage_to_document")

__all__ = list(_LANGCHAIN)


def __getattr__(name: str):
    if name in _LANGCHAIN:
        from . import langchain

        return getattr(langchain, name)
    raise AttributeError(f"module 'ragmed.integrations' has no attribute {name!r}")
