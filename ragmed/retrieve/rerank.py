"""Reranking stage: re-order the top candidates with a model that reads query and passage together.

`Reranker` is the interface; `CrossEncoderReranker` loads a sentence-transformers cross-encoder from a
local folder (e.g. a MedCPT or ms-marco cross-encoder the user has downloaded), offline. Reranking is
off unless a model is configured (`--reranker PATH` or `RAGMED_RERANKER`), because no cross-encoder
ships with ragmed and an untrained one would only shuffle the ranking.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from pathlib import Path
from typing import Sequence

from ..errors import DependencyMissingError, ModelNotFoundError
from ..interfaces import Reranker
from ..types import Passage, chunk_embed_text

log = logging.getLogger(__name__)
_LOADED: dict[str, object] = {}
_LOCK = threading.Lock()


def rerank(reranker: Reranker, query: str, passages: Sequence[Passage], depth: int) -> list[Passage]:
    """Re-order the first `depth` passages by the reranker's score; the rest keep their order after.

    Each reranked passage gets `scores["rerank"]`, `ranks["rerank"]` and the rerank score as `score`.
    """
    head, tail = list(passages[:depth]), list(passages[depth:])
    if not head:
        return list(passages)
    texts = [chunk_embed_text(p.title, p.section, p.text) for p in head]
    s = reranker.scores(query, texts)
    order = sorted(range(len(head)), key=lambda i: (-s[i], i))
    out = []
    for r, i in enumerate(order, 1):
        p = head[i]
        out.append(replace(p, score=float(s[i]), scores={**p.scores, "rerank": float(s[i])},
                           ranks={**p.ranks, "rerank": r}))
    return [replace(p, rank=n) for n, p in enumerate(out + tail, 1)]


class CrossEncoderReranker:
    """A sentence-transformers CrossEncoder from a local folder (loaded once per process)."""

    def __init__(self, path: str | Path, batch_size: int = 32, max_length: int = 512):
        p = Path(path).expanduser()
        if not (p / "config.json").is_file():
            raise ModelNotFoundError(
                f"Reranker {str(path)!r} is not a local cross-encoder folder (no config.json). Pass the "
                "folder of a downloaded sentence-transformers cross-encoder with --reranker."
            )
        self.path = p.resolve()
        self.id = f"cross-encoder:{self.path.name}"
        self.batch_size = batch_size
        self.max_length = max_length

    @property
    def model(self):
        key = str(self.path)
        with _LOCK:
            if key not in _LOADED:
                from ..embed.offline import force_offline

                force_offline()
                try:
                    from sentence_transformers import CrossEncoder
                except ImportError as exc:  # pragma: no cover
                    raise DependencyMissingError("sentence-transformers is not installed: run `make setup`.") from exc
                log.info("loading reranker %s", key)
                _LOADED[key] = CrossEncoder(key, device="cpu", max_length=self.max_length, local_files_only=True)
            return _LOADED[key]

    def scores(self, query: str, texts: Sequence[str]) -> list[float]:
        if not texts:
            return []
        out = self.model.predict([(query, t) for t in texts], batch_size=self.batch_size,
                                 show_progress_bar=False, convert_to_numpy=True)
        return [float(x) for x in out.reshape(len(texts), -1)[:, -1]]
