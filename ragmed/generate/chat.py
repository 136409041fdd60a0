"""Render chat messages into a model prompt.

- Qwen-family models (MedPsy is Qwen3-based): ChatML rendered by ragmed itself.
- Other models: the chat template stored in the GGUF metadata (`tokenizer.chat_template`).
- Base models without a template: a plain "Question/Answer" transcript.
"""

from __future__ import annotations

from dataclasses import dataclass

Message = dict[str, str]


@dataclass(frozen=True)
class Rendered:
    prompt: str
    stop: tuple[str, ...]
    style: str  # "chatml" | "gguf-template" | "plain"


def chat_style(metadata: dict[str, str]) -> str:
    arch = metadata.get("general.architecture", "").lower()
    name = (metadata.get("general.name", "") + " " + metadata.get("general.basename", "")).lower()
    if arch.startswith("qwen") or "qwen" in name or "medpsy" in name:
        return "chatml"
    if metadata.get("tokenizer.chat_template"):
        return "gguf-template"
    return "plain"


def render_chatml(messages: list[Message]) -> str:
    parts = [f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages]
    return "".join(parts) + "<|im_start|>assistant\n"


def render(messages: list[Message], metadata: dict[str, str], token_text: dict[str, str]) -> Rendered:
    style = chat_style(metadata)
    if style == "chatml":
        return Rendered(render_chatml(messages), ("<|im_end|>", "<|endoftext|>"), style)
    if style == "gguf-template":
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        formatter = Jinja2ChatFormatter(
            template=metadata["tokenizer.chat_template"],
            eos_token=token_text.get("eos", ""),
            bos_token=token_text.get("bos", ""),
        )
        out = formatter(messages=messages)
        stop = out.stop if isinstance(out.stop, list) else ([out.stop] if out.stop else [])
        eos = token_text.get("eos")
        return Rendered(out.prompt, tuple(s for s in [*stop, eos] if s), style)
    lines = []
    for m in messages:
        if m["role"] == "system":
            lines.append(m["content"].strip() + "\n")
        elif m["role"] == "user":
            lines.append(m["content"].strip() + "\n")
        else:
            lines.append("Answer: " + m["content"].strip() + "\n")
    return Rendered("\n".join(lines) + "\nAnswer:", ("\nQuestion:", "\n\n\n"), style)
