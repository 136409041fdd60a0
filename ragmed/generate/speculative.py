"""Prompt-lookup speculative decoding for greedy generation, with output identical to plain decoding.

Grounded answers copy passage text, so the next few tokens are often an n-gram continuation found
in the prompt. `stream` drafts them with llama-cpp-python's `LlamaPromptLookupDecoding` (the
method of https://github.com/apoorvumang/prompt-lookup-decoding), evaluates the last token and the
draft in one llama.cpp batch, and keeps the draft tokens that the model's own sampler picks at each
position; the first disagreement ends the step (its KV entries are removed). Every token comes from
the same sampler chain (`Llama._init_sampler`: penalties, then greedy) in the same order as plain
decoding, so the text is the same token for token (tests/test_speculative.py checks it on the
bundled models).

Why not `Llama(draft_model=...)`: in llama-cpp-python 0.3.36 that path changed greedy output on
SmolLM2-135M (" and" became " while" on a grounded prompt, with repeat_penalty 1.0), although
llama.cpp's logits for the same tokens evaluated in batches of 2, 4 and 11 have the same argmax as
one-token steps; and it keeps logits of every position (n_ctx x vocabulary floats). This loop asks
llama.cpp for the logits of the verified batch only.

Measured limit (tests/test_speed.py): identical on some grounded prompts, not on all. On SmolLM2
("What lifestyle advice ...?") and Gemma-3-270M the text changes at a near tie, because llama.cpp's
CPU kernels for a batch of several tokens round differently from one-token steps; no verification
order can remove that. So speculation is off by default (`speculative` setting) and opt-in.

Only greedy decoding (temperature 0) is sped up: with sampling, drafts would change which random
numbers are drawn; `usable` says when it applies. Yields the chunk shape of
`Llama.create_completion(stream=True)` ({"choices": [{"text", "finish_reason"}]}) and records the
acceptance in `Stats`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, Sequence

NGRAM = 3  # longest prompt n-gram matched (llama-cpp-python's default is 2; 3 measured no worse)
DRAFT_TOKENS = 10  # tokens drafted per step (llama-cpp-python's default)


@dataclass
class Stats:
    """Acceptance of one generation: `drafted` tokens proposed, `accepted` of them kept, `steps`
    batched model calls, `tokens` generated."""

    drafted: int = 0
    accepted: int = 0
    steps: int = 0
    tokens: int = 0
    history: list[int] = field(default_factory=list)  # accepted per step

    @property
    def acceptance(self) -> float:
        return self.accepted / self.drafted if self.drafted else 0.0


def usable(temperature: float) -> bool:
    """Speculation is used only where it cannot change the output: greedy decoding."""
    return temperature <= 0.0


def _decode_all(llm, tokens: Sequence[int]) -> None:
    """Evaluate `tokens` after the cached ones in one batch, keeping the logits of every position."""
    llm._ctx.kv_cache_seq_rm(-1, llm.n_tokens, -1)
    llm._batch.set_batch(batch=list(tokens), n_past=llm.n_tokens, logits_all=True)
    llm._ctx.decode(llm._batch)
    llm.input_ids[llm.n_tokens: llm.n_tokens + len(tokens)] = tokens
    llm.n_tokens += len(tokens)


def _prefill(llm, prompt_tokens: list[int]) -> None:
    """Evaluate the prompt, reusing the longest cached prefix (as `Llama.generate` does); at least
    the last prompt token is evaluated so its logits are fresh."""
    keep = 0
    for a, b in zip(llm.input_ids[: llm.n_tokens], prompt_tokens[:-1]):
        if a != b:
            break
        keep += 1
    if keep == 0 or not llm._ctx.kv_cache_seq_rm(-1, keep, -1):
        llm.reset()
        keep = 0
    llm.n_tokens = keep
    llm.eval(prompt_tokens[keep:])


def stream(llm, prompt: str, max_tokens: int, params, stop: Sequence[str] = (),
           stats: Stats | None = None, ngram: int = NGRAM, draft_tokens: int = DRAFT_TOKENS,
           ) -> Iterator[dict]:
    """Greedy completion of `prompt` (at most `max_tokens` tokens, cut before any `stop` string),
    as `create_completion(stream=True)` chunks. `params`: a `SamplingParams` with temperature 0."""
    import llama_cpp
    from llama_cpp.llama_speculative import LlamaPromptLookupDecoding

    if not usable(params.temperature):
        raise ValueError("prompt-lookup decoding is used only with temperature 0 (greedy).")
    stats = stats if stats is not None else Stats()
    draft = LlamaPromptLookupDecoding(max_ngram_size=ngram, num_pred_tokens=draft_tokens)
    tokens = llm.tokenize(prompt.encode("utf-8"), add_bos=True, special=True)
    sampler = llm._init_sampler(top_k=params.top_k, top_p=params.top_p, min_p=0.05, typical_p=1.0,
                                temp=params.temperature, repeat_penalty=params.repeat_penalty,
                                frequency_penalty=0.0, presence_penalty=0.0, tfs_z=1.0, mirostat_mode=0,
                                mirostat_tau=5.0, mirostat_eta=0.1, penalize_nl=True)
    llm._sampler = sampler
    _prefill(llm, tokens)
    n_ctx, eog = llm.n_ctx(), (lambda t: llama_cpp.llama_vocab_is_eog(llm._model.vocab, t))
    out: list[int] = []
    emitted = [0]  # characters of the answer text already yielded

    def release(final: bool = False):
        """The new text of `out` (stop strings cut, a possible stop prefix held back); None: a stop
        string was found and the text up to it released."""
        raw = llm.detokenize(out, prev_tokens=tokens)
        if not final and not _complete(raw):
            return ""
        text = raw.decode("utf-8", "ignore")
        at = min((text.find(s) for s in stop if s and s in text), default=-1)
        end = at if at >= 0 else len(text) - (0 if final else max((_partial(text, s) for s in stop if s), default=0))
        piece, emitted[0] = text[emitted[0]:end], max(emitted[0], end)
        return None if at >= 0 and not piece else (piece, at >= 0)

    def flush():  # yield the text released so far; True when a stop string ended it
        text, stopped = _released(release())
        if text:
            yield _chunk(text)
        return stopped

    finish, cut = "length", False
    token = sampler.sample(llm._ctx, -1)
    while True:
        if eog(token):
            finish = "stop"
            break
        out.append(token)
        stats.tokens += 1
        if (yield from flush()):
            finish, cut = "stop", True
            break
        if len(out) >= max_tokens or llm.n_tokens + 2 >= n_ctx:
            break
        # draft from the prompt and the answer so far, then verify [token, draft...] in one batch
        llm.input_ids[llm.n_tokens] = token
        room = max(0, min(draft_tokens, max_tokens - len(out), n_ctx - llm.n_tokens - 2))
        guess = [int(t) for t in draft(llm.input_ids[: llm.n_tokens + 1])[:room]] if room else []
        base = llm.n_tokens
        _decode_all(llm, [token, *guess])
        stats.steps += 1
        stats.drafted += len(guess)
        # batch position i predicts the token after it; keep the drafts the sampler itself picks
        nxt = sampler.sample(llm._ctx, -(len(guess) + 1))
        kept = 0
        while kept < len(guess) and nxt == guess[kept] and not eog(nxt):
            kept += 1
            out.append(nxt)
            nxt = sampler.sample(llm._ctx, -(len(guess) + 1) + kept)
        stats.accepted += kept
        stats.tokens += kept
        stats.history.append(kept)
        if kept < len(guess):  # drop the rejected drafts' KV entries
            llm.n_tokens = base + 1 + kept
            llm._ctx.kv_cache_seq_rm(-1, llm.n_tokens, -1)
        if kept and (yield from flush()):
            finish, cut = "stop", True
            break
        if len(out) >= max_tokens:
            break
        token = nxt
    if not cut:  # text held back as a possible stop string's start
        got = release(final=True)
        if got and got[0]:
            yield _chunk(got[0])
    yield {"choices": [{"text": "", "finish_reason": finish}]}


def _released(got) -> tuple[str, bool]:
    """`release()`'s result as (text to yield, "" for none; whether a stop string ended the output).
    `release` gives "" (nothing new yet), None (a stop string, nothing left before it) or (text, stop)."""
    if got is None:
        return "", True
    if not got:
        return "", False
    return got[0], got[1]


def _chunk(text: str) -> dict:
    return {"choices": [{"text": text, "finish_reason": None}]}


def _complete(raw: bytes) -> bool:
    """True when `raw` does not end inside a multi-byte UTF-8 character."""
    try:
        raw.decode("utf-8")
        return True
    except UnicodeDecodeError as exc:
        return exc.start < len(raw) - 3


def _partial(text: str, tag: str) -> int:
    """Length of the longest end of `text` that is a proper start of `tag` (held back)."""
    for n in range(min(len(tag) - 1, len(text)), 0, -1):
        if tag.startswith(text[-n:]):
            return n
    return 0
