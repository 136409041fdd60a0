"""`ragmed search`, `ask` and `calibrate`: passages, cited answers, and the abstention gate."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import render
from .options import (collection_options, command, handle_errors, json_option, make_rag, model_option,
                      retrieval_choice, retrieval_options, search_filter, warn)
from .local_server import no_server_option, via_server


@command()
@click.argument("query")
@collection_options
@click.option("-k", type=int, default=None, help="How many passages (default 3).")
@retrieval_options
@click.option("--mode", type=click.Choice(["dense", "lexical", "hybrid", "evidence"]), default=None, hidden=True,
              help="Old spelling of --retrieval (accepted with a warning).")
@click.option("--dedup", is_flag=True, help="Drop passages that repeat a higher-ranked one (as `ask` does).")
@json_option("Print the passages as JSON (text, source, page, section, score).")
@no_server_option
@handle_errors
def search(query, collection, index_dir, chroma_url, k, retrieval, docs_, sections, tags, after, before, neighbours,
           reranker, mode, dedup, as_json, no_server):
    """Show the passages that best match QUERY."""
    if mode == "evidence":
        raise click.UsageError("Evidence mode is an answer mode: use `ragmed ask --mode evidence QUESTION`.")
    retrieval = retrieval_choice(retrieval, mode)
    if not no_server and not dedup and via_server("search", query, collection, index_dir, chroma_url, k,
                                                  search_filter(docs_, sections, tags, after, before), as_json,
                                                  retrieval=retrieval, neighbours=neighbours, reranker=reranker):
        return
    rag = make_rag(collection, index_dir, chroma_url, retrieval=retrieval, neighbours=neighbours, reranker=reranker)
    where = search_filter(docs_, sections, tags, after, before)
    passages = rag.search(query, k, filter=where, dedup=rag.settings.dedup if dedup else None)
    if as_json:
        render.emit_json([p.to_dict() for p in passages])
    elif not passages and not where.empty:
        render.error(f"The filter ({where.describe()}) matched no document of collection "
                     f"{rag.settings.collection!r}; list the documents with `ragmed docs list`.", prefix="")
    else:
        render.passages(passages)


@command()
@click.argument("question")
@collection_options
@click.option("-k", type=int, default=None, help="Passages the model reads (default 3; evidence sentences come from the top 5 or k).")
@click.option("--mode", type=click.Choice(["answer", "evidence", "dense", "lexical", "hybrid"]), default=None,
              metavar="[answer|evidence]",
              help="answer: the model writes, each sentence checked (default); evidence: no model, the "
                   "best sentences of your documents, each cited.")
@model_option()
@click.option("--no-retrieval", is_flag=True, help="Answer without documents (same model and settings).")
@click.option("--max-tokens", type=int, default=None, help="Longest answer in tokens (default 512).")
@click.option("--temperature", type=float, default=None, help="0 = greedy, reproducible (default).")
@click.option("--seed", type=int, default=None, help="Random seed for sampling (default 0; with temperature 0 it has no effect).")
@click.option("--n-ctx", type=int, default=None, help="Model context size in tokens (default 4096).")
@click.option("--generator-url", default=None, metavar="URL",
              help="Generate on an OpenAI-compatible server (llama.cpp, vLLM) instead of in-process.")
@click.option("--show-reasoning", is_flag=True, help="Also print the model's reasoning trace.")
@click.option("--reasoning-tokens", type=int, default=None,
              help="Thinking budget of reasoning models (default 1024); then ragmed closes the trace.")
@click.option("--thinking", default=None, metavar="on|off|'budget N'",
              help="Reasoning models: on (default), off (answer at once) or 'budget N' (at most N tokens).")
@click.option("--speculative/--no-speculative", default=None,
              help="Prompt-lookup decoding, drafted from the passages (default off; experimental: greedy text can differ at near-ties).")
@click.option("--preset", type=click.Choice(["deterministic", "medpsy"]), default=None,
              help="Sampling preset (default deterministic: greedy, seeded; medpsy: the model card's).")
@click.option("--stream/--no-stream", default=None, help="Print the answer as it is written (default: on a terminal).")
@click.option("--evidence", is_flag=True, hidden=True, help="Old spelling of --mode evidence.")
@click.option("--no-abstain", is_flag=True,
              help="Research: generate even when the gate finds the documents do not cover the question.")
@click.option("--show-withheld", is_flag=True,
              help="Research: also print the sentences the checks did not find supported, and a withheld "
                   "answer, marked as such (never shown as the answer).")
@click.option("--verifier", default=None, metavar="DIR",
              help="Check claims with a local NLI or cross-encoder folder (default: the built-in checker).")
@click.option("--compress-tokens", type=int, default=None, metavar="N",
              help="Prompt compression: give the model only the retrieved sentences that best answer, "
                   "within N passage tokens (faster first token; default 200 or $RAGMED_COMPRESS_TOKENS; 0 = off).")
@click.option("--history", "history_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="Earlier turns (JSON: [{\"question\", \"answer\"}], OpenAI messages, or a "
                                 "saved `ragmed chat` thread): QUESTION is a follow-up to them.")
@retrieval_options
@json_option("Print the answer, abstention, per-claim support, citations and passages as JSON.")
@no_server_option
@handle_errors
def ask(question, collection, index_dir, chroma_url, k, mode, model, no_retrieval, max_tokens, temperature, seed, n_ctx,
        generator_url, show_reasoning, reasoning_tokens, thinking, speculative, preset, stream, evidence, no_abstain, show_withheld, verifier,
        compress_tokens, history_file, retrieval, docs_, sections, tags, after, before, neighbours, reranker, as_json, no_server):
    """Answer QUESTION from the collection's documents, with numbered, checked citations.

    The best sentences of your documents come first; then the model's answer, one checked sentence
    at a time: only sentences the cited passage states are shown as the answer, the others are
    listed with why. If the documents do not cover the question, ragmed says so and lists the
    nearest sources instead of answering.

    Exit status: 0 when a checked answer was shown (in evidence mode: evidence sentences); 3 when
    ragmed gave no checked answer (the documents do not cover the question; the answer was
    withheld or the model found none, and the evidence sentences were shown instead), so scripts
    can tell; 1 on an error."""
    if evidence:
        warn("--evidence is the old spelling of --mode evidence; use --mode evidence.")
    retrieval = retrieval_choice(retrieval, mode)
    evidence = evidence or mode == "evidence"
    if evidence and no_retrieval:
        raise click.UsageError("--mode evidence quotes your documents; it cannot be combined with --no-retrieval.")
    if evidence and not no_server and history_file is None:
        served = via_server(
            "evidence", question, collection, index_dir, chroma_url, k, search_filter(docs_, sections, tags, after, before),
            as_json, show_withheld=show_withheld, retrieval=retrieval, neighbours=neighbours, reranker=reranker,
            abstain=False if no_abstain else None, verifier=verifier, compress_tokens=compress_tokens)
        if served:
            sys.exit(exit_status(served))
    rag = make_rag(collection, index_dir, chroma_url, model=model, max_tokens=max_tokens, temperature=temperature,
                   seed=seed, n_ctx=n_ctx, retrieval=retrieval, neighbours=neighbours, reranker=reranker,
                   reasoning_tokens=reasoning_tokens, thinking=thinking, speculative=speculative, preset=preset, generator_url=generator_url,
                   abstain=False if no_abstain else None, verifier=verifier, compress_tokens=compress_tokens)
    where = search_filter(docs_, sections, tags, after, before)
    if not evidence and not as_json and not rag.settings.generator_url:
        from ..models.registry import is_demo

        if is_demo(rag.settings.model):
            warn(f"{rag.settings.model} is the bundled demonstration model (135M parameters), not a clinical "
                 "one: it proves the pipeline and answers poorly. Use --model with a real model "
                 "(`ragmed models list`), or --mode evidence.")
    turns: dict = {}  # --history: earlier turns and instructions (cli/chat.py)
    if history_file is not None:
        from .chat import read_history

        turns["history"], instructions = read_history(history_file)
        if instructions and not evidence:
            turns["instructions"] = instructions
    if stream is None:
        stream = sys.stdout.isatty()
    streamed = False
    if evidence:
        answer = rag.evidence(question, k=k, filter=where, **turns)
        if as_json:
            data = answer.to_dict()
            render.emit_json(data)
            sys.exit(exit_status(data))
        render.evidence_text(answer)
    elif as_json:
        data = rag.ask(question, k=k, grounded=not no_retrieval, filter=where, **turns).to_dict()
        render.emit_json(data)
        sys.exit(exit_status(data))
    elif stream:
        from .progress import staged

        try:
            answer, streamed = render.stream_answer(
                staged(rag.ask_stream(question, k=k, grounded=not no_retrieval, filter=where, **turns), rag), show_reasoning,
                question)
        except KeyboardInterrupt:
            render.error("Stopped: the model was interrupted and nothing more is written; no answer was given.",
                         prefix="\n")
            sys.exit(130)
    else:
        answer = rag.ask(question, k=k, grounded=not no_retrieval, filter=where, **turns)
        render.answer_text(answer, show_reasoning)
    render.answer_footer(answer, streamed, evidence, show_withheld)
    sys.exit(exit_status(answer.to_dict()))


NOT_ANSWERED = 3  # the exit status of `ask` without a checked answer, as `check`'s for an unsupported sentence


def exit_status(answer: dict) -> int:
    """`ask`'s exit status from the answer's JSON: 0 when a checked answer (or evidence) was shown
    (or an ungrounded answer, which is not checked); `NOT_ANSWERED` when ragmed gave none: the gate
    refused, the answer was withheld, the model found no answer, or none was produced."""
    if answer.get("abstained"):
        return NOT_ANSWERED
    if answer.get("grounded", True) and not str(answer.get("answer", "")).strip():
        return NOT_ANSWERED
    return 0


@command()
@click.argument("text")
@click.option("--passage", "-p", "passages", multiple=True, metavar="TEXT",
              help="A passage (repeat: the first is [1], the next [2], ...).")
@click.option("--passages-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Passages from a file: one per line, or JSONL with a \"text\" field.")
@collection_options
@json_option("Print the claims with their verdicts and reasons as JSON.")
@handle_errors
def check(text, passages, passages_file, collection, index_dir, chroma_url, as_json):
    """Check TEXT's sentences against passages it cites as [1], [2], ... (any model's text).

    Each sentence gets a verdict: supported (the cited passage states it: the same quantities and
    units, polarity, direction, population and strength), unsupported (with why), or uncited.
    Exit code: 0 when every sentence is supported, 3 when any is unsupported or uncited (so scripts
    can gate on it), 1 on an error, 2 on a usage error."""
    from ..files import read_texts

    given = list(passages) + (read_texts(passages_file) if passages_file else [])
    if not given:
        raise click.UsageError("Give the passages: --passage TEXT (repeatable) or --passages-file FILE.")
    result = make_rag(collection, index_dir, chroma_url).check(text, given)
    render.emit_json(result.to_dict()) if as_json else render.checked(result)
    sys.exit(0 if all(c.status == "supported" for c in result.claims) else 3)


@command()
@collection_options
@click.option("--answerable", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Questions your documents answer: one per line, or JSONL with a \"question\" field.")
@click.option("--unanswerable", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Questions they do not answer (same format).")
@click.option("--dry-run", is_flag=True, help="Report the fit without storing it with the collection.")
@json_option("Print the fit (threshold, separation, counts) as JSON.")
@handle_errors
def calibrate(collection, index_dir, chroma_url, answerable, unanswerable, dry_run, as_json):
    """Fit the abstention gate to this collection and store it with the collection.

    The gate scores each question's retrieval evidence (similarity, term coverage, agreement of
    the dense and lexical rankings); the threshold that best separates the two files is kept.
    Only retrieval runs: no model is needed."""
    from ..eval.calibration import calibrate_files

    run = calibrate_files(make_rag(collection, index_dir, chroma_url), answerable, unanswerable, save=not dry_run)
    render.emit_json(run.to_dict()) if as_json else render.calibration(run)


COMMANDS = [search, ask, check, calibrate]
