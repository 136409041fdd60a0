"""`ragmed ask`'s progress on stderr: the real stage of the answer with the seconds since the question
(searching, loading the model, reading the passages, writing), so the wait before the first word is
never silent and never shown as retrieval. Printed only for a person watching a terminal."""

from __future__ import annotations

import sys
import time
from typing import Iterable, Iterator

import click


def staged(events: Iterable, rag, show: bool | None = None) -> Iterator:
    """Pass `RagMed.ask_stream` events through, printing each new stage to stderr as it starts."""
    show = sys.stderr.isatty() if show is None else show
    t0 = time.perf_counter()
    said: set[str] = set()

    def say(stage: str, text: str) -> None:
        if show and stage not in said:
            said.add(stage)
            click.echo(click.style(f"[{time.perf_counter() - t0:5.1f} s] {text}", dim=True), err=True)

    say("search", "searching your documents...")
    for event in events:
        if event.kind == "evidence":
            yield event
            say("model", "loading the model (first question of this run)..." if rag._generator is None
                else "the model is reading the passages...")
            continue
        if event.kind in ("reasoning", "answer", "flagged"):
            say("write", "writing; each sentence is checked before it is shown (Ctrl+C stops)...")
        yield event
