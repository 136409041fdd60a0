"""The HTTP API's errors: one status table and one JSON shape for every error response.

Shape (OpenAI's): {"error": {"message", "type", "code"}}, `code` equal to the HTTP status. Used by the
routes (app.py), the request guard (middleware.py), the SSE "error" event (service.py) and FastAPI's
validation errors (422).
"""

from __future__ import annotations

from typing import Any

STATUS = {
    "InputError": 400, "ConfigError": 400, "DocumentError": 422, "CollectionNotFoundError": 404,
    "IndexBusyError": 409, "IndexMismatchError": 409, "ModelNotFoundError": 503, "DiskFullError": 507,
    "DependencyMissingError": 501, "UploadTooLarge": 413, "QueueFull": 503,
    # the Chroma server or a remote generator: unreachable 503, an unusable answer 502 (errors.py)
    "UpstreamUnavailableError": 503, "UpstreamError": 502,
    "RagmedError": 500,  # any other of ragmed's errors: a condition on the server, its message kept
}


def status_of(exc: BaseException) -> int:
    """The HTTP status of an exception: its class's, or the nearest base class's, in STATUS; else 500."""
    for cls in type(exc).__mro__:
        if cls.__name__ in STATUS:
            return STATUS[cls.__name__]
    return 500


def error_payload(message: str, kind: str, status: int) -> dict[str, Any]:
    """The one JSON error shape of every response (OpenAI's): {"error": {"message", "type", "code"}},
    where `code` is the HTTP status."""
    return {"error": {"message": message, "type": kind, "code": status}}


def error_body(exc: BaseException) -> dict[str, Any]:
    """The error shape for an exception. Only ragmed's own errors (and those in STATUS) show their
    message; anything else is an internal error whose details stay in the server log."""
    from ..errors import RagmedError

    kind = type(exc).__name__
    known = isinstance(exc, RagmedError) or kind in STATUS
    message = str(exc) if known else "Internal error; the server log has the details."
    return error_payload(message, kind if known else "InternalError", status_of(exc))
