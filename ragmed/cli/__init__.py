"""The `ragmed` command line: thin commands over the library, one renderer for their output.

Commands by topic: documents.py (ingest, sync, docs, collections), trash.py (docs trash|restore|purge), answers.py (search, ask,
calibrate), chat.py (chat), models.py (models, doctor), research.py (eval, compare, datasets), server.py (serve).
options.py holds what they share; render.py prints every human-readable line. Every command but
`serve` and the interactive `chat` prints JSON with `--json`. Errors are one line on stderr that says what to do, with a
non-zero exit code.
"""

from __future__ import annotations

import click

from . import answers, chat, documents, models, research, server, trash  # noqa: F401 (trash adds docs commands)
from .options import env_defaults, setup_logging


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More logging (-vv for debug). Question text is logged only with RAGMED_LOG_CONTENT=1.")
@click.version_option(package_name="ragmed")
def cli(verbose: int) -> None:
    """ragmed: grounded, cited answers from your own medical documents, fully on this device."""
    env_defaults()
    setup_logging(verbose)


for _module in (documents, answers, chat, models, research, server):
    for _command in _module.COMMANDS:
        cli.add_command(_command)


def main(argv: list[str] | None = None) -> None:
    cli.main(args=argv, prog_name="ragmed")


__all__ = ["cli", "main"]
