"""The source lines under an answer: every [n] on screen (the answer's citations and the evidence
sentences it does not cite) with its document, page, section, title, date and quote, in one form
(`source_line`) whatever cites it and in both modes."""

from __future__ import annotations

from pathlib import Path

import click


def source_line(n: int, name: str, page_label: str, page: int, section: str, title: str, quote: str,
                version: str = "", date: str = "", ocr: str = "", superseded: str = "") -> None:
    """One source: "[n] file, page L (p. N), section", then the title with version and date, OCR
    provenance, a superseded edition's notice, and the quote."""
    sec = f", {section}" if section else ""
    when = ", ".join(x for x in (f"version {version}" if version else "", f"dated {date}" if date else "") if x)
    about = f"{title} ({when})" if title and when else title or when
    click.echo(f"  [{n}] {name}, page {page_label} (p. {page}){sec}")
    if about:
        click.echo(f"      {about}")
    if ocr:
        click.echo(f"      {ocr}")
    if superseded:
        click.echo(click.style(f"      SUPERSEDED: {superseded}", fg="yellow"))
    click.echo(f"      \u201c{quote}\u201d")


def sources(answer) -> None:
    click.echo("")
    if answer.citations:
        click.echo("Sources:")
        lines = [(c.n, lambda c=c: source_line(c.n, c.label or Path(c.source).name, c.page_label, c.page, c.section,
                                               c.title, c.quote, c.version, c.date, c.ocr, c.superseded))
                 for c in answer.citations]
        for _, show in sorted(lines + _other_sources(answer), key=lambda x: x[0]):  # in [n] order
            show()
    else:
        click.echo("(The answer cites none of the passages. Retrieved passages:)")
        from ..prompt.grounded import describe

        for n, p in enumerate(answer.passages, 1):
            click.echo(f"  [{n}] {describe(p, physical=True)}")
    if answer.invalid_citations:
        click.echo(f"Note: citation(s) {answer.invalid_citations} named no retrieved passage and were removed.")
    if answer.usage.passages_dropped:
        click.echo(f"Note: {answer.usage.passages_dropped} retrieved passage(s) did not fit the context and were left out.")


def _other_sources(answer) -> list:
    """(n, printer) of the sources the answer itself does not cite but the screen names: evidence
    sentences ("From your documents") and "passage [n] does support it" hints, so every [n] on
    screen has its source line."""
    from ..prompt.grounded import describe

    cited = {c.n for c in answer.citations}
    seen, out = set(), []
    ps = answer.passages
    for e in getattr(answer, "evidence", None) or []:
        if e.n in cited or e.n in seen:
            continue
        seen.add(e.n)
        p = ps[e.n - 1] if 0 < e.n <= len(ps) and ps[e.n - 1].id == e.passage_id else None
        name = (p.label if p is not None and p.label else "") or Path(e.source).name
        out.append((e.n, lambda e=e, p=p, name=name: source_line(
            e.n, name, e.page_label, e.page, e.section, p.title if p is not None else "", e.text,
            getattr(e, "version", ""), getattr(e, "date", ""), superseded=getattr(e, "superseded", ""))))
    for c in getattr(answer, "claims", None) or []:
        n = getattr(c, "suggested", None)
        if n and n not in cited and n not in seen and 0 < n <= len(ps):
            seen.add(n)
            out.append((n, lambda n=n: click.echo(f"  [{n}] {describe(ps[n - 1], physical=True)}")))
    return out
