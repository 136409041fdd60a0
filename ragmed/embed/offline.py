"""The process environment ragmed sets for third-party libraries, in one place (what ragmed reads
from the environment is in config.py): Hugging Face offline and quiet (every embedder and
cross-encoder), the command line's process defaults, Tesseract's thread limit."""

from __future__ import annotations

import os


def force_offline() -> None:
    """Make Hugging Face libraries work from local files only (no network, no telemetry)."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def process_defaults() -> None:
    """Process-wide library switches, set once when the command line starts: one BLAS thread
    (numpy's BLAS and torch fight over a laptop's few cores), no tokenizer threads, no hub access,
    no progress bars from the hub, no Chroma telemetry."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
    os.environ["ANONYMIZED_TELEMETRY"] = "False"


def limit_tesseract_threads() -> None:
    """One Tesseract thread unless the user set OMP_THREAD_LIMIT: its OpenMP threads slow it down
    several times on shared or small CPUs (Tesseract's own advice, tesseract-ocr/tesseract#898);
    ingestion is one page at a time anyway."""
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")


def quiet_transformers() -> None:
    """No weight-loading progress bars or max-length warnings on the user's terminal."""
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
    except Exception:  # pragma: no cover - transformers internals moved
        pass
