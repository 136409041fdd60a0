"""The ONNX embedder's tokenizer straight from `tokenizer.json` (Hugging Face `tokenizers`), without
importing `transformers` - whose import pulls in torch and costs about 1.3 s of every CLI start
(measured with `python -X importtime`, issue 23 part 3).

`BertFastTokenizer` answers the calls `embed/onnx.py` and `embed/sentence.py` make of a
`transformers` tokenizer: `tok(texts, padding=True, truncation=True, max_length=N, return_tensors="np")`,
`tok(texts, add_special_tokens=False, truncation=False)`, `return_offsets_mapping=True`, and
`backend_tokenizer`. It is used only for BERT-family folders (`tokenizer_class` BertTokenizer[Fast])
whose `tokenizer.json` normaliser agrees with `tokenizer_config.json` (lower-casing, accents, Chinese
characters), because `transformers` rebuilds the normaliser from the config when they disagree; any
other folder returns None from `load` and gets `transformers.AutoTokenizer`. Token ids, attention
masks and type ids are the same as `AutoTokenizer`'s (tests/test_fast_tokenizer.py).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

BERT_CLASSES = ("BertTokenizer", "BertTokenizerFast")


class BertFastTokenizer:
    """One configured copy of the Rust tokenizer per (truncation length, padding), made once: a shared
    tokenizer is never reconfigured, so threads (the server's) may call it at once."""

    def __init__(self, tokenizer, pad_token: str, model_max_length: int = 512):
        self.model_max_length = model_max_length
        tokenizer.no_truncation()
        tokenizer.no_padding()
        self.backend_tokenizer = tokenizer
        self.pad_token = pad_token
        self.pad_id = tokenizer.token_to_id(pad_token)
        if self.pad_id is None:
            raise ValueError(f"the pad token {pad_token!r} is not in the vocabulary")
        self._configured: dict[tuple[int | None, bool], Any] = {(None, False): tokenizer}
        self._lock = threading.Lock()

    def _for(self, max_length: int | None, padding: bool):
        key = (max_length, padding)
        tok = self._configured.get(key)
        if tok is None:
            with self._lock:
                tok = self.backend_tokenizer.__class__.from_str(self.backend_tokenizer.to_str())
                if max_length:
                    tok.enable_truncation(max_length)
                if padding:
                    tok.enable_padding(pad_id=self.pad_id, pad_token=self.pad_token)
                self._configured[key] = tok
        return tok

    def __call__(self, texts, add_special_tokens: bool = True, padding: bool = False, truncation: bool = False,
                 max_length: int | None = None, return_tensors: str | None = None,
                 return_offsets_mapping: bool = False) -> dict[str, Any]:
        single = isinstance(texts, str)
        batch = [texts] if single else list(texts)
        tok = self._for((max_length or self.model_max_length) if truncation else None, bool(padding))
        encs = tok.encode_batch(batch, add_special_tokens=add_special_tokens)
        out: dict[str, Any] = {"input_ids": [e.ids for e in encs], "token_type_ids": [e.type_ids for e in encs],
                               "attention_mask": [e.attention_mask for e in encs]}
        if return_offsets_mapping:
            out["offset_mapping"] = [[tuple(o) for o in e.offsets] for e in encs]
        if return_tensors == "np":
            import numpy as np

            out = {k: np.asarray(v, dtype=np.int64) for k, v in out.items()}
        elif single:
            out = {k: v[0] for k, v in out.items()}
        return out


def load(model_dir: Path) -> BertFastTokenizer | None:
    """The tokenizer of a BERT-family folder without `transformers`, or None (use AutoTokenizer)."""
    try:
        from tokenizers import Tokenizer

        config = json.loads((Path(model_dir) / "tokenizer_config.json").read_text(encoding="utf-8"))
        spec = json.loads((Path(model_dir) / "tokenizer.json").read_text(encoding="utf-8"))
    except (ImportError, OSError, ValueError):
        return None
    norm = spec.get("normalizer") or {}
    if config.get("tokenizer_class") not in BERT_CLASSES or norm.get("type") != "BertNormalizer":
        return None
    if (norm.get("lowercase") != config.get("do_lower_case", True)
            or norm.get("strip_accents") != config.get("strip_accents")
            or norm.get("handle_chinese_chars") != config.get("tokenize_chinese_chars", True)):
        return None
    try:
        return BertFastTokenizer(Tokenizer.from_str(json.dumps(spec)), str(config.get("pad_token", "[PAD]")),
                                 int(config.get("model_max_length", 512)))
    except Exception:  # noqa: BLE001 - an unreadable spec: AutoTokenizer reports it better
        return None
