"""Resolve a model name or path to a GGUF file (names come from `ragmed/models/registry.py`)."""

from __future__ import annotations

from pathlib import Path

from ..config import package_dir
from ..errors import ModelNotFoundError


def package_file(package: str, name: str) -> Path | None:
    """File `name` of an installed package (`config.package_dir`), or None."""
    base = package_dir(package)
    path = base / name if base is not None else None
    return path if path is not None and path.is_file() else None


def resolve_model(name_or_path: str) -> tuple[str, Path]:
    """Return (model id, GGUF path) for a registry name (bundled or pulled) or a path to a .gguf file."""
    from ..models.registry import REGISTRY, lookup
    from ..models.store import ModelStore

    spec = lookup(name_or_path)
    if spec is not None:
        return spec.name, ModelStore().path(spec.name)
    path = Path(name_or_path).expanduser()
    if path.is_file():
        with path.open("rb") as f:
            if f.read(4) != b"GGUF":
                raise ModelNotFoundError(f"{path} is not a GGUF model file (llama.cpp needs .gguf).")
        return path.name, path.resolve()
    raise ModelNotFoundError(
        f"Model {name_or_path!r} not found: give a path to a .gguf file or one of: "
        f"{', '.join(REGISTRY)} (`ragmed models list`)."
    )
