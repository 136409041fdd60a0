"""Settings are resolved in one place (ragmed/config.py): RAGMED_HOME holds all state, --chroma-url is
an ordinary override, one rule picks a collection's embedder, the parser worker's limits are settings."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from click.testing import CliRunner

from ragmed import config
from ragmed.cli import cli
from ragmed.config import Settings, resolve_embedder

ROOT = Path(__file__).resolve().parent.parent
ENV_READ = re.compile(r"""(os\.environ(\.get\(|\[|\.setdefault\()|os\.getenv\()\s*["'](RAGMED_|XDG_)""")


def test_only_config_reads_ragmed_and_xdg_variables():
    offenders = [f"{p.relative_to(ROOT)}:{n}" for p in sorted((ROOT / "ragmed").rglob("*.py"))
                 if p.name != "config.py" or p.parent.name != "ragmed"
                 for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if ENV_READ.search(line)]
    assert not offenders, offenders
    assert ENV_READ.search('x = os.environ.get("RAGMED_HOME")')  # the pattern does catch a read


ANY_READ = re.compile(r"os\.environ\.get\(|os\.getenv\(|os\.environ\[[^]]+\](?!\s*=)")
ANY_WRITE = re.compile(r"os\.environ(\[[^]]+\]\s*=|\.setdefault\(|\.update\()|os\.putenv\(")


def test_environment_is_read_in_config_and_written_in_one_place():
    """Any variable (HF_ENDPOINT too) is read in ragmed/config.py; library switches are set in embed/offline.py."""
    lines = [(p.relative_to(ROOT).as_posix(), n, line) for p in sorted((ROOT / "ragmed").rglob("*.py"))
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)]
    reads = [f"{f}:{n}" for f, n, line in lines if ANY_READ.search(line) and f != "ragmed/config.py"]
    writes = [f"{f}:{n}" for f, n, line in lines if ANY_WRITE.search(line) and f != "ragmed/embed/offline.py"]
    assert not reads, f"read these in ragmed/config.py: {reads}"
    assert not writes, f"set these in ragmed/embed/offline.py: {writes}"
    assert ANY_READ.search('e = os.environ.get("HF_ENDPOINT")') and ANY_READ.search('os.environ["X"]')
    assert not ANY_READ.search('os.environ["X"] = "1"') and ANY_WRITE.search('os.environ["X"] = "1"')


def test_hub_mirror_is_a_config_read(monkeypatch):
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9/mirror")
    assert config.hub_endpoint() == "http://127.0.0.1:9/mirror"
    monkeypatch.delenv("HF_ENDPOINT")
    assert config.hub_endpoint() is None


def test_ragmed_home_holds_every_kind_of_state(tmp_path, monkeypatch):
    for var in ("RAGMED_INDEX_DIR", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("RAGMED_HOME", str(tmp_path / "home"))
    home = tmp_path / "home"
    from ragmed.embed.onnx import export_dir
    from ragmed.models.store import ModelStore

    model = tmp_path / "writable-model"
    model.mkdir()
    places = {"indexes": Settings.from_env().index_dir, "models": ModelStore().home,
              "eval": config.eval_cache_dir(), "hashes": config.cache_dir(), "onnx": export_dir(model)}
    assert places["indexes"] == home / "indexes" and places["models"] == home / "models"
    for name, path in places.items():
        assert home in path.parents, (name, path)
    monkeypatch.delenv("RAGMED_HOME")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    assert export_dir(model) == model / "onnx"  # no home: beside a writable model, as before
    assert config.models_dir() == tmp_path / "xdg-data" / "ragmed" / "models"
    assert config.eval_cache_dir() == tmp_path / "xdg-cache" / "ragmed" / "eval-indexes"
    monkeypatch.chdir(tmp_path)  # no ./indexes here: the per-user data folder
    assert Settings.from_env().index_dir == tmp_path / "xdg-data" / "ragmed" / "indexes"


def test_chroma_url_option_is_an_override_not_an_environment_change(monkeypatch, tmp_path):
    monkeypatch.delenv("RAGMED_CHROMA_URL", raising=False)
    from ragmed.store.collection import Collection as Index

    seen = []

    def list_names(index_dir, chroma_url=None):
        seen.append((chroma_url, os.environ.get("RAGMED_CHROMA_URL")))
        return ["shared-one"]

    monkeypatch.setattr(Index, "list_names", staticmethod(list_names))
    res = CliRunner().invoke(cli, ["collections", "--chroma-url", "http://127.0.0.1:8123", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output) == ["shared-one"]
    assert seen == [("http://127.0.0.1:8123", None)]  # reached the settings; the environment untouched
    res = CliRunner().invoke(cli, ["docs", "list", "--index-dir", str(tmp_path), "--chroma-url", "ftp://x"])
    assert res.exit_code == 1 and "Chroma server URL 'ftp://x' is invalid" in res.output


def test_a_collection_is_shared_only_when_given_a_server(tmp_path):
    """No path-keyed registry or marker file: a shared collection at an index folder does not make a
    later one at the same folder shared; only `chroma_url` does, and nothing is left in the folder
    to say otherwise (the server is not contacted to construct either)."""
    from ragmed.store.collection import Collection

    shared = Collection(tmp_path, "c", chroma_url="http://127.0.0.1:9")
    assert shared.shared and shared.chroma_url == "http://127.0.0.1:9"
    assert shared.dir.is_relative_to(tmp_path / "servers")  # only this workstation's caches
    local = Collection(tmp_path, "c")
    assert not local.shared and local.dir == tmp_path / "collections" / "c"
    assert not list(tmp_path.rglob("*.json"))


def test_one_rule_picks_the_embedder_and_backend():
    s = Settings()
    assert resolve_embedder(s) == ("all-MiniLM-L6-v2", config.DEFAULT_EMBEDDER_BACKEND)  # a new collection
    old = {"embedder": "my-encoder"}  # built before backends existed
    assert resolve_embedder(s, build=old) == ("my-encoder", "torch")
    assert resolve_embedder(s, build={"embedder": "e", "embedder_backend": "onnx-int8"}) == ("e", "onnx-int8")
    assert resolve_embedder(s.with_(embedder_backend="torch"), "x", old) == ("x", "torch")  # explicit wins


def test_parser_worker_limits_are_settings(monkeypatch):
    from ragmed.ingest.isolate import InProcessExtractor, IsolatedExtractor, extractor

    monkeypatch.setenv("RAGMED_DOC_TIME_LIMIT_S", "7.5")
    monkeypatch.setenv("RAGMED_DOC_MEMORY_LIMIT_MB", "300")
    monkeypatch.delenv("RAGMED_ISOLATE", raising=False)
    ex = extractor()
    assert isinstance(ex, IsolatedExtractor) and (ex.limits.time_s, ex.limits.memory_mb) == (7.5, 300)
    assert isinstance(extractor(Settings(isolate=False)), InProcessExtractor)
    monkeypatch.setenv("RAGMED_ISOLATE", "0")
    assert isinstance(extractor(), InProcessExtractor)
