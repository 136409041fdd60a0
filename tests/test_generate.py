"""Generation: prompt renderings, reasoning budget, streaming and sampling presets.

Reasoning handling is checked on recorded MedPsy/Qwen3-style outputs (fed in random-sized pieces, as
a stream delivers them) and, for the budget, on the bundled SmolLM2 with a prompt that opens a
thinking trace the way the Qwen3-Thinking template does.
"""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from click.testing import CliRunner

from ragmed.cli import cli
from ragmed.config import Settings
from ragmed.generate.chat import render_chatml
from ragmed.generate.llama import LlamaGenerator, SamplingParams
from ragmed.generate.models import resolve_model
from ragmed.generate.thinking import StreamSplitter, split_reasoning

# Recorded shapes of thinking-model output (MedPsy-1.7B opens the trace itself; the 4B's
# Thinking-2507 template pre-inserts <think>, so its output holds only the closing tag).
RECORDED = [
    ("<think>\nThe passage [1] says follow-up moves to every 6 months once the target is met twice."
     "\n</think>\n\nStable patients are seen every 6 months [1].", False,
     "The passage [1] says follow-up moves to every 6 months once the target is met twice.",
     "Stable patients are seen every 6 months [1]."),
    ("Okay, the user asks about amlodipine. Passage [2] gives 5 mg once daily.\n</think>\n\n"
     "Start amlodipine 5 mg once daily [2].", True,
     "Okay, the user asks about amlodipine. Passage [2] gives 5 mg once daily.",
     "Start amlodipine 5 mg once daily [2]."),
    ("<think>\nLet me check the referral criteria. Systolic 180 or more with headache", False,
     "Let me check the referral criteria. Systolic 180 or more with headache", ""),
    ("The indexed documents do not cover this question.", False, "",
     "The indexed documents do not cover this question."),
]


@pytest.mark.parametrize("text,pre_opened,reasoning,answer", RECORDED)
@pytest.mark.parametrize("seed", range(4))
def test_stream_splitter_matches_whole_text_split(text, pre_opened, reasoning, answer, seed):
    rng = random.Random(seed)
    s, out, i = StreamSplitter(in_reasoning=pre_opened), [], 0
    while i < len(text):
        n = rng.randint(1, 5)
        out += s.feed(text[i:i + n])
        i += n
    out += s.flush()
    got_r = "".join(t for k, t in out if k == "reasoning").strip()
    got_a = "".join(t for k, t in out if k == "answer").strip()
    assert (got_r, got_a) == (reasoning, answer)
    whole = split_reasoning(text)
    assert whole.answer == answer and whole.reasoning == reasoning
    assert whole.closed == ("</think>" in text or "<think>" not in text)


def test_chatml_rendering_is_exact():
    msgs = [{"role": "system", "content": "Answer from the passages."},
            {"role": "user", "content": "[1] Text.\n\nQuestion?"}]
    assert render_chatml(msgs) == (
        "<|im_start|>system\nAnswer from the passages.<|im_end|>\n"
        "<|im_start|>user\n[1] Text.\n\nQuestion?<|im_end|>\n"
        "<|im_start|>assistant\n"
    )


@pytest.fixture(scope="module")
def gen():
    name, path = resolve_model("smollm2-135m")
    return LlamaGenerator(path, name, n_ctx=2048)


def test_gguf_template_rendering_is_exact(gen):
    """SmolLM2's own template, from its GGUF metadata."""
    r = gen.render([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}])
    assert r.style == "gguf-template"
    assert r.prompt == "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"


def test_reasoning_budget_closes_the_trace_and_the_model_answers(gen, monkeypatch):
    # a chat template that opens the trace itself (as thinking models' templates do)
    plain = gen.render
    monkeypatch.setattr(gen, "render", lambda messages: replace(plain(messages), prompt=plain(messages).prompt + "<think>\n"))
    msgs = [{"role": "user", "content": "How often are stable patients seen? Think first."}]
    params = SamplingParams(max_tokens=12)
    out = gen.generate(msgs, params, reasoning_tokens=10)
    assert out.reasoning_truncated and out.reasoning_tokens == 10
    split = split_reasoning(out.text)
    assert split.closed and split.reasoning and split.answer
    assert 1 <= len(gen.llm.tokenize(split.answer.encode(), add_bos=False)) <= 12 + 2
    # Without a budget the same trace runs on into the answer budget and never closes.
    out2 = gen.generate(msgs, params)
    assert not out2.reasoning_truncated


def test_answer_budget_bounds_a_plain_answer(gen):
    out = gen.generate([{"role": "user", "content": "List ten fruits."}], SamplingParams(max_tokens=6))
    assert out.completion_tokens <= 7 and out.finish_reason == "length"


def test_presets():
    assert Settings(preset="deterministic").sampling()["temperature"] == 0.0
    medpsy = Settings(preset="medpsy").sampling()
    assert (medpsy["temperature"], medpsy["top_p"], medpsy["top_k"]) == (0.6, 0.95, 20)
    assert Settings(preset="medpsy", temperature=0.2).sampling()["temperature"] == 0.2
    assert Settings(preset="medpsy").sampling({"temperature": 0.7})["temperature"] == 0.7
    from ragmed.errors import ConfigError

    with pytest.raises(ConfigError, match="Preset"):
        Settings.from_env(preset="hot")


def test_ask_stream_events_add_up_to_the_answer(demo_rag):
    events = list(demo_rag.ask_stream("How often are stable patients seen for follow-up?"))
    final = events[-1]
    assert final.kind == "final" and final.answer.citations
    streamed = "".join(e.text for e in events if e.kind == "answer")
    assert streamed.strip() == final.answer.answer
    assert events[0].kind == "evidence"  # evidence first, before the model writes
    assert all(e.kind in ("reasoning", "answer", "flagged") for e in events[1:-1])


def test_cli_streams_the_answer_then_the_sources(demo_rag):
    res = CliRunner().invoke(cli, ["ask", "How often are stable patients seen for follow-up?", "--collection", "demo",
                                   "--index-dir", str(demo_rag.index.index_dir), "--max-tokens", "96", "--stream"])
    assert res.exit_code == 0, res.output
    assert "6 months" in res.output and res.output.index("6 months") < res.output.index("Sources:")


def test_prefix_cache_gives_identical_output(gen, demo_rag):
    """The KV state of the shared prompt prefix is reused; answers must not change because of it."""
    from ragmed.prompt import grounded as prompts

    passages = demo_rag.search("stable patients follow-up", k=3)
    params = SamplingParams(max_tokens=24)
    outs = {}
    for cached in (False, True):
        gen.prefix_cache = cached
        for q in ("How often are stable patients seen for follow-up?", "Who owns the protocol?"):
            p = prompts.grounded(q, passages, gen.prompt_tokens, 1500)
            outs.setdefault(q, []).append(gen.generate(p.messages, params).text)
    gen.prefix_cache = True
    for q, (uncached, cached) in outs.items():
        assert uncached == cached, q


def test_passage_budget_caps_the_prompt(demo_rag):
    from ragmed import RagMed

    small = RagMed(collection="demo", index_dir=demo_rag.index.index_dir, passage_tokens=80, max_tokens=8)
    a = small.ask("How often are stable patients seen for follow-up?", k=3)
    assert a.usage.passages_in_prompt >= 1 and a.usage.passages_dropped >= 1
    assert a.usage.passages_in_prompt + a.usage.passages_dropped == 3
