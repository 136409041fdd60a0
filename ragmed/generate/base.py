"""The records every generator shares: decoding parameters in, a `Generation` out.

Kept apart from the generators (llama.cpp in-process, OpenAI-compatible remote) so neither imports
the other; `ragmed.interfaces.Generator` is the role they both fill.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Generation:
    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str
    first_token_s: float | None
    prompt_s: float  # time to first token (prompt processing dominates it)
    total_s: float
    style: str
    reasoning_tokens: int = 0  # tokens generated inside <think>...</think>
    reasoning_truncated: bool = False  # the reasoning budget ran out and ragmed closed the trace


@dataclass(frozen=True)
class SamplingParams:
    max_tokens: int = 512
    temperature: float = 0.0
    top_p: float = 0.95
    top_k: int = 40
    repeat_penalty: float = 1.1
    seed: int = 0
