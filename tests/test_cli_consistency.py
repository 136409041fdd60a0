"""The command line speaks one language (issue 22, item 5): one meaning per flag, help on every
option, common options before advanced ones, the same short flags everywhere, a per-user default
index folder, not-found errors that name the folder, and a filter that matches nothing said so."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from support.clitree import leaf_commands

from ragmed import config
from ragmed.cli import cli
from ragmed.cli.options import ADVANCED
from ragmed.config import Settings

Q = "What starting dose of amlodipine is used?"


COMMANDS = leaf_commands(cli)
SHORT = {"collection": "-c", "model": "-m", "k": "-k", "quiet": "-q", "retrieval": "-r"}


def options(cmd: click.Command) -> list[click.Option]:
    return [p for p in cmd.params if isinstance(p, click.Option) and not p.hidden]


def test_every_visible_option_has_help():
    missing = sorted(f"{name} {o.opts[0]}" for name, c in COMMANDS.items() for o in options(c) if not o.help)
    assert not missing, missing


def test_the_same_short_flag_for_the_same_option_everywhere():
    wrong = []
    for name, c in COMMANDS.items():
        for o in options(c):
            flag = SHORT.get(o.name)
            if flag is not None and flag not in o.opts:
                wrong.append(f"{name} {o.opts}")
    assert not wrong, wrong
    assert "-m" in next(o for o in COMMANDS["serve"].params if o.name == "model").opts


def test_help_lists_common_options_first_and_advanced_ones_last():
    for name in ("ask", "search", "serve", "ingest"):
        text = CliRunner().invoke(cli, [*name.split(), "--help"]).output
        assert "Advanced options:" in text, name
        common, advanced = text.split("Advanced options:")
        assert "--chroma-url" in advanced and "--chroma-url" not in common, name
        assert "--index-dir" in advanced and "--collection" in common, name
    ask_help = CliRunner().invoke(cli, ["ask", "--help"]).output
    assert "--mode [answer|evidence]" in ask_help and "--retrieval" in ask_help
    assert "--evidence " not in ask_help  # the old spelling is accepted, not advertised
    search_help = CliRunner().invoke(cli, ["search", "--help"]).output
    assert "--mode" not in search_help and "evidence" not in search_help
    assert {"index_dir", "chroma_url"} <= ADVANCED


def test_old_spellings_are_accepted_and_warned_about(demo_rag):
    where = ["-c", "demo", "--index-dir", str(demo_rag.index.index_dir)]
    res = CliRunner().invoke(cli, ["search", "amlodipine", *where, "--mode", "lexical", "-k", "1"])
    assert res.exit_code == 0, res.output
    assert "warning: --mode lexical is the old spelling of --retrieval lexical" in res.output
    assert "amlodipine" in res.output.lower()
    res = CliRunner().invoke(cli, ["search", "amlodipine", *where, "--mode", "evidence"])
    assert res.exit_code == 2 and "ragmed ask --mode evidence" in res.output
    res = CliRunner().invoke(cli, ["ask", Q, *where, "--evidence"])
    assert res.exit_code == 0 and "--evidence is the old spelling of --mode evidence" in res.output
    assert "amlodipine 5 mg" in res.output
    res = CliRunner().invoke(cli, ["ask", Q, *where, "--mode", "evidence", "--retrieval", "dense", "--json"])
    assert res.exit_code == 0 and "warning" not in res.output
    assert json.loads(res.output)["evidence"]


def test_default_index_folder_is_per_user_and_old_indexes_still_found(tmp_path, monkeypatch):
    for var in ("RAGMED_HOME", "RAGMED_INDEX_DIR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.chdir(tmp_path)
    assert Settings.from_env().index_dir == tmp_path / "xdg" / "ragmed" / "indexes"
    (tmp_path / "indexes").mkdir()  # an index made before the per-user default, in the current folder
    assert Settings.from_env().index_dir == Path("indexes")
    monkeypatch.setenv("RAGMED_HOME", str(tmp_path / "home"))
    assert Settings.from_env().index_dir == tmp_path / "home" / "indexes"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.delenv("RAGMED_HOME")
    (tmp_path / "indexes").rmdir()
    from platformdirs import user_data_dir

    assert config.data_dir() == Path(user_data_dir("ragmed", appauthor=False))


def test_not_found_names_the_folder_it_looked_in(tmp_path, monkeypatch):
    monkeypatch.delenv("RAGMED_INDEX_DIR", raising=False)
    monkeypatch.setenv("RAGMED_HOME", str(tmp_path / "home"))
    res = CliRunner().invoke(cli, ["search", "anything", "-c", "nosuch"])
    assert res.exit_code == 1
    assert f"does not exist in the folder {tmp_path / 'home' / 'indexes'}" in res.output
    assert "--index-dir" in res.output
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(cli, ["docs", "list", "-c", "nosuch", "--index-dir", "rel"])
    assert res.exit_code == 1 and str(tmp_path / "rel") in res.output  # absolute, whatever the folder


@pytest.mark.parametrize("flt", [["--doc", "no-such-guideline"], ["--after", "2199"]])
def test_a_filter_that_matches_nothing_says_so(demo_rag, flt):
    where = ["-c", "demo", "--index-dir", str(demo_rag.index.index_dir), *flt]
    res = CliRunner().invoke(cli, ["search", "amlodipine", *where])
    assert res.exit_code == 0 and "matched no document" in res.output and flt[1] in res.output
    res = CliRunner().invoke(cli, ["ask", Q, *where, "--mode", "evidence"])
    assert res.exit_code == 3, res.output  # nothing answered: the exit status says so too
    assert "matched no document" in res.output and "do not cover" not in res.output
    assert os.fspath(flt[1]) in res.output


def test_ask_reports_its_stages_in_order(demo_rag, capsys):
    from ragmed.cli.progress import staged

    events = list(staged(demo_rag.ask_stream(Q, k=2), demo_rag, show=True))
    assert events[-1].kind == "final"
    printed = click.unstyle(capsys.readouterr().err).splitlines()
    stages = [re.sub(r"^\[\s*[\d.]+ s\] ", "", p) for p in printed]
    assert stages[0] == "searching your documents..."
    assert any(s.startswith("the model is reading") or s.startswith("loading the model") for s in stages)
    assert len(stages) == len(set(stages)) and all(re.match(r"^\[\s*[\d.]+ s\]", p) for p in printed)
