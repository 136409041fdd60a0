"""`ragmed models list|pull|verify|path|rm` and `ragmed doctor`: the chat models on this machine and
what speed to expect from them."""

from __future__ import annotations

import sys

import click

from . import render
from .options import Group, command, index_dir_option, model_option, handle_errors, json_option, make_rag


@click.group(cls=Group)
def models() -> None:
    """List, download, verify, locate and remove chat models (stored under $RAGMED_HOME/models)."""


@models.command("list")
@json_option()
@handle_errors
def models_list(as_json):
    """Every known model and where it stands: bundled, missing, pulled or verified."""
    from ..models.store import ModelStore

    rows = ModelStore().list()
    render.emit_json([r.to_dict() for r in rows]) if as_json else render.model_list(rows)


@models.command("pull")
@click.argument("name")
@click.option("--endpoint", default=None, help="Hub URL (default: $HF_ENDPOINT, else huggingface.co).")
@json_option()
@handle_errors
def models_pull(name, endpoint, as_json):
    """Download NAME once (resumable, sha256-checked); afterwards it runs offline."""
    from ..models.store import ModelStore

    st = ModelStore().pull(name, endpoint=endpoint, progress=not as_json and sys.stderr.isatty())
    render.emit_json(st.to_dict()) if as_json else render.model_pulled(st)


@models.command("verify")
@click.argument("name")
@json_option()
@handle_errors
def models_verify(name, as_json):
    """Re-hash NAME's file and compare it with the pinned or recorded sha256."""
    from ..models.store import ModelStore

    st = ModelStore().verify(name)
    render.emit_json(st.to_dict()) if as_json else render.model_verified(st)


@models.command("path")
@click.argument("name")
@json_option()
@handle_errors
def models_path(name, as_json):
    """Print the local file of NAME (fails with the pull command if it is missing)."""
    from ..models.store import ModelStore

    p = ModelStore().path(name)
    render.emit_json({"name": name, "path": str(p)}) if as_json else render.lines(str(p))


@models.command("rm")
@click.argument("name")
@json_option()
@handle_errors
def models_rm(name, as_json):
    """Delete a pulled model and any partial download of it."""
    from ..models.store import ModelStore

    removed = ModelStore().rm(name)
    render.emit_json({"name": name, "removed": removed}) if as_json else render.model_removed(name, removed)


@command()
@model_option("Chat model to measure: name or .gguf path (default: the configured one).")
@click.option("--collection", "-c", default=None,
              help="Also check this collection: missing source files, free disk space, the embedder's export.")
@click.option("--n-ctx", type=int, default=None, help="Context size (default 4096).")
@click.option("--no-measure", is_flag=True, help="Only report the hardware and the build; load no model.")
@index_dir_option
@json_option("Print the whole report as JSON at the end.")
@handle_errors
def doctor(model, collection, n_ctx, no_measure, index_dir, as_json):
    """What to expect on this machine, printed as it is measured: CPU and llama.cpp build features,
    threads, the model's load time and measured prompt and generation speed, the time to first
    token at the current context budget, and a verdict in seconds. Warns when the machine is busy."""
    from ..doctor import diagnose

    rag = make_rag(collection, index_dir, model=model, n_ctx=n_ctx)
    report = diagnose(rag, measure=not no_measure, collection=collection is not None,
                      on_part=None if as_json else render.doctor_part)
    if as_json:
        render.emit_json(report)


COMMANDS = [models, doctor]
