"""Index folders are private: every folder ragmed creates for an index is user-only (0700)."""

from __future__ import annotations

from ..files import private_dir  # noqa: F401 (re-exported)
