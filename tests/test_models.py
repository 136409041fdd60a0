"""`ragmed models`: the registry and the pull path, end to end against a stand-in hub on 127.0.0.1.

The stand-in serves the bundled SmolLM2 GGUF under MedPsy's repository and file name, so a pulled
"medpsy-1.7b" is a real GGUF that llama.cpp runs.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from support.hubstub import Hub
from ragmed.cli import cli
from ragmed.generate.models import resolve_model
from ragmed.models.registry import REGISTRY

REPO, FILE = "qvac/MedPsy-1.7B-GGUF", "medpsy-1.7b-q4_k_m-imat.gguf"


@pytest.fixture(scope="module")
def gguf_bytes():
    return resolve_model("smollm2-135m")[1].read_bytes()


@pytest.fixture()
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("RAGMED_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def run(*args):
    return CliRunner().invoke(cli, list(args))


def test_registry_lists_medpsy_with_unknowns_marked(home):
    assert {"medpsy-1.7b", "medpsy-4b", "smollm2-135m"} <= set(REGISTRY)
    res = run("models", "list", "--json")
    assert res.exit_code == 0, res.output
    rows = {r["name"]: r for r in json.loads(res.output)}
    assert rows["medpsy-1.7b"]["state"] == "missing" and rows["smollm2-135m"]["state"] == "bundled"
    spec = rows["medpsy-1.7b"]["spec"]
    assert spec["repo_id"] == REPO and spec["filename"] == FILE and spec["sha256"] is None
    assert spec["sampling"] == {"temperature": 0.6, "top_p": 0.95, "top_k": 20}
    assert rows["medpsy-4b"]["spec"]["filename"] is None and rows["medpsy-4b"]["spec"]["pattern"]


def test_missing_model_names_the_pull_command(home):
    res = run("models", "path", "medpsy-4b")
    assert res.exit_code == 1 and "ragmed models pull medpsy-4b" in res.output
    res = run("ask", "hello", "--model", "medpsy-1.7b", "--no-retrieval")
    assert res.exit_code == 1 and "ragmed models pull medpsy-1.7b" in res.output


def test_pull_verifies_installs_and_runs(home, gguf_bytes):
    with Hub() as hub:
        sha = hub.add(REPO, FILE, gguf_bytes)
        res = run("models", "pull", "medpsy-1.7b", "--endpoint", hub.url, "--json")
        assert res.exit_code == 0, res.output
        st = json.loads(res.output)
        assert st["state"] == "verified" and st["sha256"] == sha and st["sha256_source"] == "hub"
        assert hub.ranges == [0]
        # pulling again downloads nothing
        assert run("models", "pull", "medpsy-1.7b", "--endpoint", hub.url).exit_code == 0
        assert hub.ranges == [0]
    path = run("models", "path", "medpsy-1.7b").output.strip()
    assert path.endswith(FILE) and not (home / "models" / ".partial" / "medpsy-1.7b").exists()
    assert run("models", "verify", "medpsy-1.7b").exit_code == 0
    # The pulled model runs offline, by registry name (the hub is gone now).
    from ragmed import RagMed

    answer = RagMed(collection="models", index_dir=home / "idx", model="medpsy-1.7b", max_tokens=8).ask(
        "Say hello.", grounded=False)
    assert answer.model == "medpsy-1.7b" and answer.usage.completion_tokens > 0
    # A file changed on disk is caught by verify; rm removes it.
    with open(path, "r+b") as f:
        f.seek(1000)
        f.write(b"\x00" * 8)
    res = run("models", "verify", "medpsy-1.7b")
    assert res.exit_code == 1 and "does not match its sha256" in res.output
    assert run("models", "rm", "medpsy-1.7b").exit_code == 0
    assert run("models", "path", "medpsy-1.7b").exit_code == 1


def test_corrupt_download_is_rejected_and_nothing_installed(home, gguf_bytes):
    with Hub() as hub:
        hub.add(REPO, FILE, gguf_bytes)
        hub.corrupt = True
        res = run("models", "pull", "medpsy-1.7b", "--endpoint", hub.url)
    assert res.exit_code == 1 and "corrupt" in res.output and "nothing was installed" in res.output
    assert not (home / "models" / "medpsy-1.7b").exists()
    partial = home / "models" / ".partial" / "medpsy-1.7b"
    assert not any(partial.glob("*")) if partial.exists() else True
    assert run("models", "path", "medpsy-1.7b").exit_code == 1


def test_interrupted_pull_resumes(home, gguf_bytes):
    with Hub() as hub:
        sha = hub.add(REPO, FILE, gguf_bytes)
        hub.cut_gets = 100  # every attempt of the first pull (including its retries) is cut short
        res = run("models", "pull", "medpsy-1.7b", "--endpoint", hub.url)
        assert res.exit_code == 1 and "interrupted" in res.output and "again to resume" in res.output
        part = home / "models" / ".partial" / "medpsy-1.7b" / (FILE + ".part")
        have = part.stat().st_size
        assert 0 < have < len(gguf_bytes)
        assert not (home / "models" / "medpsy-1.7b").exists()  # nothing half-written where models are looked for
        hub.cut_gets = 0
        hub.ranges.clear()
        res = run("models", "pull", "medpsy-1.7b", "--endpoint", hub.url, "--json")
        assert res.exit_code == 0, res.output
        assert hub.ranges[0] == have  # resumed from where the first pull stopped
        assert json.loads(res.output)["sha256"] == sha


def test_unnamed_file_is_picked_from_the_repository_listing(home):
    with Hub() as hub:
        hub.add("qvac/MedPsy-4B-GGUF", "medpsy-4b-q8_0.gguf", b"GGUF" + b"8" * 100)
        sha = hub.add("qvac/MedPsy-4B-GGUF", "medpsy-4b-q4_k_m.gguf", b"GGUF" + b"4" * 100)
        hub.add("qvac/MedPsy-4B-GGUF", "README.md", b"# card")
        res = run("models", "pull", "medpsy-4b", "--endpoint", hub.url, "--json")
    assert res.exit_code == 0, res.output
    st = json.loads(res.output)
    assert st["path"].endswith("medpsy-4b-q4_k_m.gguf") and st["sha256"] == sha
