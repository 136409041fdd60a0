"""The few exceptions users see. Each message says what to do next."""

from __future__ import annotations


class RagmedError(Exception):
    """Base class: the CLI prints these as one friendly line and exits non-zero."""


class ConfigError(RagmedError):
    """A setting is invalid."""


class IndexMismatchError(RagmedError):
    """The index was built with a different embedder or chunker than the one requested."""


class CollectionNotFoundError(RagmedError):
    """The named collection has not been created (nothing ingested yet)."""


class IndexBusyError(RagmedError):
    """Another process is writing to this collection."""


class DiskFullError(RagmedError):
    """The disk filled up while writing the index; the document being written was not committed."""


class ModelNotFoundError(RagmedError):
    """A model name or path does not resolve to a model on this machine."""


class DependencyMissingError(RagmedError):
    """An optional dependency is needed for the requested feature."""


class DocumentError(RagmedError):
    """A single input file cannot be read (encrypted, corrupt, empty, not a PDF...)."""


class InputError(RagmedError):
    """A question or argument is unusable as given."""


class UpstreamError(RagmedError):
    """A service ragmed calls (the Chroma server, a remote generator) failed: its answer was unusable
    (HTTP API: 502 Bad Gateway)."""


class UpstreamUnavailableError(UpstreamError):
    """A service ragmed calls cannot be reached (HTTP API: 503 Service Unavailable)."""


class ChromaServerError(UpstreamUnavailableError):
    """Server mode: the Chroma server cannot be reached (the message names the URL)."""
