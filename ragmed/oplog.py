"""The operational log: what the server did and how long it took, never what anyone asked or read.

One line per event on the `ragmed.ops` logger, `event key=value ...` (issue 22): the server's start,
the embedder's and the model's load times, each ingest's result (file name, status, pages, chunks,
seconds), each answer's duration and outcome (answered, withheld, refused, evidence, error), each
removal or restore. The value types are restricted (`event` refuses anything else): numbers, booleans
and short identifiers from a fixed vocabulary or file names. Question text, answer text, passages,
quotes and error messages (which may quote a document) are never logged; `make_handler` writes the
lines to a file with timestamps (`ragmed serve --log-file`, default <index_dir>/logs/ragmed-ops.log)
and to stderr.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from .files import private_dir

LOGGER = "ragmed.ops"
log = logging.getLogger(LOGGER)
# What a string value may look like: an identifier, a status word, a model or file name. Anything with
# spaces (a sentence) is refused, so a question cannot slip into the log by mistake.
_TOKEN = re.compile(r"^[\w.\-+@:/()]{0,160}$")
_FILE_NAME = re.compile(r"^[^\x00-\x1f\x7f]{0,160}$")  # `file=`: a file name may hold spaces (quoted)
OUTCOMES = ("answered", "withheld", "not_found", "refused", "evidence", "error", "cancelled")


def _value(key: str, value) -> str:
    if isinstance(value, bool) or value is None:
        return str(value).lower()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.3f}"
    text = str(value)
    if key == "file" and _FILE_NAME.match(text) and not _TOKEN.match(text):
        return '"' + text.replace('"', "'") + '"'
    if not _TOKEN.match(text):
        raise ValueError(f"oplog: {key}={text[:20]!r}... is not a short identifier; the operational log "
                         "takes no free text (question, answer or document text).")
    return text


def event(name: str, **fields) -> None:
    """Log one operational event: `name` and `fields` as `key=value` (see the module docstring)."""
    log.info("%s %s", _value("event", name), " ".join(f"{k}={_value(k, v)}" for k, v in fields.items()))


def outcome(answer) -> str:
    """An `Answer`'s outcome word: refused (the gate), withheld (no supported sentence), not_found
    (the model said the passages do not answer), evidence (evidence mode) or answered."""
    ab = getattr(answer, "abstention", None)
    if ab is not None:
        return {"gate": "refused", "model": "not_found"}.get(ab.stage, "withheld")
    if str(getattr(answer, "model", "")).startswith("evidence"):
        return "evidence"
    return "answered"


def make_handler(path: Path | None) -> list[logging.Handler]:
    """Attach file (when `path`) and stderr handlers to the `ragmed.ops` logger at INFO; returns them."""
    fmt = logging.Formatter("%(asctime)s %(message)s", "%Y-%m-%dT%H:%M:%S%z")
    handlers: list[logging.Handler] = [logging.StreamHandler()]
    if path is not None:
        private_dir(Path(path).parent)
        handlers.append(logging.FileHandler(path, encoding="utf-8"))
    for h in handlers:
        h.setFormatter(fmt)
        log.addHandler(h)
    log.setLevel(logging.INFO)
    log.propagate = False
    return handlers


__all__ = ["event", "outcome", "make_handler", "LOGGER", "OUTCOMES"]
