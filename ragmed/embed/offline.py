"""Hugging Face libraries, offline and quiet: shared by every embedder and cross-encoder."""

from __future__ import annotations

import os


def force_offline() -> None:
    """Make Hugging Face libraries work from local files only (no network, no telemetry)."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def quiet_transformers() -> None:
    """No weight-loading progress bars or max-length warnings on the user's terminal."""
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
    except Exception:  # pragma: no cover - transformers internals moved
        pass
