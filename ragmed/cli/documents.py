"""`ragmed ingest`, `sync`, `docs list|remove`, `collections`: what a collection holds."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..config import DEFAULT_EMBEDDER_BACKEND
from ..embed.onnx import BACKENDS
from . import render
from .options import Group, index_dir_option, command, chroma_url_option, collection_options, handle_errors, json_option, make_rag, progress_shown, quiet_option


@command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@collection_options
@click.option("--embedder", default=None, help="Embedder name or model folder (new collections only).")
@click.option("--embedder-backend", type=click.Choice(BACKENDS), default=None,
              help=f"How the embedder runs (new collections; default {DEFAULT_EMBEDDER_BACKEND}, see README Performance).")
@click.option("--chunk-tokens", type=int, default=None, help="Chunk size in embedder tokens (default 200).")
@click.option("--prune", is_flag=True, help="Also remove documents whose files no longer exist.")
@click.option("--rebuild", is_flag=True, help="Drop the collection and index everything again.")
@click.option("--ocr", type=click.Choice(["auto", "off", "force"]), default="auto", show_default=True,
              help="OCR: auto = pages without a text layer and image files; force = every PDF page.")
@click.option("--restore", is_flag=True, help="Also ingest documents of PATHS removed with `docs remove`.")
@click.option("--tag", "tags", multiple=True, metavar="KEY=VALUE",
              help="Tag the documents of this run (repeatable); replaces their previous tags. "
                   "Search with --tag KEY=VALUE; a 'date' tag (YYYY-MM-DD) sets the document date.")
@click.option("--supersedes", "supersedes", default=None, metavar="PATH",
              help="The documents of this run are a new edition of PATH (already in the collection): PATH stays "
                   "searchable, marked superseded. Stored as the tag supersedes=PATH (like --tag, replaces tags).")
@json_option("Print the report as JSON.")
@quiet_option()
@handle_errors
def ingest(paths, collection, index_dir, chroma_url, embedder, embedder_backend, chunk_tokens, prune, rebuild, ocr,
           restore, tags, supersedes, as_json, quiet):
    """Index PDF, Word (.docx), web page (.html), .txt, .md and image files (folders are searched
    recursively; every file not read is listed with why).

    Unchanged files are skipped, changed files replaced; the exit code is 1 if any file failed.
    """
    from ..retrieve.filters import parse_tags

    rag = make_rag(collection, index_dir, chroma_url, embedder, chunk_tokens=chunk_tokens, embedder_backend=embedder_backend)
    tagged = parse_tags(tags) if tags else None
    if supersedes:  # store/versions.py reads it
        tagged = {**(tagged or {}), "supersedes": str(Path(supersedes).expanduser().resolve())}
    report = rag.ingest(paths, prune=prune, rebuild=rebuild, tags=tagged, progress=progress_shown(quiet, as_json),
                        ocr=ocr, restore=restore)
    render.emit_json(report.to_dict()) if as_json else render.ingest_report(report)
    for problem in rag.editions().problems if not as_json else ():
        render.error(problem, prefix="Warning: ")
    sys.exit(0 if report.ok else 1)


@command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@collection_options
@json_option("Print the report as JSON.")
@quiet_option()
@handle_errors
def sync(paths, collection, index_dir, chroma_url, as_json, quiet):
    """Make the collection match PATHS: ingest new and changed files, drop vanished ones."""
    report = make_rag(collection, index_dir, chroma_url).ingest(paths, prune=True, progress=progress_shown(quiet, as_json))
    render.emit_json(report.to_dict()) if as_json else render.ingest_report(report)
    sys.exit(0 if report.ok else 1)


@click.group(cls=Group)
def docs() -> None:
    """List, remove (into the trash), restore and purge the documents of a collection."""


@docs.command("list")
@collection_options
@json_option()
@handle_errors
def docs_list(collection, index_dir, chroma_url, as_json):
    """List the documents in a collection."""
    rag = make_rag(collection, index_dir, chroma_url)
    infos = rag.documents()
    if as_json:
        render.emit_json([i.to_dict() for i in infos])
    else:
        render.documents(infos)
        render.exclusions(rag.excluded())


@docs.command("date")
@click.argument("path")
@click.argument("date")
@collection_options
@json_option()
@handle_errors
def docs_date(path, date, collection, index_dir, chroma_url, as_json):
    """Correct a document's date (YYYY-MM-DD, YYYY-MM or YYYY); `docs list` shows it as set by admin."""
    info = make_rag(collection, index_dir, chroma_url).set_date(path, date)
    render.emit_json(info.to_dict()) if as_json else render.documents([info])


@docs.command("remove")
@click.argument("paths", nargs=-1, required=True)
@collection_options
@click.option("--trash-days", type=float, default=None, metavar="DAYS",
              help="How long the trash keeps the removed documents (default 30).")
@json_option("Print each removal and its trash entry as JSON.")
@handle_errors
def docs_remove(paths, collection, index_dir, chroma_url, trash_days, as_json):
    """Remove documents from a collection into its trash (restorable for 30 days with
    `ragmed docs restore`; the files themselves are not touched). A removed document whose file is
    still in an ingested folder stays out of ingest and sync until restored (or `ingest --restore`)."""
    from ..trash import DEFAULT_TRASH_DAYS, Trash

    done = Trash(make_rag(collection, index_dir, chroma_url), trash_days or DEFAULT_TRASH_DAYS).remove(paths)
    if as_json:
        render.emit_json([{**r.to_dict(), "trash": e.to_dict() if e else None} for r, e in done])
    else:
        render.removals([r for r, _ in done], [e for _, e in done])
    sys.exit(1 if any(r.failed for r, _ in done) else 0)


@command("collections")
@index_dir_option
@chroma_url_option
@json_option("Print the collection names as JSON.")
@handle_errors
def collections(index_dir, chroma_url, as_json):
    """List the collections in the index directory (or on the Chroma server, --chroma-url)."""
    from ..config import Settings
    from ..store.collection import Collection

    settings = Settings.from_env(chroma_url=chroma_url)
    d = index_dir or settings.index_dir
    names = Collection.list_names(d, settings.chroma_url)
    if as_json:
        render.emit_json(names)
    else:
        render.collection_names(names, f"on {settings.chroma_url}" if settings.chroma_url else f"in {d}")


COMMANDS = [ingest, sync, docs, collections]
