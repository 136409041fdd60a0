"""The `ragmed` command line: a thin layer over `ragmed.api.RagMed`.

Every command prints a human-readable result, or JSON with `--json`. Errors are one line on
stderr that says what to do, with a non-zero exit code.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from functools import wraps
from pathlib import Path

import click

from .config import DEFAULT_EMBEDDER_BACKEND
from .embed.onnx import BACKENDS


def _env_defaults() -> None:
    # numpy's BLAS and torch fight over the few cores of a laptop; one BLAS thread is faster here.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
    os.environ["ANONYMIZED_TELEMETRY"] = "False"


def _setup_logging(verbose: int) -> None:
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    for noisy in ("bm25s", "chromadb", "httpx", "sentence_transformers", "transformers", "urllib3"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


def _rag(collection, index_dir, embedder=None, **overrides):
    from .api import RagMed

    return RagMed(collection=collection, index_dir=index_dir, embedder=embedder, **overrides)


def handle_errors(fn):
    @wraps(fn)
    def wrapper(*args, **kwargs):
        from .errors import RagmedError

        try:
            return fn(*args, **kwargs)
        except RagmedError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo("Interrupted. Re-run the same command to finish; nothing is left half-done.", err=True)
            sys.exit(130)

    return wrapper


def _use_chroma_url(ctx, _param, value):
    """--chroma-url reaches Settings as RAGMED_CHROMA_URL for this command only (so every command
    that opens a collection gets it without another parameter)."""
    if value is None:
        return
    old = os.environ.get("RAGMED_CHROMA_URL")
    os.environ["RAGMED_CHROMA_URL"] = value
    ctx.call_on_close(lambda: os.environ.pop("RAGMED_CHROMA_URL", None) if old is None
                      else os.environ.__setitem__("RAGMED_CHROMA_URL", old))


def chroma_url_option(fn):
    return click.option("--chroma-url", default=None, metavar="URL", expose_value=False, callback=_use_chroma_url,
                        help="Use the shared index on the Chroma server at URL (http://HOST:PORT) instead of "
                             "the embedded one (default: $RAGMED_CHROMA_URL).")(fn)


def collection_options(fn):
    fn = click.option("--collection", "-c", default=None, help="Collection name (default: 'default' or $RAGMED_COLLECTION).")(fn)
    fn = click.option("--index-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
                      help="Index directory (default: $RAGMED_INDEX_DIR, $RAGMED_HOME/indexes, or ./indexes).")(fn)
    return chroma_url_option(fn)


def _emit_json(data) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More logging (-vv for debug). Question text is never logged.")
@click.version_option(package_name="ragmed")
def cli(verbose: int) -> None:
    """ragmed: grounded, cited answers from your own medical documents, fully on this device."""
    _env_defaults()
    _setup_logging(verbose)


# -- ingest ---------------------------------------------------------------------------------

@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@collection_options
@click.option("--embedder", default=None, help="Embedder name or model folder (new collections only).")
@click.option("--embedder-backend", type=click.Choice(BACKENDS), default=None,
              help=f"How the embedder runs (new collections; default {DEFAULT_EMBEDDER_BACKEND}, see README Performance).")
@click.option("--chunk-tokens", type=int, default=None, help="Chunk size in embedder tokens (default 200).")
@click.option("--prune", is_flag=True, help="Also remove documents whose files no longer exist.")
@click.option("--rebuild", is_flag=True, help="Drop the collection and index everything again.")
@click.option("--tag", "tags", multiple=True, metavar="KEY=VALUE",
              help="Tag the documents of this run (repeatable); replaces their previous tags. "
                   "Search with --tag KEY=VALUE; a 'date' tag (YYYY-MM-DD) sets the document date.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@handle_errors
def ingest(paths, collection, index_dir, embedder, embedder_backend, chunk_tokens, prune, rebuild, tags, as_json, quiet):
    """Index PDF, .txt and .md files (folders are searched recursively).

    Unchanged files are skipped, changed files replaced; the exit code is 1 if any file failed.
    """
    from .retrieve.filters import parse_tags

    rag = _rag(collection, index_dir, embedder, chunk_tokens=chunk_tokens, embedder_backend=embedder_backend)
    report = rag.ingest(paths, prune=prune, rebuild=rebuild, tags=parse_tags(tags) if tags else None,
                        progress=not quiet and not as_json and sys.stderr.isatty())
    if as_json:
        _emit_json(report.to_dict())
    else:
        _print_report(report)
    sys.exit(0 if report.ok else 1)


def _print_report(report) -> None:
    for d in report.documents:
        name = d.path
        if d.status == "failed":
            click.echo(f"FAILED     {name}: {d.error}", err=False)
        else:
            click.echo(f"{d.status:<10} {name} ({d.pages} pages, {d.chunks} chunks)")
        for issue in d.page_issues:
            click.echo(f"  page {issue.page} (label {issue.label}): {issue.problem}")
        for w in d.warnings:
            click.echo(f"  warning: {w}")
    counts = ", ".join(
        f"{report.count(s)} {s}" for s in ("added", "updated", "unchanged", "removed", "failed") if report.count(s)
    )
    click.echo(f"Collection '{report.collection}': {counts or 'nothing to do'}; "
               f"{report.embedded} chunks embedded in {report.seconds:.1f}s.")


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@collection_options
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@handle_errors
def sync(paths, collection, index_dir, as_json, quiet):
    """Make the collection match PATHS: ingest new and changed files, drop vanished ones."""
    rag = _rag(collection, index_dir)
    report = rag.ingest(paths, prune=True, progress=not quiet and not as_json and sys.stderr.isatty())
    _emit_json(report.to_dict()) if as_json else _print_report(report)
    sys.exit(0 if report.ok else 1)


# -- docs ------------------------------------------------------------------------------------

@cli.group()
def docs() -> None:
    """List or remove the documents of a collection."""


@docs.command("list")
@collection_options
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def docs_list(collection, index_dir, as_json):
    """List the documents in a collection."""
    infos = _rag(collection, index_dir).documents()
    if as_json:
        _emit_json([i.to_dict() for i in infos])
        return
    if not infos:
        click.echo("No documents.")
    for i in infos:
        extra = f"; pages without text: {list(i.pages_without_text)}" if i.pages_without_text else ""
        tags = " | " + ", ".join(f"{k}={v}" for k, v in sorted(i.tags.items())) if i.tags else ""
        click.echo(f"{i.path}\n  {i.title} | {i.pages} pages, {i.chunks} chunks | dated {i.date or '?'} | "
                   f"sha256 {i.sha256[:12]} | ingested {i.ingested_at}{tags}{extra}")


@docs.command("remove")
@click.argument("paths", nargs=-1, required=True)
@collection_options
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def docs_remove(paths, collection, index_dir, as_json):
    """Remove documents from a collection (the files are not touched)."""
    reports = _rag(collection, index_dir).remove(paths)
    if as_json:
        _emit_json([r.to_dict() for r in reports])
    else:
        for r in reports:
            click.echo(f"FAILED  {r.path}: {r.error}" if r.failed else f"removed {r.path} ({r.chunks} chunks)")
    sys.exit(1 if any(r.failed for r in reports) else 0)


@cli.command("collections")
@click.option("--index-dir", type=click.Path(file_okay=False, path_type=Path), default=None)
@chroma_url_option
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def collections(index_dir, as_json):
    """List the collections in the index directory (or on the Chroma server, --chroma-url)."""
    from .config import Settings
    from .store.collection import Collection

    settings = Settings.from_env()
    d = index_dir or settings.index_dir
    names = Collection.list_names(d, settings.chroma_url)
    if as_json:
        _emit_json(names)
    else:
        click.echo("\n".join(names) if names else f"No collections {'on ' + settings.chroma_url if settings.chroma_url else 'in ' + str(d)}.")


# -- search and ask --------------------------------------------------------------------------

def retrieval_options(fn):
    """Options shared by `search` and `ask`: mode, filters, reranker, neighbour context."""
    opts = [
        click.option("--mode", type=click.Choice(["dense", "lexical", "hybrid", "evidence"]), default=None,
                     help="Retrieval mode (default hybrid, or $RAGMED_RETRIEVAL); for `ask`, evidence = "
                          "evidence mode with the default retrieval."),
        click.option("--doc", "docs_", multiple=True, metavar="TEXT",
                     help="Only documents whose path, file name or title contains TEXT (repeatable: any)."),
        click.option("--section", "sections", multiple=True, metavar="TEXT",
                     help="Only passages whose section path contains TEXT (repeatable: any)."),
        click.option("--tag", "tags", multiple=True, metavar="KEY=VALUE",
                     help="Only documents ingested with this tag (repeatable: all must hold)."),
        click.option("--after", default=None, metavar="DATE", help="Only documents dated on/after DATE (YYYY[-MM[-DD]])."),
        click.option("--before", default=None, metavar="DATE", help="Only documents dated on/before DATE."),
        click.option("--neighbours", type=int, default=None,
                     help="Add the N adjacent chunks on each side as context (default 0)."),
        click.option("--reranker", default=None, metavar="DIR",
                     help="Rerank with a local cross-encoder folder (default: $RAGMED_RERANKER, else off)."),
    ]
    for opt in reversed(opts):
        fn = opt(fn)
    return fn


def _filter(docs_, sections, tags, after, before):
    from .retrieve.filters import SearchFilter, parse_tags

    return SearchFilter(documents=tuple(docs_), sections=tuple(sections), tags=parse_tags(tags),
                        after=after, before=before)


@cli.command()
@click.argument("query")
@collection_options
@click.option("-k", type=int, default=None, help="How many passages (default 3).")
@retrieval_options
@click.option("--dedup", is_flag=True, help="Drop passages that repeat a higher-ranked one (as `ask` does).")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def search(query, collection, index_dir, k, mode, docs_, sections, tags, after, before, neighbours, reranker,
           dedup, as_json):
    """Show the passages that best match QUERY."""
    if mode == "evidence":
        raise click.UsageError("--mode evidence is for `ask`; search with dense, lexical or hybrid.")
    rag = _rag(collection, index_dir, retrieval=mode, neighbours=neighbours, reranker=reranker)
    passages = rag.search(query, k, filter=_filter(docs_, sections, tags, after, before),
                          dedup=rag.settings.dedup if dedup else None)
    if as_json:
        _emit_json([p.to_dict() for p in passages])
        return
    from .prompt.grounded import describe

    if not passages:
        click.echo("No matching passages.")
    for p in passages:
        how = " ".join(f"{name} #{r}" for name, r in sorted(p.ranks.items()))
        click.echo(f"[{p.rank}] {p.score:.3f} ({how})  {describe(p)}")
        click.echo("    " + " ".join(p.text.split())[:300])


@cli.command()
@click.argument("question")
@collection_options
@click.option("-k", type=int, default=None, help="Passages to retrieve (default 3).")
@click.option("--no-retrieval", is_flag=True, help="Answer without documents (same model and settings).")
@click.option("--model", "-m", default=None, help="Bundled model name or path to a .gguf file.")
@click.option("--max-tokens", type=int, default=None, help="Longest answer in tokens (default 512).")
@click.option("--temperature", type=float, default=None, help="0 = greedy, reproducible (default).")
@click.option("--seed", type=int, default=None)
@click.option("--n-ctx", type=int, default=None, help="Model context size in tokens (default 4096).")
@click.option("--generator-url", default=None, metavar="URL",
              help="Generate on an OpenAI-compatible server (llama.cpp, vLLM) instead of in-process.")
@click.option("--show-reasoning", is_flag=True, help="Also print the model's reasoning trace.")
@click.option("--reasoning-tokens", type=int, default=None,
              help="Thinking budget of reasoning models (default 1024); then ragmed closes the trace.")
@click.option("--preset", type=click.Choice(["deterministic", "medpsy"]), default=None,
              help="Sampling preset (default deterministic: greedy, seeded; medpsy: the model card's).")
@click.option("--stream/--no-stream", default=None, help="Print the answer as it is written (default: on a terminal).")
@click.option("--evidence", is_flag=True,
              help="Evidence mode: no model; the retrieved sentences that best answer, each cited "
                   "(also: --mode evidence).")
@click.option("--no-abstain", is_flag=True,
              help="Always generate: no abstention gate, and keep answers whose statements are unsupported.")
@click.option("--verifier", default=None, metavar="DIR",
              help="Check claims with a local NLI or cross-encoder folder (default: the built-in checker).")
@click.option("--compress-tokens", type=int, default=None, metavar="N",
              help="Prompt compression: give the model only the retrieved sentences that best answer, "
                   "within N passage tokens (faster first token; default 200 or $RAGMED_COMPRESS_TOKENS; 0 = off).")
@retrieval_options
@click.option("--json", "as_json", is_flag=True,
              help="Print the answer, abstention, per-claim support, citations and passages as JSON.")
@handle_errors
def ask(question, collection, index_dir, k, no_retrieval, model, max_tokens, temperature, seed, n_ctx,
        generator_url, show_reasoning, reasoning_tokens, preset, stream, evidence, no_abstain, verifier,
        compress_tokens, mode, docs_, sections, tags, after, before, neighbours, reranker, as_json):
    """Answer QUESTION from the collection's documents, with numbered, checked citations.

    Each statement of the answer is checked against the passages it cites. If the documents do
    not cover the question, ragmed says so and lists the nearest sources instead of answering."""
    if mode == "evidence":
        evidence, mode = True, None
    rag = _rag(collection, index_dir, model=model, max_tokens=max_tokens, temperature=temperature,
               seed=seed, n_ctx=n_ctx, retrieval=mode, neighbours=neighbours, reranker=reranker,
               reasoning_tokens=reasoning_tokens, preset=preset, generator_url=generator_url,
               abstain=False if no_abstain else None, verifier=verifier, compress_tokens=compress_tokens)
    kwargs = dict(k=k, grounded=not no_retrieval, filter=_filter(docs_, sections, tags, after, before))
    if evidence:
        if no_retrieval:
            raise click.UsageError("--evidence quotes your documents; it cannot be combined with --no-retrieval.")
        answer = rag.evidence(question, k=k, filter=kwargs["filter"])
        if as_json:
            _emit_json(answer.to_dict())
            return
        click.echo(answer.answer or "(no sentence of the retrieved passages matches the question)")
    elif as_json:
        _emit_json(rag.ask(question, **kwargs).to_dict())
        return
    if stream is None:
        stream = sys.stdout.isatty()
    streamed = False
    if evidence:
        pass
    elif stream:
        answer, shown_thinking = None, False
        for event in rag.ask_stream(question, **kwargs):
            if event.kind == "reasoning":
                if show_reasoning:
                    click.echo(click.style(event.text, dim=True), nl=False)
                elif not shown_thinking:
                    click.echo(click.style("(thinking...)", dim=True))
                shown_thinking = True
            elif event.kind == "answer":
                click.echo(event.text, nl=False)
                streamed = True
            else:
                answer = event.answer
        if not streamed:  # the gate abstained: nothing was generated
            click.echo(answer.answer or "(empty answer)")
        else:
            click.echo("" if answer.answer else "(empty answer)")
    else:
        answer = rag.ask(question, **kwargs)
        if show_reasoning and answer.reasoning:
            click.echo(click.style("Reasoning:", dim=True))
            click.echo(click.style(answer.reasoning, dim=True) + "\n")
        click.echo(answer.answer or "(empty answer)")
    _print_trust(answer, streamed)
    if answer.reasoning_truncated:
        click.echo("(The reasoning budget ran out; ragmed closed it so the model could answer. "
                   "Raise --reasoning-tokens for harder questions.)")
    elif not answer.reasoning_closed:
        click.echo("(The model's reasoning did not finish within --max-tokens; no answer was produced.)")
    withheld = answer.abstained and answer.abstention.stage == "verification"
    gated = answer.abstained and answer.abstention.stage == "gate" and not evidence  # sources are in the text
    if answer.grounded and not (withheld or gated):
        _print_sources(answer)
    elif not answer.grounded:
        click.echo("\n(Ungrounded: answered without your documents.)")
    _print_compression(answer.compression)


def _print_compression(c) -> None:
    if c is not None and c.compressed:
        dropped = f"; {c.passages_dropped} passage(s) had none kept" if c.passages_dropped else ""
        click.echo(f"Prompt compressed: {c.tokens_before} \u2192 {c.tokens_after} passage tokens "
                   f"({c.kept} of {c.sentences} sentences{dropped}).")


MARKS = {"supported": "\u2713", "unsupported": "\u2717", "uncited": "?"}


def _print_trust(answer, streamed: bool) -> None:
    """Abstention, the support of each claim, and notices about the passages."""
    for note in answer.notices:
        click.echo(click.style(f"Warning: {note}", fg="yellow"), err=True)
    if answer.abstained:
        a = answer.abstention
        if a.stage == "gate":
            click.echo(f"\n(ragmed abstained: {a.reason}. `ragmed calibrate` fits this threshold to your "
                       "documents; --no-abstain answers anyway.)")
        if a.stage != "verification":
            return
        if streamed:
            click.echo("\n" + click.style(answer.answer, fg="red"))
        else:
            click.echo(f"\nThe model's answer was:\n{answer.model_answer}")
    s = answer.support
    if s is None or not s.claims:
        return
    click.echo(f"\nChecked: {s.supported} of {s.claims} statement(s) supported by the passages they cite "
               f"(citation precision {s.citation_precision:.2f}, recall {s.citation_recall:.2f}).")
    for c in answer.claims:
        if c.status == "supported":
            continue
        why = ""
        if c.status == "unsupported":
            cites = ", ".join(f"[{n}]" for n in c.cites)
            why = f"numbers {', '.join(c.missing_numbers)} not in {cites}" if c.missing_numbers else f"not found in {cites}"
        if c.suggested:
            why += ("; " if why else "") + f"passage [{c.suggested}] does support it"
        text = " ".join(c.text.split())
        click.echo(f"  {MARKS[c.status]} {c.status}: \u201c{text[:160]}\u201d" + (f" ({why})" if why else ""))


def _print_sources(answer) -> None:
    click.echo("")
    if answer.citations:
        click.echo("Sources:")
        for c in answer.citations:
            sec = f", {c.section}" if c.section else ""
            when = ", ".join(x for x in (f"version {c.version}" if c.version else "",
                                         f"dated {c.date}" if c.date else "") if x)
            about = f"{c.title} ({when})" if c.title and when else c.title or when
            click.echo(f"  [{c.n}] {Path(c.source).name}, page {c.page_label} (p. {c.page}){sec}")
            if about:
                click.echo(f"      {about}")
            click.echo(f"      \u201c{c.quote}\u201d")
    else:
        click.echo("(The answer cites none of the passages. Retrieved passages:)")
        from .prompt.grounded import describe

        for n, p in enumerate(answer.passages, 1):
            click.echo(f"  [{n}] {describe(p)}")
    if answer.invalid_citations:
        click.echo(f"Note: citation(s) {answer.invalid_citations} named no passage given to the model and were removed.")
    if answer.usage.passages_dropped:
        click.echo(f"Note: {answer.usage.passages_dropped} retrieved passage(s) did not fit the context and were left out.")


@cli.command()
@collection_options
@click.option("--answerable", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Questions your documents answer: one per line, or JSONL with a \"question\" field.")
@click.option("--unanswerable", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Questions they do not answer (same format).")
@click.option("--dry-run", is_flag=True, help="Report the fit without storing it with the collection.")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def calibrate(collection, index_dir, answerable, unanswerable, dry_run, as_json):
    """Fit the abstention gate to this collection and store it with the collection.

    The gate scores each question's retrieval evidence (similarity, term coverage, agreement of
    the dense and lexical rankings); the threshold that best separates the two files is kept.
    Only retrieval runs: no model is needed."""
    from .ground import gate

    rag = _rag(collection, index_dir)
    pos, neg = _read_questions(answerable), _read_questions(unanswerable)
    before = rag.calibration
    cal = rag.calibrate(pos, neg, save=not dry_run)
    m = cal.fitted_on["metrics"]
    old = gate.metrics([before.score(x) for x in rag.gate_features(pos)],
                       [before.score(x) for x in rag.gate_features(neg)], before.threshold)
    if as_json:
        _emit_json({"calibration": cal.to_dict(), "previous": {"source": before.source, **old.to_dict()},
                    "stored": not dry_run, "path": rag.index.calibration_location})
        return
    click.echo(f"{len(pos)} answerable, {len(neg)} unanswerable questions; threshold {cal.threshold:.3f}.")
    click.echo(f"  unanswerable abstained (recall): {m['abstained_unanswerable']:.1%}  "
               f"(previous {before.source} gate: {old.abstained_unanswerable:.1%})")
    click.echo(f"  answerable abstained:            {m['abstained_answerable']:.1%}  "
               f"(previous: {old.abstained_answerable:.1%})")
    click.echo(f"  abstention precision:            {m['precision']:.3f}  (previous: {old.precision:.3f})")
    click.echo("These figures are on the questions the gate was fitted on; hold some back to test it.")
    click.echo("Not stored (--dry-run)." if dry_run else f"Stored with collection {rag.index.name!r}.")


def _read_questions(path: Path) -> list[str]:
    from .errors import InputError

    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("{"):
            try:
                q = json.loads(line).get("question", "")
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}:{n}: not valid JSON ({exc.msg}).") from exc
            if not q:
                raise InputError(f'{path}:{n}: no "question" field.')
            out.append(q)
        else:
            out.append(line)
    if len(out) < 3:
        raise InputError(f"{path} holds {len(out)} question(s); calibration needs at least 3 of each kind.")
    return out


# -- models ----------------------------------------------------------------------------------

@cli.group()
def models() -> None:
    """List, download, verify, locate and remove chat models (stored under $RAGMED_HOME/models)."""


def _status_line(st) -> str:
    size = f"{st.size / 1e9:.2f} GB" if st.size else (f"~{st.spec['approx_size_gb']} GB" if st.spec.get("approx_size_gb") else "size ?")
    return f"{st.name:<18} {st.state:<9} {st.spec['quantisation']:<17} {size:<10} {st.spec.get('repo_id') or 'bundled'}"


@models.command("list")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def models_list(as_json):
    """Every known model and where it stands: bundled, missing, pulled or verified."""
    from .models.store import ModelStore

    rows = ModelStore().list()
    if as_json:
        _emit_json([r.to_dict() for r in rows])
        return
    for r in rows:
        click.echo(_status_line(r))


@models.command("pull")
@click.argument("name")
@click.option("--endpoint", default=None, help="Hub URL (default: $HF_ENDPOINT, else huggingface.co).")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def models_pull(name, endpoint, as_json):
    """Download NAME once (resumable, sha256-checked); afterwards it runs offline."""
    from .models.store import ModelStore

    st = ModelStore().pull(name, endpoint=endpoint, progress=not as_json and sys.stderr.isatty())
    if as_json:
        _emit_json(st.to_dict())
    else:
        click.echo(f"{_status_line(st)}\n  {st.path}\n  sha256 {st.sha256} ({st.sha256_source})")


@models.command("verify")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def models_verify(name, as_json):
    """Re-hash NAME's file and compare it with the pinned or recorded sha256."""
    from .models.store import ModelStore

    st = ModelStore().verify(name)
    _emit_json(st.to_dict()) if as_json else click.echo(f"{st.name}: {st.state}, sha256 {st.sha256}")


@models.command("path")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def models_path(name, as_json):
    """Print the local file of NAME (fails with the pull command if it is missing)."""
    from .models.store import ModelStore

    p = ModelStore().path(name)
    _emit_json({"name": name, "path": str(p)}) if as_json else click.echo(str(p))


@models.command("rm")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def models_rm(name, as_json):
    """Delete a pulled model and any partial download of it."""
    from .models.store import ModelStore

    removed = ModelStore().rm(name)
    _emit_json({"name": name, "removed": removed}) if as_json else click.echo(
        f"removed {name}" if removed else f"{name} was not on this machine")


# -- eval ------------------------------------------------------------------------------------

@cli.group("eval")
def eval_() -> None:
    """Measure retrieval quality on your own or public judgements."""


def _cache_dir() -> Path:
    base = os.environ.get("RAGMED_HOME")
    if base:
        return Path(base) / "cache"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ragmed"


@eval_.command("retrieval")
@click.option("--dataset", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="BEIR folder: corpus.jsonl, queries.jsonl, qrels/*.tsv.")
@click.option("--split", type=click.Choice(["dev", "test", "all"]), default="test", show_default=True,
              help="Queries by sha1(query id): dev = first hex digit 0-b, test = c-f.")
@click.option("--mode", "modes", multiple=True, type=click.Choice(["dense", "lexical", "hybrid"]),
              help="Modes to compare (repeatable; default all three).")
@click.option("--qrels", default=None, help="qrels file name in qrels/ (default test.tsv).")
@click.option("--limit", type=int, default=None, help="Only the first N queries of the split.")
@click.option("--reranker", default=None, metavar="DIR", help="Rerank with a local cross-encoder folder.")
@click.option("--embedder", default=None, help="Embedder name or folder (default: bundled MiniLM).")
@click.option("--embedder-backend", type=click.Choice(BACKENDS), default=None,
              help=f"How the embedder runs (default {DEFAULT_EMBEDDER_BACKEND}, see README Performance).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write per_query_<split>.jsonl and summary_<split>.{json,md} here.")
@click.option("--index-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where the corpus collection is built and reused (default: $RAGMED_HOME/cache/eval-indexes, "
                   "else ~/.cache/ragmed/eval-indexes).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bars.")
@handle_errors
def eval_retrieval(dataset, split, modes, qrels, limit, reranker, embedder, embedder_backend, out, index_dir,
                   as_json, quiet):
    """nDCG@10, Recall@10/100, MRR@10 and latency of each retrieval mode on a BEIR folder."""
    from .config import Settings
    from .embed.sentence import Embedder
    from .eval.beir import load_beir
    from .eval.retrieval import build_collection, default_runs, evaluate
    from .retrieve.rerank import CrossEncoderReranker

    progress = not quiet and not as_json and sys.stderr.isatty()
    ds = load_beir(dataset, qrels)
    from .config import DEFAULT_EMBEDDER_BACKEND

    settings = Settings.from_env()
    emb = Embedder(embedder or settings.embedder,
                   embedder_backend or settings.embedder_backend or DEFAULT_EMBEDDER_BACKEND)
    index = build_collection(ds, index_dir or _cache_dir() / "eval-indexes", emb, progress=progress)
    rr = CrossEncoderReranker(reranker) if reranker else None
    ev = evaluate(ds, index, emb, split=split, runs=default_runs(modes or ("dense", "lexical", "hybrid")),
                  reranker=rr, out_dir=out, limit=limit, progress=progress)
    if as_json:
        _emit_json(ev.to_dict())
        return
    click.echo(f"{ds.name}: {ev.queries} {split} queries, {ev.corpus} passages, embedder {ev.embedder}")
    click.echo(ev.table())
    if out:
        click.echo(f"Per-query results and summary in {out}/")


# -- research -----------------------------------------------------------------------------------

@cli.command()
@click.option("--dataset", required=True, metavar="NAME|PATH.jsonl",
              help="pubmedqa, bioasq-yesno, mirage, mirage:{medqa,medmcqa,mmlu,pubmedqa,bioasq}, or your JSONL "
                   '({"id", "question", "answer", optional "options": {"A": ...}}).')
@collection_options
@click.option("--model", "-m", default=None, help="Bundled model name or path to a .gguf file.")
@click.option("-k", type=int, default=3, show_default=True, help="Passages retrieved for the grounded arm.")
@click.option("--limit", type=int, default=None, help="Only the first N questions of the split.")
@click.option("--split", type=click.Choice(["dev", "test", "all"]), default="dev", show_default=True,
              help="Questions by sha1(id): dev = first hex digit 0-b, test = c-f.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--max-tokens", type=int, default=64, show_default=True, help="Answer length limit per arm.")
@click.option("--n-ctx", type=int, default=None, help="Model context size (default 4096).")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder holding the datasets (default: $RAGMED_EVAL_DIR, else ../shared/eval).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Run folder: header.json, records.jsonl, summary.json, report.md, report.html. "
                   "Rerunning with the same folder continues the run.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@handle_errors
def compare(dataset, collection, index_dir, model, k, limit, split, seed, max_tokens, n_ctx, data_dir, out,
            as_json, quiet):
    """Answer benchmark questions with and without retrieved evidence (same model, decoding, seed).

    Writes one record per question and a report with accuracy and 95% intervals per arm, the
    paired difference with McNemar's exact test, unparseable and abstention rates, tokens and
    latency. Resumable: rerun the same command to continue."""
    from .eval.comparison import compare as run

    result = run(dataset, collection=collection, index_dir=index_dir, model=model, k=k, limit=limit, split=split,
                 seed=seed, out=out, data_dir=data_dir, max_tokens=max_tokens, n_ctx=n_ctx,
                 progress=not quiet and not as_json and sys.stderr.isatty())
    if as_json:
        _emit_json(result.to_dict())
        return
    from .eval.report import tables

    click.echo("\n".join(tables(result.summary)))
    click.echo(f"\nReport: {out}/report.md and {out}/report.html; records: {out}/records.jsonl")


@cli.group()
def datasets() -> None:
    """Build collections from benchmark corpora (for `ragmed compare`)."""


@datasets.command("build")
@click.argument("name")
@click.option("--from", "source", required=True, type=click.Path(exists=True, path_type=Path),
              help="A BEIR folder (its corpus.jsonl) or a JSONL of {\"_id\"|\"id\", \"title\", \"text\"} passages.")
@click.option("--index-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Index directory (default: $RAGMED_INDEX_DIR, $RAGMED_HOME/indexes, or ./indexes).")
@click.option("--embedder", default=None, help="Embedder name or folder (default: bundled MiniLM).")
@click.option("--json", "as_json", is_flag=True)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@handle_errors
def datasets_build(name, source, index_dir, embedder, as_json, quiet):
    """Make collection NAME from a corpus, one passage per chunk (reused if already built).

    For PubMedQA*: `ragmed datasets build pubmedqa --from ../shared/eval/beir/pubmedqa_pqal` (the
    1,000 abstracts; each question's own abstract must then be retrieved). BioASQ:
    `--from ../shared/eval/beir/bioasq_7b-11b_snippets`."""
    from .config import DEFAULT_EMBEDDER_BACKEND, Settings
    from .embed.sentence import Embedder
    from .eval.beir import load_corpus
    from .eval.retrieval import build_collection

    settings = Settings.from_env(collection=name, index_dir=index_dir, embedder=embedder)
    ds = load_corpus(source)
    emb = Embedder(settings.embedder, settings.embedder_backend or DEFAULT_EMBEDDER_BACKEND)
    index = build_collection(ds, settings.index_dir, emb, name=name,
                             progress=not quiet and not as_json and sys.stderr.isatty())
    manifest = index.require_manifest()
    info = {"collection": name, "index_dir": str(settings.index_dir), "passages": len(ds.corpus),
            "source": str(ds.corpus_path.resolve()), "sha256": ds.sha256["corpus.jsonl"],
            "embedder": manifest.build.get("embedder")}
    if as_json:
        _emit_json(info)
        return
    click.echo(f"Collection {name!r}: {info['passages']} passages from {info['source']} "
               f"(sha256 {info['sha256'][:12]}...), embedder {info['embedder']}.")


# -- serve ----------------------------------------------------------------------------------

@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but loopback needs a token.")
@click.option("--port", type=int, default=8000, show_default=True)
@collection_options
@click.option("--model", default=None, help="Chat model: registry name or .gguf path (default smollm2-135m).")
@click.option("--token-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="File holding the bearer token (or set RAGMED_SERVER_TOKEN). Required off loopback.")
@click.option("--queue-size", type=int, default=8, show_default=True,
              help="Requests that may wait for the model; more get HTTP 503 with Retry-After.")
@click.option("--max-upload-mb", type=float, default=50.0, show_default=True, help="Largest PDF upload.")
@click.option("--upload-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where uploaded PDFs are kept (default: INDEX_DIR/uploads/COLLECTION/).")
@handle_errors
def serve(host, port, collection, index_dir, model, token_file, queue_size, max_upload_mb, upload_dir, **extra):
    """Serve the HTTP API and the web page for staff (http://127.0.0.1:8000/ by default).

    Binds to this machine only unless --host is given with a token. OpenAPI schema at
    /openapi.json; OpenAI-compatible /v1/chat/completions with citations."""
    from .config import Settings
    from .server import serve as run_server
    from .server.security import check_token_strength
    from .server.service import ServerConfig

    token = token_file.read_text(encoding="utf-8").strip() if token_file else os.environ.get("RAGMED_SERVER_TOKEN", "")
    token = check_token_strength(token) if token else None
    settings = Settings.from_env(collection=collection, index_dir=index_dir, model=model,
                                 **{k: v for k, v in extra.items() if v is not None})
    config = ServerConfig(settings=settings, host=host, port=port, token=token, queue_size=queue_size,
                          max_upload_mb=max_upload_mb, upload_dir=upload_dir)
    from .server.security import check_bind

    check_bind(host, token)
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"ragmed serving http://{shown}:{port}/ (collection {settings.collection!r}, model "
               f"{settings.model}, token {'required' if token else 'off: this machine only'}). Ctrl+C stops.",
               err=True)
    run_server(config)


# -- doctor ---------------------------------------------------------------------------------

@cli.command()
@click.option("--model", default=None, help="Chat model to measure (default: the configured one).")
@click.option("--n-ctx", type=int, default=None, help="Context size (default 4096).")
@click.option("--no-measure", is_flag=True, help="Only report the hardware and the build; load no model.")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def doctor(model, n_ctx, no_measure, as_json):
    """What to expect on this machine: CPU and llama.cpp build features, threads, measured prompt
    and generation speed of the model, and the time to first token at the current context budget."""
    from .doctor import diagnose

    rag = _rag(None, None, model=model, n_ctx=n_ctx)
    report = diagnose(rag, measure=not no_measure)
    if as_json:
        _emit_json(report)
        return
    cpu, mem, build = report["cpu"], report["memory"], report["llama_cpp"]
    click.echo(f"CPU      {cpu.get('model', '?')} ({cpu.get('arch')}), {cpu.get('physical_cores', '?')} cores / "
               f"{cpu.get('logical_cpus')} threads; features: {' '.join(cpu.get('features', [])) or '?'}")
    if mem:
        click.echo(f"Memory   {mem['total_mb']:,} MB, {mem['available_mb']:,} MB available")
    if build.get("installed"):
        click.echo(f"llama.cpp  llama-cpp-python {build['version']}; build uses: {' '.join(build['features'])}")
    else:
        click.echo("llama.cpp  not installed: run `make setup`")
    click.echo(f"Threads  {report['ragmed_threads']} (RAGMED_THREADS)")
    if "speed" in report:
        sp, ex, em = report["speed"], report["expected"], report["embedder"]
        rt = sp["runtime"]
        click.echo(f"Model    {sp['model']}: prompt {sp['prompt_tokens_per_s']} tokens/s, generation "
                   f"{sp['generation_tokens_per_s']} tokens/s (n_ctx {sp['n_ctx']}, {sp['threads']} threads, "
                   f"n_batch {rt['n_batch']}/{rt['n_ubatch']}, flash attention {'on' if rt['flash_attn'] else 'off'}, "
                   f"KV {rt['kv_type']})")
        click.echo(f"Expect   time to first token of a grounded answer: about {ex['ttft_cold_s']} s cold "
                   f"({ex['prompt_tokens_at_budget']} prompt tokens), {ex['ttft_prefix_cached_s']} s when the "
                   f"fixed {ex['fixed_prompt_tokens']} tokens are cached (passage budget {ex['passage_tokens']}, "
                   f"RAGMED_PASSAGE_TOKENS; compression {ex['compress_tokens'] or 'off'}, RAGMED_COMPRESS_TOKENS)")
        click.echo(f"Embedder {em['embedder']} ({em['backend']}): {em['tokens_per_s']:,} tokens/s ({em['texts_per_s']} passages/s)")


def main(argv: list[str] | None = None) -> None:
    cli.main(args=argv, prog_name="ragmed")


if __name__ == "__main__":  # pragma: no cover
    main()
