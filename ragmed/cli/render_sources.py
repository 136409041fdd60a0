"""The source lines under an answer: every [n] on screen (the answer's citations and the evidence
sentences it does not cite) with its document, page, title and quote."""

from __future__ import annotations

from pathlib import Path

import click


def sources(answer) -> None:
    click.echo("")
    if answer.citations:
        click.echo("Sources:")
        for c in answer.citations:
            sec = f", {c.section}" if c.section else ""
            when = ", ".join(x for x in (f"version {c.version}" if c.version else "",
                                         f"dated {c.date}" if c.date else "") if x)
            about = f"{c.title} ({when})" if c.title and when else c.title or when
            click.echo(f"  [{c.n}] {c.label or Path(c.source).name}, page {c.page_label} (p. {c.page}){sec}")
            if about:
                click.echo(f"      {about}")
            if c.ocr:
                click.echo(f"      {c.ocr}")
            if c.superseded:
                click.echo(click.style(f"      SUPERSEDED: {c.superseded}", fg="yellow"))
            click.echo(f"      \u201c{c.quote}\u201d")
        _evidence_sources(answer)
    else:
        click.echo("(The answer cites none of the passages. Retrieved passages:)")
        from ..prompt.grounded import describe

        for n, p in enumerate(answer.passages, 1):
            click.echo(f"  [{n}] {describe(p, physical=True)}")
    if answer.invalid_citations:
        click.echo(f"Note: citation(s) {answer.invalid_citations} named no retrieved passage and were removed.")
    if answer.usage.passages_dropped:
        click.echo(f"Note: {answer.usage.passages_dropped} retrieved passage(s) did not fit the context and were left out.")


def _evidence_sources(answer) -> None:
    """The sources of evidence sentences ("From your documents") that the answer itself does not
    cite, so every [n] on screen has its source line."""
    cited = {c.n for c in answer.citations}
    seen = set()
    for e in getattr(answer, "evidence", None) or []:
        if e.n in cited or e.n in seen:
            continue
        seen.add(e.n)
        sec = f", {e.section}" if e.section else ""
        ps = answer.passages
        p = ps[e.n - 1] if 0 < e.n <= len(ps) and ps[e.n - 1].id == e.passage_id else None
        name = (p.label if p is not None and p.label else "") or Path(e.source).name
        click.echo(f"  [{e.n}] {name}, page {e.page_label} (p. {e.page}){sec}")
        if p is not None and p.title:
            click.echo(f"      {p.title}")
        if getattr(e, "superseded", ""):
            click.echo(click.style(f"      SUPERSEDED: {e.superseded}", fg="yellow"))
        click.echo(f"      \u201c{e.text}\u201d")
