"""`ragmed datasets build NAME --from CORPUS --ray ADDRESS`: the options and the command's body for a
corpus-scale build on a Ray cluster into a Chroma server (ingest/distributed.py, docs/scale.md)."""

from __future__ import annotations

import click

from ..config import DEFAULT_EMBEDDER_BACKEND, Settings
from ..embed.onnx import BACKENDS
from ..ingest.corpus import SHARD_PASSAGES
from . import render


def distributed_options(fn):
    opts = [
        click.option("--ray", "ray_address", default=None, metavar="ADDRESS",
                     help="Build on the Ray cluster at ADDRESS ('auto': the one this node belongs to; 'local': "
                          "a Ray instance in this process) and write to --chroma-url (docs/scale.md)."),
        click.option("--chroma-url", default=None, metavar="URL",
                     help="With --ray: the Chroma server the collection is written to (default $RAGMED_CHROMA_URL)."),
        click.option("--embed-actors", type=int, default=1, show_default=True,
                     help="With --ray: embedding actors (one CPU each unless --cpus-per-actor)."),
        click.option("--cpus-per-actor", type=float, default=1, show_default=True,
                     help="With --ray: CPUs reserved by each actor (also its ONNX/torch threads)."),
        click.option("--batch-size", type=int, default=None,
                     help="With --ray: texts per forward pass (per device) or per request to --embedder-url "
                          "(default: the backend's measured best)."),
        click.option("--shard-size", type=int, default=SHARD_PASSAGES, show_default=True,
                     help="With --ray: passages per shard, the unit of commit and of resume."),
        click.option("--embedder-backend", type=click.Choice(BACKENDS), default=None,
                     help=f"With --ray: how the embedder runs in the actors (default {DEFAULT_EMBEDDER_BACKEND})."),
        click.option("--embedder-url", default=None, metavar="URL",
                     help="With --ray: embed with the model served at this OpenAI-compatible endpoint "
                          "(http://HOST:PORT/v1; --embedder names the served model)."),
    ]
    for opt in reversed(opts):
        fn = opt(fn)
    return fn


def build(name, source, index_dir, embedder, as_json, quiet, ray_address, chroma_url, embed_actors, cpus_per_actor,
          batch_size, shard_size, embedder_backend, embedder_url) -> None:
    from ..ingest.distributed import build_distributed, print_progress

    settings = Settings.from_env(collection=name, index_dir=index_dir, chroma_url=chroma_url or None)
    if embedder_url:
        spec = {"kind": "remote", "url": embedder_url, "model": embedder or settings.embedder}
    else:
        spec = {"kind": "local", "name": embedder or settings.embedder,
                "backend": embedder_backend or DEFAULT_EMBEDDER_BACKEND}
    built = build_distributed(name, source, settings.chroma_url, settings.index_dir, ray_address=ray_address,
                              embed_actors=embed_actors, embedder=spec, batch_size=batch_size,
                              shard_passages=shard_size, cpus_per_actor=cpus_per_actor,
                              on_shard=None if quiet or as_json else print_progress)
    if as_json:
        render.emit_json(built.to_dict())
        return
    click.echo(f"Collection {built.collection!r} on {built.chroma_url}: {built.passages} passages "
               f"({built.shards_done} shards built now, {built.shards_unchanged} already committed, "
               f"{built.shards_removed} removed); {built.passages_done} embedded by {built.actors} actor(s) at "
               f"{built.passages_per_s:.0f} passages/s; BM25 built in {built.lexical_seconds:.1f} s; "
               f"embedder {built.embedder} ({built.embedder_backend}).")
    for w in built.warnings:
        click.echo(f"warning: {w}", err=True)


def refuse_without_ray(options: dict) -> None:
    """The --ray options given without --ray are an error, not ignored."""
    defaults = {"embed_actors": 1, "cpus_per_actor": 1, "shard_size": SHARD_PASSAGES}
    given = [k for k, v in options.items() if v is not None and v != defaults.get(k)]
    if given:
        raise click.UsageError(f"{', '.join('--' + k.replace('_', '-') for k in given)} need --ray ADDRESS "
                               "(use --ray local for this machine alone).")
