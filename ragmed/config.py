"""Settings, in one place: every `RAGMED_*` and `XDG_*` variable ragmed reads is read here.

Nothing is read at import time: `Settings.from_env()` reads the `RAGMED_*` environment variables when
it is called, and explicit arguments override them (the CLI's options are such overrides). Defaults
are chosen for a laptop-class CPU.

Where state lives (functions below, not `Settings` fields): with `RAGMED_HOME` set, everything ragmed
writes is under it: `$RAGMED_HOME/indexes` (unless RAGMED_INDEX_DIR), `$RAGMED_HOME/models` (pulled
models), `$RAGMED_HOME/cache` (ONNX exports of read-only model folders, eval collections, file
hashes). Unset: the per-user data folder (`data_dir`: indexes, models; ./indexes still used when it
exists) and $XDG_CACHE_HOME/ragmed (~/.cache/ragmed). Also read here: RAGMED_EVAL_DIR, RAGMED_SERVER_TOKEN
and RAGMED_STAFF_TOKEN (`serve`'s tokens), RAGMED_NO_SERVER (the CLI does not use a running `serve`),
RAGMED_EMBEDDER_URL/RAGMED_EMBEDDER_API_KEY (remote embedder), RAGMED_FAILPOINT (crash tests only),
HF_ENDPOINT (a hub mirror for `models pull`). Variables ragmed sets for libraries: embed/offline.py.

| setting            | env var                  | default                                  |
|--------------------|--------------------------|------------------------------------------|
| index_dir          | RAGMED_INDEX_DIR         | $RAGMED_HOME/indexes, else ./indexes if present, else the per-user data folder's indexes (`default_index_dir`) |
| collection         | RAGMED_COLLECTION        | default                                  |
| embedder           | RAGMED_EMBEDDER          | all-MiniLM-L6-v2 (bundled)               |
| embedder_backend   | RAGMED_EMBEDDER_BACKEND  | new collections: onnx; existing: the one it was built with (torch, onnx or onnx-int8; embed/onnx.py) |
| model              | RAGMED_MODEL             | smollm2-135m (bundled)                   |
| generator_url      | RAGMED_GENERATOR_URL     | unset: in-process llama.cpp; else an OpenAI-compatible server |
| k                  | RAGMED_K                 | 3 (passages the model reads)             |
| retrieval          | RAGMED_RETRIEVAL         | hybrid (dense, lexical or hybrid)        |
| reranker           | RAGMED_RERANKER          | unset (a local cross-encoder folder)     |
| neighbours         | RAGMED_NEIGHBOURS        | 0 (adjacent chunks added as context)     |
| dedup              | RAGMED_DEDUP             | 0.9 (ask drops repeated passages; 0 off) |
| n_ctx              | RAGMED_N_CTX             | 4096                                     |
| max_tokens         | RAGMED_MAX_TOKENS        | 512 (answer budget)                      |
| reasoning_tokens   | RAGMED_REASONING_TOKENS  | 1024 (thinking budget, then it is closed) |
| thinking           | RAGMED_THINKING          | on (off: no trace, an empty <think></think> prefilled; budget N; generate/thinking.py) |
| speculative        | RAGMED_SPECULATIVE       | 0 (1: prompt-lookup drafts for greedy decoding; generate/speculative.py) |
| passage_tokens     | RAGMED_PASSAGE_TOKENS    | 1000 (prompt tokens for passages; see README) |
| compress_tokens    | RAGMED_COMPRESS_TOKENS   | 200: keep only the passages' best sentences within N passage tokens (prompt/compress.py); 0 = off |
| preset             | RAGMED_PRESET            | deterministic (or medpsy: the model's)   |
| temperature        | RAGMED_TEMPERATURE       | the preset's (deterministic: 0, greedy)  |
| seed               | RAGMED_SEED              | 0                                        |
| threads            | RAGMED_THREADS           | physical cores (else number of CPUs)     |
| n_batch / n_ubatch | RAGMED_N_BATCH / _N_UBATCH | 512 / 512 (llama.cpp prompt batch sizes; README Performance) |
| flash_attn         | RAGMED_FLASH_ATTN        | 0 (llama.cpp's fused attention on the CPU) |
| kv_type            | RAGMED_KV_TYPE           | f16 (or q8_0: half the KV-cache memory)  |
| mlock              | RAGMED_MLOCK             | 0 (1: lock the model's weights in RAM)   |
| chunk_tokens       | RAGMED_CHUNK_TOKENS      | 200 (embedder tokens, header included)   |
| abstain            | RAGMED_ABSTAIN           | 1 (abstention gate and verification on)  |
| verifier           | RAGMED_VERIFIER          | unset (a local NLI / cross-encoder folder for claim checks) |
| log_content        | RAGMED_LOG_CONTENT       | 0 (question/answer text not logged; 1: logged at INFO by `ask`) |
| chroma_url         | RAGMED_CHROMA_URL        | unset: embedded Chroma in index_dir; else a Chroma server `http://HOST:PORT` shared by several workstations |
| isolate            | RAGMED_ISOLATE           | 1 (parse each document in a limited worker process; 0 in-process, for debugging) |
| doc_time_limit_s   | RAGMED_DOC_TIME_LIMIT_S  | 120 (seconds per document in the parser worker) |
| doc_memory_limit_mb | RAGMED_DOC_MEMORY_LIMIT_MB | 2048 (address space of the parser worker) |
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .files import package_dir  # noqa: F401 (re-exported: config.package_dir)
from .runtime import KV_TYPES, RuntimeOptions, physical_cores  # noqa: F401 (re-exported)

DEFAULT_COLLECTION = "default"
DEFAULT_EMBEDDER = "all-MiniLM-L6-v2"
# Chosen by `make bench-embedders` (benchmarks/embedder_backends.py): see README, "Performance".
DEFAULT_EMBEDDER_BACKEND = "onnx"
EMBEDDER_BACKENDS = ("torch", "onnx", "onnx-int8")  # what each runs: embed/onnx.py
DEFAULT_MODEL = "smollm2-135m"
# Per-document limits of the parser worker (ingest/isolate.py): a parser loop or a decompression
# bomb is stopped; the document is reported as failed with the setting to raise.
DEFAULT_DOC_TIME_LIMIT_S = 120.0
DEFAULT_DOC_MEMORY_LIMIT_MB = 2048
# Prompt compression (prompt/compress.py): the smallest passage budget that kept gold evidence in the
# prompt for >= 95% of BioASQ dev questions (`make bench-ttft`, benchmarks/results/ttft.md).
DEFAULT_COMPRESS_TOKENS = 200
# Sampling presets. "deterministic": greedy with a fixed seed (research runs, reproducible).
# "medpsy": the Qwen3 thinking defaults from the model card (temperature 0.6, top-p 0.95, top-k 20),
# or the registry's values for the chosen model. Explicit --temperature/--seed override a preset.
# Thinking modes (generate/thinking.py parses them): on, off, "budget N" (also budget=N, budget:N, N).
THINKING_FORMS = r"on|off|(?:budget\s*[\s=:]\s*)?\d+"
PRESETS = {
    "deterministic": {"temperature": 0.0, "top_p": 0.95, "top_k": 40, "repeat_penalty": 1.1},
    "medpsy": {"temperature": 0.6, "top_p": 0.95, "top_k": 20, "repeat_penalty": 1.0},
}


@dataclass(frozen=True)
class Settings:
    index_dir: Path = Path("indexes")
    collection: str = DEFAULT_COLLECTION
    embedder: str = DEFAULT_EMBEDDER
    embedder_backend: str = ""  # "": the collection's own, else DEFAULT_EMBEDDER_BACKEND
    model: str = DEFAULT_MODEL
    generator_url: str = ""
    k: int = 3  # passages the model reads (evidence sentences come from at least 5: pipeline.EVIDENCE_PASSAGES)
    retrieval: str = "hybrid"
    reranker: str = ""
    neighbours: int = 0
    dedup: float = 0.9
    n_ctx: int = 4096
    max_tokens: int = 512
    reasoning_tokens: int = 1024
    thinking: str = "on"  # on | off | budget N (generate/thinking.py, parse_thinking)
    speculative: bool = False  # prompt-lookup decoding, greedy only; off: see README Performance
    passage_tokens: int = 1000
    compress_tokens: int = DEFAULT_COMPRESS_TOKENS  # 0 = off
    preset: str = "deterministic"
    temperature: float | None = None  # None: the preset's value
    top_p: float | None = None
    top_k: int | None = None
    repeat_penalty: float | None = None
    seed: int = 0
    threads: int = 0  # 0 = one per physical core
    n_batch: int = 512
    n_ubatch: int = 512  # `make bench-ttft`: no setting beat llama.cpp's defaults consistently
    flash_attn: bool = False
    kv_type: str = "f16"
    mlock: bool = False
    chunk_tokens: int = 200
    embed_batch_size: int | None = None  # None: the embedder backend's measured best
    abstain: bool = True
    verifier: str = ""
    log_content: bool = False
    chroma_url: str = ""  # "": embedded Chroma; else a Chroma server (store/collection.py, shared)
    isolate: bool = True  # parse each document in a limited worker process (ingest/isolate.py)
    doc_time_limit_s: float = DEFAULT_DOC_TIME_LIMIT_S
    doc_memory_limit_mb: int = DEFAULT_DOC_MEMORY_LIMIT_MB

    @classmethod
    def from_env(cls, **overrides: Any) -> "Settings":
        env = os.environ
        values: dict[str, Any] = {}
        values["index_dir"] = default_index_dir()
        for f in fields(cls):
            if f.name == "index_dir":
                continue
            raw = env.get(f"RAGMED_{f.name.upper()}")
            if raw is None or raw == "":
                continue
            values[f.name] = _coerce(f.name, raw, f.type)
        values.update({k: v for k, v in overrides.items() if v is not None})
        if "index_dir" in values:
            values["index_dir"] = Path(values["index_dir"]).expanduser()
        return cls(**values).validated()

    def validated(self) -> "Settings":
        if len(self.collection) < 3 or not all(c.isalnum() or c in "-_" for c in self.collection):
            raise ConfigError(
                f"Collection name {self.collection!r} is invalid: use 3 or more letters, digits, "
                "'-' or '_' (for example --collection clinic-protocols)."
            )
        if not self.collection[0].isalnum() or not self.collection[-1].isalnum():
            raise ConfigError(
                f"Collection name {self.collection!r} must start and end with a letter or digit."
            )
        if self.k < 1:
            raise ConfigError("k must be at least 1.")
        if self.retrieval not in ("dense", "lexical", "hybrid"):
            raise ConfigError(f"Retrieval mode {self.retrieval!r} is unknown: use dense, lexical or hybrid.")
        if self.kv_type not in ("f16", "q8_0"):
            raise ConfigError(f"KV-cache type {self.kv_type!r} is unknown: use f16 or q8_0.")
        if self.n_batch < 1 or self.n_ubatch < 1:
            raise ConfigError("n_batch and n_ubatch must be at least 1.")
        if self.embedder_backend:
            check_backend(self.embedder_backend)
        if self.preset not in PRESETS:
            raise ConfigError(f"Preset {self.preset!r} is unknown: use one of {', '.join(PRESETS)}.")
        if self.reasoning_tokens < 0 or self.max_tokens < 1:
            raise ConfigError("max_tokens must be at least 1 and reasoning_tokens 0 or more.")
        if not re.fullmatch(THINKING_FORMS, self.thinking.strip().lower()):
            raise ConfigError(f"Thinking mode {self.thinking!r} is unknown: use on, off or budget N (for example "
                              "--thinking off or --thinking 'budget 256'; RAGMED_THINKING).")
        if self.compress_tokens < 0:
            raise ConfigError(f"compress_tokens is {self.compress_tokens}: use 0 (off) or a number of passage "
                              "tokens (for example --compress-tokens 300 or RAGMED_COMPRESS_TOKENS=300).")
        if self.neighbours < 0:
            raise ConfigError("neighbours must be 0 or more.")
        if not 0 <= self.dedup <= 1:
            raise ConfigError("dedup must be between 0 (off) and 1.")
        if self.chunk_tokens < 32:
            raise ConfigError("chunk_tokens must be at least 32.")
        if self.n_ctx < 512:
            raise ConfigError("n_ctx must be at least 512 tokens.")
        if self.chroma_url:
            parse_chroma_url(self.chroma_url)
        if self.doc_time_limit_s <= 0 or self.doc_memory_limit_mb < 64:
            raise ConfigError("doc_time_limit_s must be above 0 and doc_memory_limit_mb at least 64 "
                              "(RAGMED_DOC_TIME_LIMIT_S, RAGMED_DOC_MEMORY_LIMIT_MB).")
        return self

    def with_(self, **changes: Any) -> "Settings":
        return replace(self, **{k: v for k, v in changes.items() if v is not None}).validated()

    def sampling(self, model_sampling: dict[str, float] | None = None) -> dict[str, float]:
        """Sampling values: the preset (for "medpsy", the model's registry values when it has
        them), overridden by any of temperature/top_p/top_k/repeat_penalty set explicitly."""
        values = dict(PRESETS[self.preset])
        if self.preset == "medpsy" and model_sampling:
            values.update(model_sampling)
        for name in ("temperature", "top_p", "top_k", "repeat_penalty"):
            if getattr(self, name) is not None:
                values[name] = getattr(self, name)
        return values

    @property
    def n_threads(self) -> int:
        return self.runtime().n_threads

    def runtime(self):
        """The llama.cpp runtime options (`RuntimeOptions`, below) of these settings."""
        return RuntimeOptions(threads=self.threads, n_batch=self.n_batch, n_ubatch=self.n_ubatch,
                              flash_attn=self.flash_attn, kv_type=self.kv_type, mlock=self.mlock)


def parse_chroma_url(url: str) -> tuple[str, str, int, bool]:
    """A Chroma server address `http://HOST:PORT` -> (normalised URL, host, port, ssl).

    The port defaults to 8000 for http (Chroma's own default) and 443 for https.
    """
    from urllib.parse import urlsplit

    raw = (url or "").strip()
    bad = ConfigError(
        f"Chroma server URL {url!r} is invalid: use http://HOST:PORT (for example "
        "--chroma-url http://127.0.0.1:8000 or RAGMED_CHROMA_URL=http://10.0.0.5:8000)."
    )
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        raise bad from None
    if (parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password
            or parts.path not in ("", "/") or parts.query or parts.fragment):
        raise bad
    ssl = parts.scheme == "https"
    port = port or (443 if ssl else 8000)
    host = parts.hostname
    shown = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{shown}:{port}", host, port, ssl


def _coerce(name: str, raw: str, typ: Any) -> Any:
    t = typ if isinstance(typ, str) else getattr(typ, "__name__", str(typ))
    t = t.replace(" | None", "")
    try:
        if t == "int":
            return int(raw)
        if t == "float":
            return float(raw)
        if t == "bool":
            return raw.strip().lower() in {"1", "true", "yes", "on"}
    except ValueError as exc:
        raise ConfigError(f"RAGMED_{name.upper()}={raw!r} is not a valid {t}.") from exc
    return raw


# -- llama.cpp runtime options and embedder backends: settings, read by generate/ and embed/ ----------

def check_backend(name: str) -> str:
    """`name` if it is an embedder backend ragmed has; else a ConfigError naming them."""
    if name not in EMBEDDER_BACKENDS:
        raise ConfigError(f"Embedder backend {name!r} is unknown: use one of {', '.join(EMBEDDER_BACKENDS)}.")
    return name

# -- where state lives ---------------------------------------------------------------------------
# Every path ragmed writes to comes from these functions. With RAGMED_HOME set, all of it (indexes,
# pulled models, ONNX exports made at run time, caches) is under that one folder.

def _env(name: str) -> str:
    return os.environ.get(name, "").strip()


def home() -> Path | None:
    """$RAGMED_HOME (expanded), or None when it is unset."""
    raw = _env("RAGMED_HOME")
    return Path(raw).expanduser() if raw else None


def data_dir() -> Path:
    """Long-lived per-user state (indexes, pulled models): $RAGMED_HOME, else $XDG_DATA_HOME/ragmed,
    else the platform's user data folder (platformdirs: ~/.local/share/ragmed on Linux,
    ~/Library/Application Support/ragmed on macOS, %LOCALAPPDATA%\\ragmed on Windows)."""
    h = home()
    if h is not None:
        return h
    from platformdirs import user_data_dir  # honours $XDG_DATA_HOME on Linux

    return Path(user_data_dir("ragmed", appauthor=False))


LEGACY_INDEX_DIR = Path("indexes")  # the earlier default, relative to the current folder


def default_index_dir() -> Path:
    """Where collections live when no --index-dir is given: $RAGMED_INDEX_DIR, else
    $RAGMED_HOME/indexes, else ./indexes when that folder exists (collections made before the
    per-user default are still found), else `data_dir()/indexes` (the same folder whatever the
    current directory)."""
    if _env("RAGMED_INDEX_DIR"):
        return Path(_env("RAGMED_INDEX_DIR")).expanduser()
    h = home()
    if h is not None:
        return h / "indexes"
    if LEGACY_INDEX_DIR.is_dir():
        return LEGACY_INDEX_DIR
    return data_dir() / "indexes"


def cache_dir() -> Path:
    """Rebuildable state (ONNX exports of read-only models, eval collections, file hashes):
    $RAGMED_HOME/cache, else $XDG_CACHE_HOME/ragmed, else ~/.cache/ragmed."""
    h = home()
    if h is not None:
        return h / "cache"
    return Path(_env("XDG_CACHE_HOME") or Path.home() / ".cache") / "ragmed"


def models_dir() -> Path:
    """Where `ragmed models pull` stores models (models/store.py): `data_dir()/models`."""
    return data_dir() / "models"


def eval_cache_dir() -> Path:
    """Where `ragmed eval retrieval` builds and reuses corpus collections: `cache_dir()/eval-indexes`."""
    return cache_dir() / "eval-indexes"


def eval_data_dir() -> Path:
    """The evaluation datasets (`ragmed compare --data-dir` default): $RAGMED_EVAL_DIR, else ../shared/eval."""
    return Path(_env("RAGMED_EVAL_DIR") or "../shared/eval").expanduser()


def embedder_endpoint() -> tuple[str, str]:
    """($RAGMED_EMBEDDER_URL, $RAGMED_EMBEDDER_API_KEY) for the remote embedder (embed/remote.py), "" when unset."""
    return _env("RAGMED_EMBEDDER_URL"), _env("RAGMED_EMBEDDER_API_KEY")


def server_token() -> str:
    """$RAGMED_SERVER_TOKEN (`ragmed serve`'s admin token when no --token-file is given), or ""."""
    return _env("RAGMED_SERVER_TOKEN")


def no_local_server() -> bool:
    """$RAGMED_NO_SERVER set to 1/true/yes/on: the CLI never uses a running `ragmed serve` (cli/local_server.py)."""
    return _env("RAGMED_NO_SERVER").lower() in ("1", "true", "yes", "on")


def staff_token() -> str:
    """$RAGMED_STAFF_TOKEN (`ragmed serve`'s staff token: ask, search, read), or ""."""
    return _env("RAGMED_STAFF_TOKEN")


def hub_endpoint() -> str | None:
    """$HF_ENDPOINT (a Hugging Face mirror for `ragmed models pull`, models/store.py), or None for the hub."""
    return _env("HF_ENDPOINT") or None


def failpoint_spec() -> str:
    """$RAGMED_FAILPOINT, the crash tests' hook (failpoints.py); "" in normal use."""
    return _env("RAGMED_FAILPOINT")


def resolve_embedder(settings: Settings, name: str | None = None, build: dict | None = None) -> tuple[str, str]:
    """The (embedder name, backend) a collection is embedded with: the one rule, for new and
    existing collections.

    `name`: an explicitly requested embedder (argument or --embedder), else the collection's
    (`build`, its manifest's build record), else the settings' embedder. Backend: the settings'
    (--embedder-backend, RAGMED_EMBEDDER_BACKEND) when set, else the collection's own (collections
    built before backends existed: torch), else DEFAULT_EMBEDDER_BACKEND for a new collection."""
    if name is None:
        name = build["embedder"] if build else settings.embedder
    backend = settings.embedder_backend
    if not backend:
        backend = build.get("embedder_backend", "torch") if build else DEFAULT_EMBEDDER_BACKEND
    return name, backend
