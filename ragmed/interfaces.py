"""One small interface per pipeline role.

Each role is a `typing.Protocol`: any object with these members fills it (no base class to
inherit). The pipeline (`ragmed/pipeline.py`) and `RagMed` depend on these roles only, so a new
embedder backend, a remote generator or another claim checker plugs in without touching them.

| role      | implementations                                                           |
|-----------|----------------------------------------------------------------------------|
| Embedder  | `embed.sentence.Embedder` (torch and ONNX backends, `embed/onnx.py`),       |
|           | `embed.remote.RemoteEmbedder` (any OpenAI-compatible /v1/embeddings server) |
| Tokenizer | an Embedder's or a Generator's token counting                              |
| Generator | `generate.llama.LlamaGenerator` (in-process), `generate.remote.RemoteGenerator` |
| Checker   | `ground.verify.SupportChecker` (deterministic checks, optional verifier model) |
| Reranker  | `retrieve.rerank.CrossEncoderReranker`                                      |

Shapes: embeddings are float32 arrays of shape (n_texts, dimension), L2-normalised; token counts
are plain ints (special tokens excluded); messages are OpenAI-style `{"role", "content"}` dicts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Protocol, Sequence, runtime_checkable

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from .generate.base import Generation, SamplingParams

Message = dict  # {"role": "system" | "user" | "assistant", "content": str}


@runtime_checkable
class Tokenizer(Protocol):
    """Counts tokens exactly as the model that owns it will see a text."""

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Token counts of `texts`, special tokens excluded, in order."""
        ...


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into normalised vectors (documents and queries alike)."""

    id: str  # the model's id as recorded in a collection's manifest ("all-MiniLM-L6-v2")
    backend: str  # how it runs ("torch", "onnx", "onnx-int8"); part of the vector family

    @property
    def dimension(self) -> int:
        """Length of each vector."""
        ...

    def count_tokens(self, texts: list[str]) -> list[int]: ...

    def embed(self, texts: list[str], batch_size: int | None = None,
              on_batch: Callable[[int], None] | None = None,
              lengths: list[int] | None = None) -> "np.ndarray":
        """(len(texts), dimension) float32, L2-normalised, in the order given."""
        ...

    def embed_query(self, text: str) -> "np.ndarray":
        """(dimension,) float32 for one search query."""
        ...


@runtime_checkable
class Generator(Protocol):
    """A chat model that writes an answer from messages."""

    model_id: str

    @property
    def n_ctx(self) -> int:
        """Context window in tokens (prompt and generated tokens together)."""
        ...

    @property
    def chat_style(self) -> str:
        """Prompt template family: "chatml" (Qwen3/MedPsy, reasoning models), "llama", ..."""
        ...

    def count_tokens(self, text: str) -> int: ...

    def prompt_tokens(self, messages: list[Message]) -> int:
        """Tokens of `messages` rendered by the model's template (exact)."""
        ...

    def generate(self, messages: list[Message], params: "SamplingParams",
                 on_text: Callable[[str], None] | None = None,
                 reasoning_tokens: int | None = None) -> "Generation":
        """Generate a reply; `on_text` receives each piece of text as it is produced."""
        ...


@runtime_checkable
class Checker(Protocol):
    """Judges whether passage texts state a claim (`ground/verify.py` defines the verdict)."""

    def check(self, claim: str, passages: Sequence[str], claim_vec=None):
        """A `Verdict` (supported, measurements, reason) for `claim` against `passages` together."""
        ...

    def embed_claims(self, claims: Sequence[str]) -> "np.ndarray":
        """Vectors of many claims at once (reused by `check` as `claim_vec`)."""
        ...


@runtime_checkable
class Reranker(Protocol):
    """Scores (query, passage text) pairs; higher is more relevant."""

    id: str

    def scores(self, query: str, texts: Sequence[str]) -> list[float]: ...


__all__ = ["Checker", "Embedder", "Generator", "Message", "Reranker", "Tokenizer"]
