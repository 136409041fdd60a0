"""The ONNX embedder's tokenizer without transformers (embed/fast_tokenizer.py): the same ids, masks
and offsets as transformers' AutoTokenizer on the bundled MiniLM, and no torch import on the way."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from ragmed.embed import fast_tokenizer

TEXTS = ["", "Amlodipine 5 mg once daily.", "ÉTUDE: naïve patients – ≥ 65 years (n=1,204) µg/kg 中文 test",
         "Hypertension " * 400, "Stable patients\nare reviewed every 6 months;\tBP < 140/90 mmHg.",
         "don't URGENT referral!!! HbA1c≥7.5%"]


@pytest.fixture(scope="module")
def pair(embedder):
    from transformers import AutoTokenizer

    return fast_tokenizer.load(embedder.path), AutoTokenizer.from_pretrained(str(embedder.path), local_files_only=True)


def test_same_as_auto_tokenizer(pair):
    fast, auto = pair
    assert fast is not None
    for kw in (dict(padding=True, truncation=True, max_length=256, return_tensors="np"),
               dict(padding=True, truncation=True, max_length=16, return_tensors="np")):
        a, b = fast(TEXTS, **kw), auto(TEXTS, **kw)
        for key in ("input_ids", "attention_mask", "token_type_ids"):
            assert np.array_equal(a[key], b[key]), key
    a = fast(TEXTS, add_special_tokens=False, truncation=False)
    b = auto(TEXTS, add_special_tokens=False, truncation=False)
    assert a["input_ids"] == b["input_ids"] and max(map(len, a["input_ids"])) > 512
    assert fast("", add_special_tokens=True)["input_ids"] == auto("", add_special_tokens=True)["input_ids"]
    a = fast(TEXTS[2], add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
    b = auto(TEXTS[2], add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
    assert [tuple(x) for x in a] == [tuple(x) for x in b]


def test_other_tokenizers_fall_back(tmp_path, embedder):
    (tmp_path / "tokenizer_config.json").write_text('{"tokenizer_class": "GPT2Tokenizer"}')
    (tmp_path / "tokenizer.json").write_text((embedder.path / "tokenizer.json").read_text())
    assert fast_tokenizer.load(tmp_path) is None
    cfg = (embedder.path / "tokenizer_config.json").read_text().replace('"do_lower_case": true', '"do_lower_case": false')
    (tmp_path / "tokenizer_config.json").write_text(cfg)
    assert fast_tokenizer.load(tmp_path) is None  # transformers would rebuild the normaliser: not ours to guess


def test_onnx_embedder_imports_neither_transformers_nor_torch():
    code = ("import sys; from ragmed.embed.sentence import Embedder; e = Embedder(backend='onnx'); "
            "v = e.embed_query('amlodipine dose'); assert v.shape == (e.dimension,), v.shape; "
            "print(sorted(m for m in ('torch', 'transformers', 'sentence_transformers') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
