"""`ragmed serve`: the HTTP API and the staff web page."""

from __future__ import annotations

from pathlib import Path

import click

from . import render
from .options import command, model_option, collection_options, handle_errors


@command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but loopback needs a token.")
@click.option("--port", type=int, default=8000, show_default=True, help="TCP port to listen on.")
@collection_options
@model_option()
@click.option("--token-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="File holding the admin token: everything, including upload, remove and restore (or set "
                   "RAGMED_SERVER_TOKEN). A token is required off loopback.")
@click.option("--staff-token-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="File holding the staff token: ask, search and read documents only (or set RAGMED_STAFF_TOKEN).")
@click.option("--queue-size", type=int, default=8, show_default=True,
              help="Requests that may wait for the model; more get HTTP 503 with Retry-After.")
@click.option("--max-upload-mb", type=float, default=50.0, show_default=True, help="Largest PDF upload.")
@click.option("--upload-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where uploaded PDFs are kept (default: INDEX_DIR/uploads/COLLECTION/).")
@click.option("--trash-days", type=float, default=30.0, show_default=True,
              help="How long removed documents stay restorable in the trash.")
@click.option("--log-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Operational log (no question or document text; default: INDEX_DIR/logs/ragmed-ops.log).")
@click.option("--thread-retention-days", type=float, default=30.0, show_default=True,
              help="Conversation threads of the web page are kept in INDEX_DIR/threads/ (user-only) and "
                   "deleted after this many days unused; 0 keeps none.")
@handle_errors
def serve(host, port, collection, index_dir, chroma_url, model, token_file, staff_token_file, queue_size,
          max_upload_mb, upload_dir, trash_days, log_file, thread_retention_days):
    """Serve the HTTP API and the web page for staff (http://127.0.0.1:8000/ by default).

    Binds to this machine only unless --host is given with a token. OpenAPI schema at
    /openapi.json; OpenAI-compatible /v1/chat/completions with citations."""
    from .. import oplog
    from ..config import Settings, server_token, staff_token
    from ..server import serve as run_server
    from ..server.security import check_token_strength
    from ..server.service import ServerConfig

    token = token_file.read_text(encoding="utf-8").strip() if token_file else server_token()
    token = check_token_strength(token) if token else None
    staff = staff_token_file.read_text(encoding="utf-8").strip() if staff_token_file else staff_token()
    staff = check_token_strength(staff) if staff else None
    if staff and not token:
        raise click.UsageError("A staff token needs an admin token too (--token-file or RAGMED_SERVER_TOKEN): "
                               "otherwise nobody could upload or remove documents.")
    settings = Settings.from_env(collection=collection, index_dir=index_dir, model=model, chroma_url=chroma_url)
    config = ServerConfig(settings=settings, host=host, port=port, token=token, queue_size=queue_size,
                          max_upload_mb=max_upload_mb, upload_dir=upload_dir, staff_token=staff,
                          trash_days=trash_days, preload=True,
                          thread_retention_days=thread_retention_days)
    oplog.make_handler(log_file or Path(settings.index_dir) / "logs" / "ragmed-ops.log")
    from .local_server import advertise, withdraw

    ad = []  # the file that lets `ragmed search` / `ask --mode evidence` use this server (cli/local_server.py)

    def announce():
        render.serving(host, port, settings.collection, settings.model, bool(token))
        ad.append(advertise(settings, host, port, auth=bool(token or staff)))

    import signal

    def stopped(signum, frame):  # uvicorn re-raises the SIGTERM it caught once it has shut down
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stopped)  # so the file below is withdrawn on `kill` as on Ctrl+C
    try:
        run_server(config, announce=announce)
    finally:
        for path in ad:
            withdraw(path)


COMMANDS = [serve]
