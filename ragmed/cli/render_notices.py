"""The notices a clinician must read before any dose: printed first, above the evidence sentences.

`ground/release.for_clinician` picks them from an answer's notices: who the guidance is for
("Your question is about children; protocol.pdf, page 1 (p. 2) says: "It does not cover ...
children ..."", ground/population.py), superseded editions and sources that disagree
(ground/currency.py). Every human-readable CLI answer (`ask` in both modes, streamed or not, and
`chat`) prints them with `lead` before "From your documents:" and the answer; `trust` (render.py)
prints after the answer only the notices not already led (technical warnings, on stderr, and any
clinician notice found only once the model's citations were known). One CLI process prints one
answer at a time, so what was led is kept here until that answer's footer takes it (`not_led`).
"""

from __future__ import annotations

import click

_led: list[str] = []


def lead(notices: list[str] | None) -> None:
    """Print the clinician notices of `notices` first (yellow, bold), and remember them."""
    from ..ground.release import for_clinician

    found = [n for n in for_clinician(list(notices or [])) if n not in _led]
    for note in found:
        click.echo(click.style(note, fg="yellow", bold=True))
    if found:
        click.echo("")
    _led.extend(found)


def not_led(notices: list[str]) -> list[str]:
    """`notices` without those `lead` printed for this answer; forgets them (the next answer starts afresh)."""
    rest = [n for n in notices if n not in _led]
    _led.clear()
    return rest
