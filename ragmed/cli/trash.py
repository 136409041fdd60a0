"""`ragmed docs trash|restore|purge`: the documents removed from a collection, kept for N days
(ragmed/trash.py); `ragmed docs remove` puts them there."""

from __future__ import annotations

import sys

import click

from . import render
from .documents import docs
from .options import collection_options, handle_errors, json_option, make_rag


def _trash(collection, index_dir, chroma_url):
    from ..trash import Trash

    return Trash(make_rag(collection, index_dir, chroma_url))


@docs.command("trash")
@collection_options
@json_option("Print the trash entries as JSON.")
@handle_errors
def docs_trash(collection, index_dir, chroma_url, as_json):
    """List the removed documents that can still be restored (oldest are purged after 30 days)."""
    t = _trash(collection, index_dir, chroma_url)
    entries = t.entries()
    render.emit_json([e.to_dict() for e in entries]) if as_json else render.trash(entries, f"in {t.root.absolute()}")


@docs.command("restore")
@click.argument("entry")
@collection_options
@json_option("Print the ingest report as JSON.")
@handle_errors
def docs_restore(entry, collection, index_dir, chroma_url, as_json):
    """Put a removed document back (ENTRY: its trash id, file name or path, from `ragmed docs trash`)."""
    report = _trash(collection, index_dir, chroma_url).restore(entry)
    render.emit_json(report.to_dict()) if as_json else render.ingest_report(report)
    sys.exit(0 if report.ok else 1)


@docs.command("purge")
@collection_options
@click.option("--all", "everything", is_flag=True, help="Empty the whole trash now, not only the expired entries.")
@json_option("Print the purged entries as JSON.")
@handle_errors
def docs_purge(collection, index_dir, chroma_url, everything, as_json):
    """Delete the trash entries past their keeping time (or all of them with --all): no undo."""
    gone = _trash(collection, index_dir, chroma_url).purge(everything=everything)
    render.emit_json([e.to_dict() for e in gone]) if as_json else render.lines(
        f"Purged {len(gone)} document(s) from the trash.")


COMMANDS: list = []  # the commands above belong to the `docs` group (documents.py)
