"""`ragmed eval retrieval`, `compare` and `datasets build`: measurements on benchmark data."""

from __future__ import annotations

from pathlib import Path

import click

from ..config import DEFAULT_EMBEDDER_BACKEND
from ..embed.onnx import BACKENDS
from . import render
from .scale import build, distributed_options, refuse_without_ray
from .options import Group, model_option, warn, index_dir_option, command, collection_options, handle_errors, json_option, progress_shown, quiet_option


@click.group("eval", cls=Group)
def eval_() -> None:
    """Measure retrieval quality on your own or public judgements."""


@eval_.command("retrieval")
@click.option("--dataset", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="BEIR folder: corpus.jsonl, queries.jsonl, qrels/*.tsv.")
@click.option("--split", type=click.Choice(["dev", "test", "all"]), default="test", show_default=True,
              help="Queries by sha1(query id): dev = first hex digit 0-b, test = c-f.")
@click.option("--retrieval", "-r", "modes", multiple=True, type=click.Choice(["dense", "lexical", "hybrid"]),
              help="Retrieval modes to compare (repeatable; default all three).")
@click.option("--mode", "old_modes", multiple=True, type=click.Choice(["dense", "lexical", "hybrid"]), hidden=True,
              help="Old spelling of --retrieval (accepted with a warning).")
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
@json_option("Print the summary as JSON.")
@quiet_option("No progress bars.")
@handle_errors
def eval_retrieval(dataset, split, modes, old_modes, qrels, limit, reranker, embedder, embedder_backend, out, index_dir,
                   as_json, quiet):
    """nDCG@10, Recall@10/100, MRR@10 and latency of each retrieval mode on a BEIR folder."""
    from ..eval.runs import retrieval_eval

    if old_modes:
        warn("--mode is the old spelling of --retrieval here; use --retrieval.")
        modes = tuple(modes) + tuple(old_modes)

    ds, ev = retrieval_eval(dataset, split=split, modes=modes, qrels=qrels, limit=limit, reranker=reranker,
                            embedder=embedder, embedder_backend=embedder_backend, out=out, index_dir=index_dir,
                            progress=progress_shown(quiet, as_json))
    render.emit_json(ev.to_dict()) if as_json else render.retrieval_eval(ds, ev, split, out)


@command()
@click.option("--dataset", required=True, metavar="NAME|PATH.jsonl",
              help="pubmedqa, bioasq-yesno, mirage, mirage:{medqa,medmcqa,mmlu,pubmedqa,bioasq}, or your JSONL "
                   '({"id", "question", "answer", optional "options": {"A": ...}}).')
@collection_options
@model_option()
@click.option("-k", type=int, default=3, show_default=True, help="Passages retrieved for the grounded arm.")
@click.option("--limit", type=int, default=None, help="Only the first N questions of the split.")
@click.option("--split", type=click.Choice(["dev", "test", "all"]), default="dev", show_default=True,
              help="Questions by sha1(id): dev = first hex digit 0-b, test = c-f.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed of the question sample and sampling.")
@click.option("--max-tokens", type=int, default=64, show_default=True, help="Answer length limit per arm.")
@click.option("--n-ctx", type=int, default=None, help="Model context size (default 4096).")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder holding the datasets (default: $RAGMED_EVAL_DIR, else ../shared/eval).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Run folder: header.json, records.jsonl, summary.json, report.md, report.html. "
                   "Rerunning with the same folder continues the run.")
@click.option("--thinking", "thinking", multiple=True, metavar="MODE",
              help="Thinking mode of reasoning models: on, off or 'budget N'. Repeat to run each mode as "
                   "its own arm (results in OUT/thinking-MODE/), to measure what reasoning adds.")
@json_option("Print the summary as JSON.")
@quiet_option()
@handle_errors
def compare(dataset, collection, index_dir, chroma_url, model, k, limit, split, seed, max_tokens, n_ctx, data_dir, out,
            thinking, as_json, quiet):
    """Answer benchmark questions with and without retrieved evidence (same model, decoding, seed).

    Writes one record per question and a report with accuracy and 95% intervals per arm, the
    paired difference with McNemar's exact test, unparseable and abstention rates, tokens and
    latency. Resumable: rerun the same command to continue."""
    from ..eval.comparison import compare as run

    for mode in thinking or (None,):
        where = Path(out) / ("thinking-" + "-".join(mode.split())) if len(thinking) > 1 else out
        result = run(dataset, collection=collection, index_dir=index_dir, chroma_url=chroma_url, model=model, k=k,
                     limit=limit, split=split, seed=seed, out=where, data_dir=data_dir, max_tokens=max_tokens,
                     n_ctx=n_ctx, progress=progress_shown(quiet, as_json), thinking=mode)
        render.emit_json(result.to_dict()) if as_json else render.comparison(result.summary, where)


@click.group(cls=Group)
def datasets() -> None:
    """Build collections from benchmark corpora (for `ragmed compare`)."""


@datasets.command("build")
@click.argument("name")
@click.option("--from", "source", required=True, type=click.Path(exists=True, path_type=Path),
              help="A BEIR folder (its corpus.jsonl) or a JSONL of {\"_id\"|\"id\", \"title\", \"text\"} passages.")
@index_dir_option
@click.option("--embedder", default=None, help="Embedder name or folder (default: bundled MiniLM).")
@distributed_options
@json_option("Print what was built (collection, passages, time) as JSON.")
@quiet_option()
@handle_errors
def datasets_build(name, source, index_dir, embedder, as_json, quiet, ray_address=None, **distributed):
    """Make collection NAME from a corpus, one passage per chunk (reused if already built).

    For PubMedQA*: `ragmed datasets build pubmedqa --from ../shared/eval/beir/pubmedqa_pqal` (the
    1,000 abstracts; each question's own abstract must then be retrieved). BioASQ:
    `--from ../shared/eval/beir/bioasq_7b-11b_snippets`. A large corpus (PubMed's 23.9M MedRAG snippets):
    `--ray ADDRESS --chroma-url URL --embed-actors N` (docs/scale.md)."""
    if ray_address:  # corpus scale: Ray actors embed, a Chroma server holds the index (cli/scale.py)
        return build(name, source, index_dir, embedder, as_json, quiet, ray_address, **distributed)
    refuse_without_ray(distributed)
    from ..eval.runs import build_dataset

    built = build_dataset(name, source, index_dir=index_dir, embedder=embedder, progress=progress_shown(quiet, as_json))
    render.emit_json(built.to_dict()) if as_json else render.dataset_built(built)


COMMANDS = [eval_, compare, datasets]
