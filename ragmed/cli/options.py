"""What the commands share: process defaults, logging, error handling, common options, `RagMed`."""

from __future__ import annotations

import logging
import sys
from functools import wraps
from pathlib import Path

import click

from . import render


def env_defaults() -> None:
    """Process-wide library switches, set once when the command line starts (embed/offline.py)."""
    from ..embed.offline import process_defaults

    process_defaults()


def setup_logging(verbose: int) -> None:
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    for noisy in ("bm25s", "chromadb", "httpx", "sentence_transformers", "transformers", "urllib3"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


def make_rag(collection, index_dir, chroma_url=None, embedder=None, **overrides):
    """A `RagMed` for this command's collection and options (None: the setting's default)."""
    from ..api import RagMed

    return RagMed(collection=collection, index_dir=index_dir, embedder=embedder, chroma_url=chroma_url,
                  **overrides)


def progress_shown(quiet: bool, as_json: bool) -> bool:
    """Progress bars only for a person watching stderr."""
    return not quiet and not as_json and sys.stderr.isatty()


def handle_errors(fn):
    """A `RagmedError` becomes one line on stderr and exit code 1; Ctrl+C exit code 130."""
    @wraps(fn)
    def wrapper(*args, **kwargs):
        from ..errors import RagmedError

        try:
            return fn(*args, **kwargs)
        except RagmedError as exc:
            render.error(str(exc))
            sys.exit(1)
        except KeyboardInterrupt:
            render.error("Interrupted. Re-run the same command to finish; nothing is left half-done.", prefix="")
            sys.exit(130)

    return wrapper


# Options shown last, under "Advanced options", in every command's help (common ones come first).
ADVANCED = frozenset({
    "index_dir", "chroma_url", "generator_url", "reasoning_tokens", "n_ctx", "seed", "temperature", "preset",
    "verifier", "compress_tokens", "no_abstain", "show_withheld", "show_reasoning", "neighbours", "reranker",
    "embedder", "embedder_backend", "chunk_tokens", "queue_size", "max_upload_mb", "upload_dir", "endpoint",
    "no_retrieval", "rebuild", "trash_days", "log_file", "no_server",
})


class Command(click.Command):
    """A command whose help lists the common options first and the advanced ones (`ADVANCED`) in a
    section of their own, last."""

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        common, advanced = [], []
        for param in self.get_params(ctx):
            if not isinstance(param, click.Option):
                continue
            record = param.get_help_record(ctx)
            if record is not None:
                (advanced if param.name in ADVANCED else common).append(record)
        if common:
            with formatter.section("Options"):
                formatter.write_dl(common)
        if advanced:
            with formatter.section("Advanced options"):
                formatter.write_dl(advanced)


class Group(click.Group):
    command_class = Command
    group_class = type


def command(*args, **kwargs):
    """`click.command` with this CLI's help layout (`Command`)."""
    kwargs.setdefault("cls", Command)
    return click.command(*args, **kwargs)


def model_option(help_text: str = "Chat model: a bundled or pulled model's name, or a .gguf path "
                                  "(default smollm2-135m or $RAGMED_MODEL)."):
    """--model/-m, the same short flag in every command that loads a chat model."""
    return click.option("--model", "-m", default=None, metavar="NAME|PATH", help=help_text)


def warn(message: str) -> None:
    render.error(message, prefix="warning: ")


def chroma_url_option(fn):
    """--chroma-url URL: the `chroma_url` setting for this command (an override like any other)."""
    return click.option("--chroma-url", default=None, metavar="URL",
                        help="Use the shared index on the Chroma server at URL (http://HOST:PORT) instead of "
                             "the embedded one (default: $RAGMED_CHROMA_URL).")(fn)


def json_option(help_text: str | None = None):
    return click.option("--json", "as_json", is_flag=True, help=help_text or "Print the result as JSON.")


def quiet_option(help_text: str = "No progress bar."):
    return click.option("--quiet", "-q", is_flag=True, help=help_text)


def collection_options(fn):
    fn = click.option("--collection", "-c", default=None, help="Collection name (default: 'default' or $RAGMED_COLLECTION).")(fn)
    fn = index_dir_option(fn)
    return chroma_url_option(fn)


INDEX_DIR_HELP = ("Folder of the collections (default: $RAGMED_INDEX_DIR, else $RAGMED_HOME/indexes, else "
                  "./indexes if it exists, else your per-user data folder, e.g. ~/.local/share/ragmed/indexes).")


def index_dir_option(fn):
    return click.option("--index-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
                        metavar="DIR", help=INDEX_DIR_HELP)(fn)


RETRIEVALS = ("dense", "lexical", "hybrid")


def retrieval_choice(retrieval: str | None, mode: str | None) -> str | None:
    """The retrieval mode from --retrieval, or from the old spelling `--mode dense|lexical|hybrid`
    (accepted with a warning; `--mode` now means the answer mode of `ask`)."""
    if mode in RETRIEVALS:
        warn(f"--mode {mode} is the old spelling of --retrieval {mode}; use --retrieval.")
        if retrieval and retrieval != mode:
            raise click.UsageError(f"--mode {mode} (old spelling of --retrieval) contradicts --retrieval {retrieval}.")
        return mode
    return retrieval


def retrieval_options(fn):
    """Options shared by `search` and `ask`: retrieval mode, filters, reranker, neighbour context."""
    opts = [
        click.option("--retrieval", "-r", type=click.Choice(RETRIEVALS), default=None,
                     help="How passages are found: dense (meaning), lexical (words, BM25) or hybrid "
                          "(both, fused; default, or $RAGMED_RETRIEVAL)."),
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


def search_filter(docs_, sections, tags, after, before):
    from ..retrieve.filters import SearchFilter, parse_tags

    return SearchFilter(documents=tuple(docs_), sections=tuple(sections), tags=parse_tags(tags),
                        after=after, before=before)
