"""In-process generation with llama-cpp-python.

The model loads lazily, once per process per (file, context size), and is used by one call at a
time (a lock guards the context). Prompts are rendered by `chat.render`, so token counts used by
the context budget are exact.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import threading
import time
from pathlib import Path
from typing import Callable

from ..errors import DependencyMissingError, InputError
from .base import Generation, SamplingParams
from .chat import Message, Rendered, chat_style, render

log = logging.getLogger(__name__)

_MODELS: dict[tuple[str, int, "RuntimeOptions"], object] = {}
_LOAD_LOCK = threading.Lock()


def _close_all() -> None:
    """Free models before interpreter shutdown (llama-cpp-python's __del__ fails once modules unload)."""
    for llm in list(_MODELS.values()):
        with contextlib.suppress(Exception):
            llm.close()
    _MODELS.clear()


atexit.register(_close_all)


from ..config import KV_TYPES, RuntimeOptions, physical_cores  # noqa: E402,F401 (settings; re-exported)

@contextlib.contextmanager
def _quiet_stderr():
    """llama.cpp prints model-loading chatter to fd 2 even with verbose=False; silence it."""
    try:
        fd = os.dup(2)
    except OSError:  # pragma: no cover
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(fd, 2)
        os.close(fd)
        os.close(devnull)


class LlamaGenerator:
    def __init__(self, model_path: Path, model_id: str, n_ctx: int = 4096,
                 prefix_cache: bool = True, runtime: RuntimeOptions | None = None, speculative: bool = False):
        # Prefix cache: llama.cpp keeps the KV state of the last prompt, and llama-cpp-python
        # re-evaluates only the tokens after the longest common prefix with the new prompt. ragmed's
        # prompts start with the same system prompt and worked example, so each question pays only
        # for its passages and question. `prefix_cache=False` resets the state before every call.
        self.prefix_cache = prefix_cache
        self.model_path = Path(model_path)
        self.model_id = model_id
        self.n_ctx_requested = n_ctx
        self.runtime = runtime or RuntimeOptions()  # threads, batch sizes, attention, KV type
        self.speculative = speculative  # prompt-lookup drafts for greedy decoding (speculative.py)
        self.speculation = None  # speculative.Stats of the last generation, when it was used
        self._llm = None
        self._lock = threading.Lock()

    @property
    def llm(self):
        if self._llm is None:
            key = (str(self.model_path), self.n_ctx_requested, self.runtime)
            with _LOAD_LOCK:
                if key not in _MODELS:
                    try:
                        from llama_cpp import Llama
                    except ImportError as exc:
                        raise DependencyMissingError(
                            "llama-cpp-python is not installed: run `make setup` (it builds it with "
                            "flags that suit this CPU)."
                        ) from exc
                    log.info("loading model %s", self.model_id)
                    with _quiet_stderr():
                        _MODELS[key] = Llama(
                            model_path=str(self.model_path), n_ctx=self.n_ctx_requested,
                            verbose=False, seed=0, **self.runtime.llama_kwargs(),
                        )
                self._llm = _MODELS[key]
        return self._llm

    @property
    def n_ctx(self) -> int:
        return int(self.llm.n_ctx())

    @property
    def metadata(self) -> dict[str, str]:
        return dict(self.llm.metadata or {})

    def _token_text(self) -> dict[str, str]:
        llm = self.llm
        out = {}
        for name, tid in (("eos", llm.token_eos()), ("bos", llm.token_bos())):
            if tid is not None and tid >= 0:
                with contextlib.suppress(Exception):
                    out[name] = llm.detokenize([tid], special=True).decode("utf-8", "ignore")
        return out

    @property
    def chat_style(self) -> str:
        """"chatml" (Qwen family: MedPsy, thinking), "gguf-template" or "plain"."""
        return chat_style(self.metadata)

    def render(self, messages: list[Message]) -> Rendered:
        return render(messages, self.metadata, self._token_text())

    def count_tokens(self, text: str) -> int:
        return len(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def prompt_tokens(self, messages: list[Message]) -> int:
        return len(self.llm.tokenize(self.render(messages).prompt.encode("utf-8"), add_bos=True, special=True))

    def generate(
        self, messages: list[Message], params: SamplingParams,
        on_text: Callable[[str], None] | None = None,
        reasoning_tokens: int | None = None, think: bool = True,
    ) -> Generation:
        """Generate a reply; `params.max_tokens` bounds the answer.

        Reasoning (`<think>...</think>`, or a trace the chat template opened: a rendered prompt
        ending in `<think>`) has its own budget, `reasoning_tokens`: when it is spent ragmed writes the closing tag
        itself and lets the model answer, instead of losing the answer to an endless trace.
        `on_text` receives the raw text as it is generated, tags included. `think=False` (thinking
        mode "off"): a ChatML prompt gets an empty, closed trace prefilled (`NO_THINK_PREFILL`).
        """
        from .thinking import CLOSE, NO_THINK_PREFILL, OPEN, StreamSplitter

        rendered = self.render(messages)
        llm = self.llm
        prompt = rendered.prompt
        if not think and rendered.style == "chatml" and not prompt.rstrip().endswith(CLOSE):
            prompt += NO_THINK_PREFILL
        self.last_prompt = prompt  # what llama.cpp was sent (tests, benchmarks)
        n_prompt = len(llm.tokenize(prompt.encode("utf-8"), add_bos=True, special=True))
        room = self.n_ctx - n_prompt
        if room < min(16, params.max_tokens):
            raise InputError(
                f"The prompt ({n_prompt} tokens) leaves no room to answer in the model's "
                f"{self.n_ctx}-token context. Use a smaller -k or a larger --n-ctx."
            )
        budget = reasoning_tokens if reasoning_tokens is not None else 0
        splitter = StreamSplitter(in_reasoning=prompt.rstrip().endswith(OPEN))
        t0 = time.perf_counter()
        first = None
        pieces: list[str] = []
        finish = "stop"
        n_reason = n_answer = 0
        truncated = False

        from . import speculative as spec

        self.speculation = spec.Stats() if self.speculative and spec.usable(params.temperature) else None

        def stream(text_prompt: str, limit: int, n_tokens: int):
            if self.speculation is not None:  # same greedy tokens, drafted from the prompt
                return spec.stream(llm, text_prompt, max(1, min(limit, self.n_ctx - n_tokens - 1)), params,
                                   rendered.stop, self.speculation)
            return llm.create_completion(
                text_prompt, max_tokens=max(1, min(limit, self.n_ctx - n_tokens - 1)),
                temperature=params.temperature, top_p=params.top_p, top_k=params.top_k,
                repeat_penalty=params.repeat_penalty, seed=params.seed, stop=list(rendered.stop), stream=True,
            )

        def emit(piece: str) -> None:
            nonlocal first
            if first is None:
                first = time.perf_counter() - t0
            pieces.append(piece)
            if on_text:
                on_text(piece)

        with self._lock:
            if not self.prefix_cache:
                llm.reset()
            for part in stream(prompt, budget + params.max_tokens, n_prompt):
                choice = part["choices"][0]
                piece = choice.get("text") or ""
                if piece:
                    emit(piece)
                    kinds = {k for k, _ in splitter.feed(piece)}
                    if splitter.state == "reasoning" or kinds == {"reasoning"}:
                        n_reason += 1
                    else:
                        n_answer += 1
                if choice.get("finish_reason"):
                    finish = choice["finish_reason"]
                if reasoning_tokens is not None and splitter.state == "reasoning" and n_reason >= budget:
                    truncated = True
                    break
                if n_answer >= params.max_tokens:
                    finish = "length"
                    break
            if truncated:  # close the trace ourselves; the answer gets its own budget
                emit("\n" + CLOSE + "\n\n")
                finish = "stop"
                so_far = prompt + "".join(pieces)
                for part in stream(so_far, params.max_tokens, self.count_tokens(so_far) + 1):
                    choice = part["choices"][0]
                    piece = choice.get("text") or ""
                    if piece:
                        emit(piece)
                        n_answer += 1
                    if choice.get("finish_reason"):
                        finish = choice["finish_reason"]
        total = time.perf_counter() - t0
        text = "".join(pieces)
        n_out = len(llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)) if text else 0
        return Generation(
            text=text, prompt_tokens=n_prompt, completion_tokens=n_out, finish_reason=finish,
            first_token_s=first, prompt_s=first if first is not None else total, total_s=total,
            style=rendered.style, reasoning_tokens=n_reason, reasoning_truncated=truncated,
        )
