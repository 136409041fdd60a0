"""The architecture's rules, checked: layers import only downwards, no module grows unreadable."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 400  # docs/architecture.md: small files


def test_layers_import_only_downwards():
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.skip("import-linter is not installed (pip install -e '.[dev]')")
    res = subprocess.run([exe, "--config", str(ROOT / "pyproject.toml")], cwd=ROOT, capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]
    assert "1 kept, 0 broken" in res.stdout


def test_no_module_is_over_the_size_limit():
    big = {str(p.relative_to(ROOT)): n for p in (ROOT / "ragmed").rglob("*.py")
           if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not big, f"split these modules (over {MAX_LINES} lines): {big}"


def test_interfaces_are_filled_by_the_real_components(demo_rag):
    from ragmed import interfaces

    assert isinstance(demo_rag.embedder, interfaces.Embedder)
    assert isinstance(demo_rag.embedder, interfaces.Tokenizer)
    assert isinstance(demo_rag.generator, interfaces.Generator)
    assert isinstance(demo_rag.checker, interfaces.Checker)
