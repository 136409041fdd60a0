"""The architecture's rules, checked: layers import only downwards, no module grows unreadable."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 400  # docs/architecture.md: small files


def test_layers_import_only_downwards_without_cycles():
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.skip("import-linter is not installed (pip install -e '.[dev]')")
    res = subprocess.run([exe, "--config", str(ROOT / "pyproject.toml")], cwd=ROOT, capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]
    assert "3 kept, 0 broken" in res.stdout  # the layers, no cycles, remote generator apart from llama


def test_no_module_is_over_the_size_limit():
    big = {str(p.relative_to(ROOT)): n for p in (ROOT / "ragmed").rglob("*.py")
           if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not big, f"split these modules (over {MAX_LINES} lines): {big}"


# Methods a library calls by name (overrides of a third-party base class), so nothing in the tree names them.
CALLED_BY_LIBRARIES = {"format_options",  # click.Command (cli/options.py)
                       "get_next",  # onnxruntime's CalibrationDataReader (embed/onnx_static.py)
                       "_aget_relevant_documents"}  # LangChain's BaseRetriever (integrations/langchain.py)


def test_no_function_is_defined_and_never_used():
    """Dead code (issue 18): every undecorated function or method of ragmed/ is named somewhere else in
    ragmed/, tests/, benchmarks/ or scripts/ (decorated ones are registered: commands, routes, validators)."""
    words = Counter(w for d in ("ragmed", "tests", "benchmarks", "scripts") for p in (ROOT / d).rglob("*")
                    if p.suffix in (".py", ".js", ".html")
                    for w in re.findall(r"\w+", p.read_text(encoding="utf-8", errors="ignore")))
    defined = {node.name for p in (ROOT / "ragmed").rglob("*.py") for node in ast.walk(ast.parse(p.read_text(encoding="utf-8")))
               if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not node.decorator_list
               and not node.name.startswith("__")}
    unused = sorted(name for name in defined - CALLED_BY_LIBRARIES if words[name] < 2)  # < 2: only its def
    assert not unused, f"defined but never used (delete, or use them): {unused}"


def test_interfaces_are_filled_by_the_real_components(demo_rag):
    from ragmed import interfaces

    assert isinstance(demo_rag.embedder, interfaces.Embedder)
    assert isinstance(demo_rag.embedder, interfaces.Tokenizer)
    assert isinstance(demo_rag.generator, interfaces.Generator)
    assert isinstance(demo_rag.checker, interfaces.Checker)


def test_embedder_backends_and_the_reranker_are_implementations(embedder, demo_rag, cross_encoder_dir):
    """Torch and ONNX are two implementations of `interfaces.Embedder` (not a branch on a backend
    field); the cross-encoder fills `interfaces.Reranker`."""
    from ragmed import interfaces
    from ragmed.embed.sentence import OnnxEmbedder, TorchEmbedder
    from ragmed.retrieve.rerank import CrossEncoderReranker

    assert (type(embedder), embedder.backend) == (TorchEmbedder, "torch")
    assert type(demo_rag.embedder) is OnnxEmbedder and demo_rag.embedder.backend.startswith("onnx")
    assert isinstance(embedder, interfaces.Embedder) and isinstance(demo_rag.embedder, interfaces.Embedder)
    assert isinstance(CrossEncoderReranker(cross_encoder_dir), interfaces.Reranker)
