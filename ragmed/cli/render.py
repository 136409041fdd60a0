"""Every line the `ragmed` command prints for a person, and its JSON output.

Commands compute with the library and hand the result here; nothing else in the CLI echoes.
Human text goes to stdout, warnings and errors to stderr.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable

import click

from .render_models import (  # noqa: F401 (the CLI calls them as render.*)
    doctor, doctor_part, model_list, model_pulled, model_removed, model_status_line, model_verified)
from .render_notices import lead, not_led
from .render_sources import sources  # noqa: F401 (the CLI calls it as render.sources)

MARKS = {"supported": "\u2713", "unsupported": "\u2717", "uncited": "?"}


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def error(message: str, prefix: str = "Error: ") -> None:
    click.echo(f"{prefix}{message}", err=True)


def lines(text: str) -> None:
    click.echo(text)


# -- documents ----------------------------------------------------------------------------------

def ingest_report(report) -> None:
    for d in report.documents:
        name = d.path
        if d.status == "failed":
            click.echo(f"FAILED     {name}: {d.error}", err=False)
        elif d.status == "skipped":
            click.echo(f"skipped    {name}: {d.error}")
        elif d.status == "moved":
            click.echo(f"moved      {name} (from {d.moved_from}; same content, nothing embedded)")
        elif d.status == "duplicate":
            click.echo(f"duplicate  {name}: same content as {d.duplicate_of}, indexed once")
        elif d.status == "excluded":
            click.echo(f"excluded   {name}")
        else:
            ocr = f", OCR on page(s) {', '.join(map(str, d.ocr_pages))}" if d.ocr_pages else ""
            click.echo(f"{d.status:<10} {name} ({d.pages} page{'s' if d.pages != 1 else ''}, {d.chunks} chunks{ocr})")
        for issue in d.page_issues:
            click.echo(f"  page {issue.page} (label {issue.label}): {issue.problem}")
        for w in d.warnings:
            click.echo(f"  warning: {w}")
    counts = ", ".join(
        f"{report.count(s)} {s}" for s in ("added", "updated", "unchanged", "moved", "duplicate", "excluded", "removed",
                                             "skipped", "failed") if report.count(s)
    )
    click.echo(f"Collection '{report.collection}': {counts or 'nothing to do'}; "
               f"{report.embedded} chunks embedded in {report.seconds:.1f}s.")


def documents(infos) -> None:
    if not infos:
        click.echo("No documents.")
    for i in infos:
        extra = f"; pages without text: {list(i.pages_without_text)}" if i.pages_without_text else ""
        tags = " | " + ", ".join(f"{k}={v}" for k, v in sorted(i.tags.items())) if i.tags else ""
        source = f" ({i.date_source})" if i.date and i.date_source else ""
        click.echo(f"{i.path}\n  {i.title} | {i.pages} pages, {i.chunks} chunks | dated {i.date or '?'}{source} | "
                   f"sha256 {i.sha256[:12]} | ingested {i.ingested_at}{tags}{extra}")
        if i.superseded_by:
            click.echo(click.style(f"  SUPERSEDED by {Path(i.superseded_by).name}"
                                   f"{' (dated ' + i.superseded_by_date + ')' if i.superseded_by_date else ''}", fg="yellow"))


def removals(reports, entries=None) -> None:
    for r, e in zip(reports, entries or [None] * len(reports)):
        if r.failed:
            click.echo(f"FAILED  {r.path}: {r.error}")
        else:
            kept = f"; in the trash as {e.id} for {e.to_dict()['days_left']:g} days (ragmed docs restore {e.id})" if e else ""
            click.echo(f"removed {r.path} ({r.chunks} chunks){kept}")


def trash(entries, where: str) -> None:
    """`ragmed docs trash`: what can still be restored."""
    from datetime import datetime

    if not entries:
        click.echo(f"The trash is empty ({where}).")
    for e in entries:
        when = datetime.fromtimestamp(e.removed_at).strftime("%Y-%m-%d %H:%M")
        click.echo(f"{e.id}  {e.file_name}  removed {when}, purged in {e.to_dict()['days_left']:g} days  ({e.path})")


def exclusions(excluded: dict) -> None:
    """Documents removed on purpose whose files still exist (ingest --restore adds them back)."""
    if not excluded:
        return
    click.echo("\nRemoved, and kept out of ingest and sync (`ragmed ingest --restore PATH` adds back):")
    for path, rec in sorted(excluded.items()):
        click.echo(f"  {path} (removed {rec.get('removed_at', '?')[:10]})")


def collection_names(names: list[str], where: str) -> None:
    click.echo("\n".join(names) if names else f"No collections {where}.")


# -- search and ask -----------------------------------------------------------------------------

def passages(found) -> None:
    from ..prompt.grounded import describe

    if not found:
        click.echo("No matching passages.")
    for p in found:
        how = " ".join(f"{name} #{r}" for name, r in sorted(p.ranks.items()))
        click.echo(f"[{p.rank}] {p.score:.3f} ({how})  {describe(p, physical=True)}")
        click.echo("    " + " ".join(p.text.split())[:300])


def evidence_text(answer) -> None:
    searched_for(answer)
    lead(answer.notices)  # who the guidance is for, editions: before any sentence
    click.echo(answer.answer or "(no sentence of the retrieved passages matches the question)")


def evidence_block(found) -> None:
    """The best sentences of the retrieved passages, each cited: shown before the model's answer."""
    if not found:
        return
    click.echo(click.style("From your documents:", bold=True))
    for e in found:
        note = f" ({e.superseded})" if getattr(e, "superseded", "") else ""
        click.echo(f"  {e.text} [{e.n}]{note}")
    click.echo("")


def _evidence_of(data: dict):
    from types import SimpleNamespace

    return [SimpleNamespace(text=e["text"], n=e["n"], superseded=e.get("superseded", "")) for e in data.get("evidence", [])]


ANSWER_HEAD = "Answer (each sentence checked against the passage it cites):"


def stream_answer(events: Iterable, show_reasoning: bool, question: str = ""):
    """Print `RagMed.ask_stream` events as they come: what was searched for (a follow-up's query,
    when it differs from `question`), the evidence, then the model's checked sentences. Returns
    (final Answer, whether answer text streamed)."""
    answer, shown_thinking, streamed, said = None, False, False, False
    for event in events:
        if event.kind == "evidence":
            query = (event.data or {}).get("search_query", "")
            if question and query and query != question:
                click.echo(f"Searched for: {query}\n")
                said = True
            lead((event.data or {}).get("notices"))  # before any sentence (render_notices.py)
            evidence_block(_evidence_of(event.data))
        elif event.kind == "reasoning":
            if show_reasoning:
                click.echo(click.style(event.text, dim=True), nl=False)
            elif not shown_thinking:
                click.echo(click.style("(the model is thinking...)", dim=True))
            shown_thinking = True
        elif event.kind == "answer":
            if not streamed:
                click.echo(click.style(ANSWER_HEAD, bold=True))
            click.echo(_marked(event.text, getattr(event, "claim", None)), nl=False)
            streamed = True
        elif event.kind == "final":
            answer = event.answer
            if not said:
                searched_for(answer)
            lead(answer.notices)  # a refusal has no evidence event; said once (render_notices.py)
    if streamed:
        click.echo("")
    elif _evidence_instead(answer):
        click.echo(_instead_head(answer))  # the evidence sentences are already on screen
    else:  # the gate refused, or nothing was generated
        click.echo(answer.answer or "(empty answer)")
    return answer, streamed


WITHHELD_HEAD = ("ragmed withheld the model's answer: none of its statements is supported by the passages "
                 "it cites. The sentences from your documents above are what the passages say.")
UNCITED_HEAD = ("ragmed withheld the model's answer: none of its statements cites a passage. The sentences "
                "from your documents above are what the passages say.")
NOT_FOUND_HEAD = ("The model found no answer in the passages. The sentences from your documents above are "
                  "what the passages say: read them and their sources before you rely on them.")


def _evidence_instead(answer) -> bool:
    """The model's answer is not shown (withheld, or "not found") and evidence sentences stand in for it."""
    return bool(answer.abstained and answer.abstention.stage in ("verification", "model") and answer.evidence)


def _instead_head(answer) -> str:
    if answer.abstention.stage == "model":
        return NOT_FOUND_HEAD
    s = answer.support
    return UNCITED_HEAD if s is not None and s.claims and s.uncited == s.claims else WITHHELD_HEAD


def answer_text(answer, show_reasoning: bool) -> None:
    searched_for(answer)
    lead(answer.notices)  # who the guidance is for, editions: before any sentence
    if show_reasoning and answer.reasoning:
        click.echo(click.style("Reasoning:", dim=True))
        click.echo(click.style(answer.reasoning, dim=True) + "\n")
    withheld = answer.abstained and answer.abstention.stage == "verification"
    if _evidence_instead(answer):  # the same layout as a streamed answer: evidence, then why
        evidence_block(answer.evidence)
        click.echo(_instead_head(answer))
        return
    if answer.grounded and answer.evidence and not withheld:
        evidence_block(answer.evidence)
        if answer.answer:
            click.echo(click.style(ANSWER_HEAD, bold=True))
    text = answer.answer or "(empty answer)"
    if answer.grounded and not answer.abstained:
        for c in answer.claims:
            if c.status == "supported" and c.text in text:
                text = text.replace(c.text, _marked(c.text, c), 1)
    click.echo(text)


def _marked(text: str, claim) -> str:
    """A checked sentence with its ✓ in front (the mark is the product: the cited passage states it)."""
    if claim is None or getattr(claim, "status", "") != "supported":
        return text
    body = text.lstrip()
    return f"{text[:len(text) - len(body)]}{MARKS['supported']} {body}"


def answer_footer(answer, streamed: bool, evidence: bool, show_withheld: bool = False) -> None:
    """After the answer text: trust (abstention, claim support), budget notes, sources, compression."""
    trust(answer, streamed, show_withheld)
    if answer.reasoning_truncated:
        click.echo("(The reasoning budget ran out; ragmed closed it so the model could answer. "
                   "Raise --reasoning-tokens for harder questions.)")
    elif not answer.reasoning_closed:
        click.echo("(The model's reasoning did not finish within --max-tokens; no answer was produced.)")
    gated = answer.abstained and answer.abstention.stage == "gate" and not evidence  # sources are in the text
    if answer.grounded and not gated:  # a withheld answer's evidence sentences are cited too
        sources(answer)
    elif not answer.grounded:
        click.echo("\n(Ungrounded: answered without your documents.)")
    compression(answer.compression)


def searched_for(answer) -> None:
    """A follow-up's standalone search query, when it differs from the question (retrieve/followup.py):
    said before the evidence and the answer."""
    if answer.search_query and answer.search_query != answer.question:
        click.echo(f"Searched for: {answer.search_query}\n")


def compression(c) -> None:
    if c is not None and c.compressed:
        dropped = f"; {c.passages_dropped} passage(s) had none kept" if c.passages_dropped else ""
        click.echo(f"Prompt compressed: {c.tokens_before} \u2192 {c.tokens_after} passage tokens "
                   f"({c.kept} of {c.sentences} sentences{dropped}).")


def claim_reason(c) -> str:
    """Why a checked sentence is not marked supported, in words (the checker's reason when it gave one)."""
    why = getattr(c, "reason", "") or ""
    if not why and c.status == "unsupported":
        cites = ", ".join(f"[{n}]" for n in c.cites)
        why = (f"the numbers {', '.join(c.missing_numbers)} are not in {cites}" if c.missing_numbers
               else f"{cites} does not state it")
    if not why and c.status == "uncited":
        why = "it cites no passage"
    if c.suggested:
        why += ("; " if why else "") + f"passage [{c.suggested}] does support it"
    return why


def trust(answer, streamed: bool, show_withheld: bool = False) -> None:
    """Abstention, the support of each claim, and notices about the passages. Sentences that are
    not supported are described by why, not shown (`--show-withheld` shows them, for research)."""
    from ..ground.release import for_clinician

    with_answer = for_clinician(answer.notices)  # editions, disagreements, who the guidance is for
    for note in not_led(answer.notices):  # the clinician notices were printed first (render_notices.py)
        if note in with_answer:
            click.echo(click.style(note, fg="yellow", bold=True))
        else:
            click.echo(click.style(f"Warning: {note}", fg="yellow"), err=True)
    if answer.abstained:
        a = answer.abstention
        if a.stage == "gate" and a.reason.rstrip(".") not in answer.answer:  # not said twice
            click.echo(f"\n(ragmed did not answer: {a.reason.rstrip('.')}.)")
        if a.stage != "verification":
            return
    s = answer.support
    if s is None or not s.claims:
        return
    click.echo(f"\nChecked: {s.supported} of {s.claims} statement(s) supported by the passages they cite "
               f"(citation precision {s.citation_precision:.2f}, recall {s.citation_recall:.2f}).")
    for c in answer.claims:
        if c.status == "supported":
            continue
        what = f" \u201c{' '.join(c.text.split())[:200]}\u201d:" if show_withheld else " a sentence was left out:"
        click.echo(f"  {MARKS[c.status]} {c.status}:{what} {claim_reason(c)}")
    if show_withheld and answer.model_answer:
        click.echo(click.style("\nThe model's own answer (for research; not shown as an answer):", dim=True))
        click.echo(click.style(answer.model_answer, dim=True))


def checked(v) -> None:
    """`ragmed check`: each sentence with its mark and, when not supported, why."""
    for c in v.claims:
        why = "" if c.status == "supported" else f" ({claim_reason(c)})"
        click.echo(f"{MARKS[c.status]} {' '.join(c.text.split())}{why}")
    s = v.support
    click.echo(f"\n{s.supported} of {s.claims} statement(s) supported by the passages they cite.")


def calibration(run) -> None:
    """A `CalibrationRun` (eval/calibration.py): the new gate's rates beside the previous gate's."""
    m, old = run.metrics, run.previous
    click.echo(f"{run.answerable} answerable, {run.unanswerable} unanswerable questions; "
               f"threshold {run.calibration.threshold:.3f}.")
    click.echo(f"  unanswerable abstained (recall): {m['abstained_unanswerable']:.1%}  "
               f"(previous {run.previous_source} gate: {old.abstained_unanswerable:.1%})")
    click.echo(f"  answerable abstained:            {m['abstained_answerable']:.1%}  "
               f"(previous: {old.abstained_answerable:.1%})")
    click.echo(f"  abstention precision:            {m['precision']:.3f}  (previous: {old.precision:.3f})")
    click.echo("These figures are on the questions the gate was fitted on; hold some back to test it.")
    click.echo("Not stored (--dry-run)." if not run.stored else f"Stored with collection {run.collection!r}.")


# -- models -------------------------------------------------------------------------------------

def retrieval_eval(ds, ev, split: str, out: Path | None) -> None:
    click.echo(f"{ds.name}: {ev.queries} {split} queries, {ev.corpus} passages, embedder {ev.embedder}")
    click.echo(ev.table())
    if out:
        click.echo(f"Per-query results and summary in {out}/")


def comparison(summary: dict, out: Path) -> None:
    from ..eval.report import tables

    click.echo("\n".join(tables(summary)))
    click.echo(f"\nReport: {out}/report.md and {out}/report.html; records: {out}/records.jsonl")


def dataset_built(b) -> None:
    click.echo(f"Collection {b.collection!r}: {b.passages} passages from {b.source} "
               f"(sha256 {b.sha256[:12]}...), embedder {b.embedder}.")


# -- serve --------------------------------------------------------------------------------------

def serving(host: str, port: int, collection: str, model: str, token: bool) -> None:
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"ragmed serving http://{shown}:{port}/ (collection {collection!r}, model "
               f"{model}, token {'required' if token else 'off: this machine only'}). Ctrl+C stops.",
               err=True)
