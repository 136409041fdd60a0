import subprocess
import sys

import ragmed


def test_import_is_cheap_and_public_api_is_explicit():
    code = (
        "import sys, ragmed; from ragmed import RagMed, Answer, Passage, Citation, IngestReport; "
        "heavy = [m for m in ('torch', 'chromadb', 'llama_cpp', 'sentence_transformers', 'pypdf') if m in sys.modules]; "
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
    for name in ragmed.__all__:
        assert getattr(ragmed, name) is not None


def test_constructing_ragmed_loads_nothing(tmp_path):
    code = (
        "import sys; from ragmed import RagMed; r = RagMed(collection='abc', index_dir=%r); "
        "print([m for m in ('torch', 'chromadb', 'llama_cpp') if m in sys.modules])" % str(tmp_path)
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "[]", out.stderr


def test_settings_from_env_and_validation(monkeypatch, tmp_path):
    monkeypatch.setenv("RAGMED_HOME", str(tmp_path))
    monkeypatch.setenv("RAGMED_K", "7")
    s = ragmed.Settings.from_env()
    assert s.index_dir == tmp_path / "indexes" and s.k == 7
    monkeypatch.setenv("RAGMED_INDEX_DIR", str(tmp_path / "x"))
    assert ragmed.Settings.from_env(k=2).index_dir == tmp_path / "x"
    import pytest

    with pytest.raises(ragmed.ConfigError, match="3 or more"):
        ragmed.Settings.from_env(collection="ab")
    monkeypatch.setenv("RAGMED_K", "many")
    with pytest.raises(ragmed.ConfigError, match="RAGMED_K"):
        ragmed.Settings.from_env()


def test_unknown_model_and_embedder_name_the_fix(tmp_path):
    import pytest

    from ragmed.embed.sentence import resolve_embedder
    from ragmed.generate.models import resolve_model

    with pytest.raises(ragmed.ModelNotFoundError, match="smollm2-135m"):
        resolve_model("no-such-model")
    bogus = tmp_path / "x.gguf"
    bogus.write_bytes(b"not gguf")
    with pytest.raises(ragmed.ModelNotFoundError, match="not a GGUF"):
        resolve_model(str(bogus))
    with pytest.raises(ragmed.ModelNotFoundError, match="--embedder"):
        resolve_embedder("no-such-embedder")


def test_cli_help_lists_commands():
    out = subprocess.run([sys.executable, "-m", "ragmed.cli", "--help"], capture_output=True, text=True, timeout=60)
    for cmd in ("ingest", "ask", "search", "docs", "sync", "collections"):
        assert cmd in out.stdout
