"""llama.cpp runtime settings (generate/llama.py RuntimeOptions): from the environment to the
loaded context, and refused when invalid."""

from __future__ import annotations

import pytest

from ragmed import RagMed
from ragmed.config import Settings
from ragmed.errors import ConfigError
from ragmed.generate.llama import LlamaGenerator, RuntimeOptions, SamplingParams


def test_settings_reach_the_llama_context(monkeypatch, tmp_path):
    monkeypatch.setenv("RAGMED_N_BATCH", "256")
    monkeypatch.setenv("RAGMED_N_UBATCH", "128")
    monkeypatch.setenv("RAGMED_FLASH_ATTN", "1")
    monkeypatch.setenv("RAGMED_KV_TYPE", "q8_0")
    monkeypatch.setenv("RAGMED_THREADS", "1")
    rag = RagMed(collection="runtime", index_dir=tmp_path)
    assert rag.settings.runtime() == RuntimeOptions(threads=1, n_batch=256, n_ubatch=128, flash_attn=True,
                                                    kv_type="q8_0")
    gen = rag.generator
    params = gen.llm.context_params
    assert (params.n_batch, params.n_ubatch, params.n_threads, params.n_threads_batch) == (256, 128, 1, 1)
    assert params.flash_attn_type == 1  # LLAMA_FLASH_ATTN_TYPE_ENABLED
    assert params.type_k == params.type_v == 8  # GGML_TYPE_Q8_0
    out = gen.generate([{"role": "user", "content": "Name a colour."}], SamplingParams(max_tokens=8))
    assert out.completion_tokens >= 1 and out.text.strip()


def test_default_options_and_ubatch_capped_by_batch():
    kw = RuntimeOptions(n_batch=64, n_ubatch=512).llama_kwargs()
    assert kw["n_ubatch"] == 64 and kw["n_batch"] == 64
    assert kw["type_k"] == kw["type_v"] == 1 and kw["flash_attn"] is False


def test_each_runtime_gets_its_own_context():
    from ragmed.generate.models import resolve_model

    model_id, path = resolve_model("smollm2-135m")
    a = LlamaGenerator(path, model_id, n_ctx=512, runtime=RuntimeOptions(n_batch=128))
    b = LlamaGenerator(path, model_id, n_ctx=512, runtime=RuntimeOptions(n_batch=256))
    assert a.llm is not b.llm
    assert (a.llm.context_params.n_batch, b.llm.context_params.n_batch) == (128, 256)


@pytest.mark.parametrize("env,value,match", [
    ("RAGMED_KV_TYPE", "q4_0", "f16 or q8_0"),
    ("RAGMED_N_BATCH", "0", "at least 1"),
])
def test_invalid_runtime_settings_are_refused(monkeypatch, env, value, match):
    monkeypatch.setenv(env, value)
    with pytest.raises(ConfigError, match=match):
        Settings.from_env()
