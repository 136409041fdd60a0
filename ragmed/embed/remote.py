"""An embedder behind any OpenAI-compatible `/v1/embeddings` endpoint (`ragmed.interfaces.Embedder`).

Servers that speak it: llama.cpp's server and llama-cpp-python's (`python -m llama_cpp.server
--embedding true`), text-embeddings-inference, Infinity, vLLM. Request: `POST {url}/embeddings` with
`{"model", "input": [texts]}`; reply: `{"data": [{"index", "embedding"}]}` (the OpenAI API reference,
"Create embeddings"). Vectors are L2-normalised here (llama.cpp returns them unnormalised).

A collection built with it records `embedder_backend: "remote"`, the endpoint and the served model
(`build_record`), so queries embed with the same model (`from_build`; `RAGMED_EMBEDDER_URL` points
them at another address of the same server). Its vectors are their own family ("remote:<model>"):
nothing checks that a server's model equals a local one, so the two never mix in one collection.

Token counts need the model's tokenizer, which the API does not expose: `tokenizer` (a folder
with tokenizer.json) or, for a bundled embedder's name, its own; without one `count_tokens` raises
ConfigError (only the PDF chunker needs counts; corpus builds do not).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

from ..errors import ConfigError, RagmedError

BACKEND = "remote"
BATCH_SIZE = 32  # texts per request (an HTTP round trip costs ~1 ms on loopback; see benchmarks/scale_ingest.py)
RETRIES = 3  # transient transport errors and 5xx/429 replies are retried, with 1, 2, 4 s pauses


def _endpoint() -> tuple[str, str]:
    from ..config import embedder_endpoint

    return embedder_endpoint()


class RemoteEmbedder:
    """Texts -> normalised float32 vectors from an OpenAI-compatible embeddings endpoint.

    `url`: the API base, e.g. "http://127.0.0.1:8080/v1" (a trailing "/embeddings" is accepted);
    `model`: the served model's name, recorded as the collection's `embedder`; `api_key`: sent as a
    Bearer token when set (default: `RAGMED_EMBEDDER_API_KEY`). Raises `RagmedError` naming the
    server when it cannot be reached or answers with an error."""

    backend = BACKEND

    def __init__(self, url: str, model: str, api_key: str | None = None, tokenizer: str | Path | None = None,
                 timeout_s: float = 120.0):
        url = url.rstrip("/")
        if url.endswith("/embeddings"):
            url = url[: -len("/embeddings")]
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"Embedding endpoint {url!r} is not an http(s) URL: give e.g. http://127.0.0.1:8080/v1.")
        self.url, self.id = url, model
        self.api_key = api_key if api_key is not None else _endpoint()[1]
        self.tokenizer_path = tokenizer
        self.timeout_s = timeout_s
        self.embedded = 0
        self._dimension: int | None = None
        self._client = None
        self._tok = None

    # -- the endpoint ---------------------------------------------------------------------------
    @property
    def client(self):
        if self._client is None:
            import httpx

            headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
            self._client = httpx.Client(headers=headers, timeout=httpx.Timeout(self.timeout_s, connect=10.0))
        return self._client

    def _request(self, texts: list[str]):
        import httpx
        import numpy as np

        body = {"model": self.id, "input": texts, "encoding_format": "float"}
        for attempt in range(RETRIES + 1):
            try:
                r = self.client.post(f"{self.url}/embeddings", json=body)
            except httpx.TransportError as exc:
                if attempt < RETRIES:
                    time.sleep(2 ** attempt)
                    continue
                raise RagmedError(f"Cannot reach the embedding server at {self.url} ({type(exc).__name__}: {exc}). "
                                  "Is it running? Correct --embedder-url / RAGMED_EMBEDDER_URL.") from exc
            if (r.status_code >= 500 or r.status_code == 429) and attempt < RETRIES:
                time.sleep(2 ** attempt)
                continue
            if r.status_code != 200:
                raise RagmedError(f"The embedding server at {self.url} answered {r.status_code} for model "
                                  f"{self.id!r}: {r.text[:300]}")
            data = sorted(r.json()["data"], key=lambda d: int(d.get("index", 0)))
            if len(data) != len(texts):
                raise RagmedError(f"The embedding server at {self.url} returned {len(data)} vectors for "
                                  f"{len(texts)} texts.")
            vecs = np.asarray([d["embedding"] for d in data], dtype=np.float32)
            norms = np.linalg.norm(vecs, axis=1, keepdims=True)
            return vecs / np.maximum(norms, 1e-12)
        raise AssertionError("unreachable")  # pragma: no cover

    # -- the Embedder protocol ------------------------------------------------------------------
    @property
    def dimension(self) -> int:
        if self._dimension is None:
            self._dimension = int(self._request(["dimension probe"]).shape[1])
        return self._dimension

    def embed(self, texts: list[str], batch_size: int | None = None,
              on_batch: Callable[[int], None] | None = None, lengths: list[int] | None = None):
        """(len(texts), dimension) float32, L2-normalised, in order; `batch_size` texts per request."""
        import numpy as np

        step = batch_size or BATCH_SIZE
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        parts = []
        for i in range(0, len(texts), step):
            part = self._request(list(texts[i : i + step]))
            parts.append(part)
            self.embedded += len(part)
            if on_batch:
                on_batch(len(part))
        out = np.concatenate(parts)
        self._dimension = int(out.shape[1])
        return out

    def embed_query(self, text: str):
        return self.embed([text])[0]

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Exact counts with the model's own tokenizer (special tokens excluded)."""
        if self._tok is None:
            self._tok = self._load_tokenizer()
        return [len(e.ids) for e in self._tok.encode_batch(list(texts), add_special_tokens=False)]

    def _load_tokenizer(self):
        from tokenizers import Tokenizer

        path = self.tokenizer_path
        if path is None:
            from .sentence import BUNDLED_EMBEDDERS, resolve_embedder

            try:
                path = resolve_embedder(self.id)[1] if self.id in BUNDLED_EMBEDDERS else None
            except RagmedError:
                path = None
        file = Path(path) / "tokenizer.json" if path is not None else None
        if file is None or not file.is_file():
            raise ConfigError(f"Token counts for the remote embedder {self.id!r} need its tokenizer: pass a folder "
                              "holding its tokenizer.json (--embedder-tokenizer).")
        tok = Tokenizer.from_file(str(file))
        tok.no_truncation()
        tok.no_padding()
        return tok

    # -- how a collection records it ------------------------------------------------------------
    def build_record(self) -> dict:
        """The manifest's build fields for vectors made by this endpoint's model."""
        return {"embedder": self.id, "embedder_backend": BACKEND, "embedder_family": f"{BACKEND}:{self.id}",
                "embedder_url": self.url, "dimension": self.dimension}

    @classmethod
    def from_build(cls, build: dict) -> "RemoteEmbedder":
        """The embedder a collection was built with (`RAGMED_EMBEDDER_URL` overrides its address)."""
        url = _endpoint()[0] or build.get("embedder_url", "")
        if not url:
            raise ConfigError(f"Collection was embedded by a remote model ({build.get('embedder')!r}) but records "
                              "no endpoint: set RAGMED_EMBEDDER_URL to the server that serves it.")
        return cls(url, str(build["embedder"]))

    def __getstate__(self):  # sent to Ray actors: without the live HTTP client
        state = dict(self.__dict__)
        state["_client"] = None
        state["_tok"] = None
        return state
