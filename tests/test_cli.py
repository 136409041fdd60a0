"""The command line's shape: what the README promises of every command, and `serve`'s start-up."""

from __future__ import annotations

from click.testing import CliRunner
from support.clitree import leaf_commands

from conftest import ROOT
from ragmed.cli import cli


def test_every_command_but_serve_takes_json():
    commands = leaf_commands(cli)
    assert {"ingest", "ask", "docs list", "models pull", "eval retrieval", "datasets build", "serve"} <= set(commands)
    without = sorted(n for n, c in commands.items() if not any("--json" in p.opts for p in c.params))
    assert without == ["chat", "serve"]  # chat is interactive (`ask --history FILE --json` for scripts)
    assert "Every command but `serve` and the interactive `chat` takes `--json`" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_serve_checks_the_bind_once_and_refuses_before_announcing(monkeypatch):
    from ragmed.server import security

    calls = []
    real = security.check_bind
    monkeypatch.setattr(security, "check_bind", lambda host, token: (calls.append(host), real(host, token)))
    monkeypatch.delenv("RAGMED_SERVER_TOKEN", raising=False)
    res = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0"])
    assert res.exit_code == 1 and "Refusing to listen on 0.0.0.0" in res.output, res.output
    assert calls == ["0.0.0.0"]
    assert "ragmed serving" not in res.output


def test_serve_checks_the_bind_once_when_it_serves(monkeypatch, tmp_path):
    """The accepted case too (a refusal stops at the first check, so it cannot show a second one):
    one check per `serve`, before the app is built and served (uvicorn and the app stubbed)."""
    import uvicorn

    from ragmed.server import app, security

    calls, served = [], []
    real = security.check_bind
    monkeypatch.setattr(security, "check_bind", lambda host, token: (calls.append(host), real(host, token)))
    monkeypatch.setattr(app, "create_app", lambda config: ("app", config.host))
    ads = lambda: sorted(p.name for p in (tmp_path / "run").glob("serve-*.json"))
    monkeypatch.setattr(uvicorn, "run", lambda application, **kw: served.append((application, kw["port"], ads())))
    monkeypatch.delenv("RAGMED_SERVER_TOKEN", raising=False)
    monkeypatch.delenv("RAGMED_STAFF_TOKEN", raising=False)
    res = CliRunner().invoke(cli, ["serve", "--host", "127.0.0.1", "--port", "8765", "--index-dir", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert calls == ["127.0.0.1"]
    assert served == [(("app", "127.0.0.1"), 8765, ["serve-8765.json"])]  # advertised while serving
    assert ads() == []  # and withdrawn after
