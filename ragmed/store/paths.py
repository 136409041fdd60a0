"""Index folders are private: every folder ragmed creates for an index is user-only (0700)."""

from __future__ import annotations

import os
from pathlib import Path


def private_dir(path: str | Path) -> Path:
    """`mkdir -p`, creating each missing folder with mode 0700 (the umask can only remove bits).
    Folders that already exist are left as the user made them."""
    path = Path(path)
    missing = []
    p = path
    while not p.exists():
        missing.append(p)
        if p.parent == p:
            break
        p = p.parent
    for d in reversed(missing):
        try:
            os.mkdir(d, 0o700)
        except FileExistsError:
            pass
    return path
