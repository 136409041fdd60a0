"""Failpoints for crash testing: `RAGMED_FAILPOINT=name:n` kills the process (SIGKILL) the n-th time
the named point is reached (n defaults to 1). Unset in normal use; reading one env var is the cost.

Named points (in ingestion order): extract.parse (in the PDF worker process), ingest.announced, ingest.upserted, lexical.version_written,
ingest.committed, lexical.rebuild_saved (new BM25 build on disk, not yet current),
lexical.current_written (new build current, old builds not yet deleted), manifest.tmp_written (any
manifest save: the new manifest is on disk under a temporary name, not yet renamed over the old).
Distributed corpus builds (ingest/distributed.py): scale.announced (a shard recorded as pending),
scale.committed (a shard committed in the manifest).
"""

from __future__ import annotations

import os
import signal

from .config import failpoint_spec

_hits: dict[str, int] = {}


def failpoint(name: str) -> None:
    spec = failpoint_spec()
    if not spec:
        return
    target, _, nth = spec.partition(":")
    if target != name:
        return
    _hits[name] = _hits.get(name, 0) + 1
    if _hits[name] >= int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
