"""`ragmed chat`: an interactive conversation over the collection (follow-ups know what came before).

Commands inside the chat: /sources (the last answer's sources), /evidence (its evidence sentences),
/new (a new thread: forget the turns), /history (the questions so far), /save FILE, /help, /quit
(or Ctrl-D). Lines are edited with readline (arrows, history) where Python has it.

Privacy: nothing is written to disk unless asked (`--save FILE`, or /save): no transcript, no
readline history file. A saved thread is JSON readable only by the user (0600); `ragmed chat
--history FILE` and `ragmed ask --history FILE` continue it.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from ..errors import InputError
from . import render
from .options import collection_options, command, handle_errors, make_rag, model_option

HELP = ("Commands: /sources  /evidence  /new (new thread)  /history  /save FILE  /help  /quit\n"
        "Ask a follow-up as you would ask a colleague (\"and in children?\"); ragmed shows what it searched for.")


def read_history(path: Path):
    """(turns, instructions) from a JSON file: a list of {"question", "answer"} turns, OpenAI
    messages, or a saved thread ({"instructions", "turns"})."""
    from ..conversation import split_messages, to_turns

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: not a readable JSON file ({exc}).") from exc
    instructions = ""
    if isinstance(data, dict):
        instructions, data = str(data.get("instructions", "") or ""), data.get("turns", [])
    if not isinstance(data, list):
        raise InputError(f"{path}: expected a list of turns or messages, or {{\"turns\": [...]}}.")
    if data and all(isinstance(m, dict) and "role" in m for m in data):
        system = "\n".join(str(m.get("content", "")) for m in data if m.get("role") in ("system", "developer"))
        rest = [m for m in data if m.get("role") not in ("system", "developer")]
        return split_messages([*rest, {"role": "user", "content": "."}])[1], system or instructions
    return to_turns(data), instructions


def save(conv, path: Path) -> None:
    """Write the thread as JSON readable only by the user."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(conv.to_dict(), f, indent=1, ensure_ascii=False)
    os.chmod(path, 0o600)
    click.echo(f"Saved {len(conv.turns)} turn(s) to {path} (readable only by you).")


def _editing() -> None:
    try:
        import readline  # noqa: F401 - line editing for input(); its history stays in memory
    except ImportError:  # pragma: no cover - Windows without pyreadline
        pass


def _command(line: str, conv, save_to: Path | None) -> bool:
    """Run a /command; False means quit."""
    cmd, _, arg = line[1:].partition(" ")
    last = conv.last
    if cmd in ("quit", "exit", "q"):
        return False
    if cmd == "help":
        click.echo(HELP)
    elif cmd == "new":
        conv.clear()
        click.echo("New thread: earlier questions are forgotten.")
    elif cmd == "history":
        for n, t in enumerate(conv.turns, 1):
            shown = f"  (searched for: {t.query})" if t.query and t.query != t.question else ""
            click.echo(f"{n}. {t.question}{shown}")
        if not conv.turns:
            click.echo("No questions yet in this thread.")
    elif cmd in ("sources", "evidence") and last is None:
        click.echo("Ask a question first.")
    elif cmd == "sources":
        render.sources(last)
    elif cmd == "evidence":
        render.evidence_block(last.evidence) if last.evidence else click.echo("No evidence sentences for the last answer.")
    elif cmd == "save":
        target = Path(arg.strip()).expanduser() if arg.strip() else save_to
        if target is None:
            click.echo("Give a file: /save FILE")
        else:
            save(conv, target)
    else:
        click.echo(f"Unknown command /{cmd}. {HELP}")
    return True


@command()
@collection_options
@click.option("-k", type=int, default=None, help="Passages the model reads per question (default 3; evidence sentences come from the top 5 or k).")
@model_option()
@click.option("--mode", "answer_mode", type=click.Choice(["answer", "evidence"]), default="answer", show_default=True,
              help="answer: the model answers, each sentence checked; evidence: no model, cited sentences.")
@click.option("--evidence", is_flag=True, hidden=True, help="Old spelling of --mode evidence.")
@click.option("--history", "history_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="Continue a saved thread (or any JSON history, as `ragmed ask --history`).")
@click.option("--save", "save_to", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Save the thread to FILE when the chat ends (default: nothing is written to disk).")
@click.option("--system", "instructions", default="", help="Instructions for the answers (they cannot change "
              "the grounding rules), like an OpenAI system message.")
@handle_errors
def chat(collection, index_dir, chroma_url, k, model, answer_mode, evidence, history_file, save_to, instructions):
    """Chat with the collection's documents: follow-up questions know the earlier ones.

    Each answer is grounded and checked as with `ragmed ask`; a follow-up ("and in children?") is
    searched for as a standalone question, shown as "Searched for: ...". Type /help for commands.
    Nothing is kept on disk unless you ask (--save FILE or /save FILE)."""
    if evidence:
        click.echo("warning: --evidence is the old spelling of --mode evidence; use --mode evidence.", err=True)
    evidence = evidence or answer_mode == "evidence"
    rag = make_rag(collection, index_dir, chroma_url, model=model)
    conv = rag.conversation(instructions=instructions)
    if history_file is not None:
        conv.turns, saved = read_history(history_file)
        conv.instructions = instructions or saved
    _editing()
    interactive = sys.stdin.isatty()
    if interactive:
        click.echo(f"ragmed chat over '{rag.settings.collection}'. {HELP}")
    while True:
        try:
            line = input("you> " if interactive else "").strip()
        except (EOFError, KeyboardInterrupt):
            break
        if not line:
            continue
        if not interactive:  # piped questions: the transcript says which answer belongs to which question
            click.echo(f"you> {line}")
        if line.startswith("/"):
            if not _command(line, conv, save_to):
                break
            continue
        try:
            if evidence:
                answer = conv.evidence(line, k=k)
                render.evidence_text(answer)
                streamed = False
            else:
                answer, streamed = render.stream_answer(conv.ask_stream(line, k=k), False, line)
            render.answer_footer(answer, streamed, evidence)
        except InputError as exc:
            render.error(str(exc))
        click.echo("")
    if save_to is not None:
        save(conv, save_to)


COMMANDS = [chat]
