"""Generation through any OpenAI-compatible server (llama.cpp's server, llama-cpp-python's server,
vLLM), e.g. a clinic's one GPU box on its own network.

The server renders the chat template, so ragmed sends messages to `/v1/chat/completions` (streamed,
server-sent events). Token counts for the context budget are estimated (4 characters per token,
rounded up, plus a few tokens per message), because the OpenAI API has no tokenizer endpoint; the
reasoning budget needs token-level control of the model and is not applied remotely (reasoning and
answer share `max_tokens + reasoning_tokens`).
"""

from __future__ import annotations

import json
import time
from typing import Callable

from ..errors import ConfigError, UpstreamError, UpstreamUnavailableError
from .chat import Message, Rendered
from .base import Generation, SamplingParams

CHARS_PER_TOKEN = 4
TOKENS_PER_MESSAGE = 8


class RemoteGenerator:
    def __init__(self, url: str, model: str = "default", n_ctx: int = 4096, api_key: str | None = None,
                 timeout_s: float = 600.0):
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"--generator-url {url!r} must start with http:// or https://.")
        self.base = url.rstrip("/")
        if self.base.endswith("/v1"):
            self.base = self.base[:-3]
        self.model_id = model
        self._n_ctx = n_ctx
        self.api_key = api_key
        self.timeout_s = timeout_s

    @property
    def n_ctx(self) -> int:
        return self._n_ctx

    @property
    def chat_style(self) -> str:
        """The server renders the template; "chatml" marks a Qwen-family (thinking) model by name."""
        return "chatml" if any(x in self.model_id.lower() for x in ("qwen", "medpsy")) else "remote"

    def render(self, messages: list[Message]) -> Rendered:
        return Rendered("", (), self.chat_style)

    def count_tokens(self, text: str) -> int:
        return -(-len(text) // CHARS_PER_TOKEN)

    def prompt_tokens(self, messages: list[Message]) -> int:
        return sum(self.count_tokens(m["content"]) + TOKENS_PER_MESSAGE for m in messages)

    def generate(
        self, messages: list[Message], params: SamplingParams,
        on_text: Callable[[str], None] | None = None,
        reasoning_tokens: int | None = None, think: bool = True,
    ) -> Generation:
        import httpx

        body = {
            "model": self.model_id, "messages": messages, "stream": True,
            "max_tokens": params.max_tokens + (reasoning_tokens or 0), "temperature": params.temperature,
            "top_p": params.top_p, "top_k": params.top_k, "repeat_penalty": params.repeat_penalty,
            "seed": params.seed, "stream_options": {"include_usage": True},
        }
        if not think:  # thinking mode "off": Qwen3 templates' switch (llama.cpp server, vLLM)
            body["chat_template_kwargs"] = {"enable_thinking": False}
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        t0 = time.perf_counter()
        first = None
        pieces: list[str] = []
        finish = "stop"
        usage: dict = {}
        try:
            with httpx.stream("POST", f"{self.base}/v1/chat/completions", json=body, headers=headers,
                              timeout=self.timeout_s) as resp:
                if resp.status_code != 200:
                    resp.read()
                    raise UpstreamError(f"The generator at {self.base} answered HTTP {resp.status_code}: "
                                      f"{resp.text[:300]}")
                for line in resp.iter_lines():
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        break
                    chunk = json.loads(data)
                    usage = chunk.get("usage") or usage
                    for choice in chunk.get("choices") or []:
                        piece = (choice.get("delta") or {}).get("content") or ""
                        if piece:
                            if first is None:
                                first = time.perf_counter() - t0
                            pieces.append(piece)
                            if on_text:
                                on_text(piece)
                        if choice.get("finish_reason"):
                            finish = choice["finish_reason"]
        except httpx.HTTPError as exc:
            raise UpstreamUnavailableError(
                f"Cannot reach the generator at {self.base} ({type(exc).__name__}: {exc}). Is the server "
                "running? Check --generator-url."
            ) from exc
        total = time.perf_counter() - t0
        text = "".join(pieces)
        return Generation(
            text=text, prompt_tokens=int(usage.get("prompt_tokens") or self.prompt_tokens(messages)),
            completion_tokens=int(usage.get("completion_tokens") or self.count_tokens(text)),
            finish_reason=finish, first_token_s=first, prompt_s=first if first is not None else total,
            total_s=total, style="remote",
        )
