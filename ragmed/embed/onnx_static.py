"""Static int8 quantisation of the ONNX embedder (issue 23, part 4): calibrated activation ranges.

`quantize_static_int8(model_dir, fp32, out, texts)` writes a QDQ graph with ONNX Runtime's
`quantize_static`: weights int8 per channel, activations uint8 with scales fixed from calibration
texts (ONNX Runtime's MinMax calibrator, or percentile/entropy), so inference does not compute ranges
per batch as the dynamic `onnx-int8` backend does. Sensitive parts stay fp32:

- the fused graph's Attention (QKV projections and softmax), SkipLayerNormalization,
  EmbedLayerNormalization and BiasGelu are not in ONNX Runtime's QDQ registry, so only the 18
  MatMuls (attention output and feed-forward) are quantised;
- `keep_layers` (default: the first and the last encoder layer) keep their MatMuls in fp32.

Measured in benchmarks/embedder_static_int8.py (BioASQ dev nDCG@10 vs torch, the < 0.5-point rule):
keeping layers 0 and 5 fp32 is not enough (cosine to fp32 0.962; quantising any one feed-forward down
projection costs most of it), keeping the six down projections fp32 ("keep-ffn-down") loses 0.11
points. Not yet a backend: a user's machine would need calibration text shipped with ragmed (the
BioASQ dev text used here is third-party evaluation data) and a vector family of its own.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Iterable, Sequence

log = logging.getLogger(__name__)


def _reader(model_dir: Path, graph: Path, texts: Sequence[str], batch_size: int, max_length: int,
            fixed: bool):
    """A CalibrationDataReader feeding `texts` tokenised as the embedder does. `fixed`: every batch
    padded to `max_length` (ONNX Runtime's histogram calibrators need one shape across batches)."""
    import numpy as np
    import onnxruntime as ort
    from onnxruntime.quantization import CalibrationDataReader

    from . import fast_tokenizer
    from .onnx import _auto_tokenizer

    tok = fast_tokenizer.load(model_dir) or _auto_tokenizer(model_dir)
    names = [i.name for i in ort.InferenceSession(str(graph), providers=["CPUExecutionProvider"]).get_inputs()]

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.batches = iter(range(0, len(texts), batch_size))

        def get_next(self):
            i = next(self.batches, None)
            if i is None:
                return None
            enc = tok(list(texts[i: i + batch_size]), padding=True, truncation=True, max_length=max_length,
                      return_tensors="np")
            feed = {n: enc[n].astype(np.int64) for n in names if n in enc}
            if fixed:  # zeros are [PAD] ids and a masked-out attention
                feed = {n: np.pad(v, ((0, 0), (0, max_length - v.shape[1]))) for n, v in feed.items()}
            if "token_type_ids" in names and "token_type_ids" not in feed:
                feed["token_type_ids"] = np.zeros_like(feed["input_ids"])
            return feed

    return Reader()


def excluded_nodes(graph: Path, keep_layers: Iterable[int], keep_pattern: str = "") -> list[str]:
    r"""Names of the MatMul nodes kept fp32: those of encoder layers `keep_layers`, and those whose
    name matches the regular expression `keep_pattern` (e.g. r"layer\.\d+/output/dense": the
    feed-forward down projections, whose GELU inputs have the widest ranges)."""
    import onnx

    keep = set(keep_layers)
    out = []
    for n in onnx.load(str(graph), load_external_data=False).graph.node:
        m = re.search(r"/layer\.(\d+)/", n.name)
        if n.op_type == "MatMul" and ((m and int(m.group(1)) in keep) or (keep_pattern and re.search(keep_pattern, n.name))):
            out.append(n.name)
    return out


def quantize_static_int8(model_dir: Path, fp32: Path, out: Path, texts: Sequence[str],
                         keep_layers: Iterable[int] = (0, 5), keep_pattern: str = "", method: str = "minmax",
                         batch_size: int = 8, max_length: int = 256) -> list[str]:
    """Write the statically quantised QDQ graph of `fp32` to `out`; returns the nodes kept fp32.

    `texts`: calibration text (the benchmark uses BioASQ **dev** passages and queries); `method`:
    "minmax", "percentile" (99.999th) or "entropy" (ONNX Runtime's calibrators)."""
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    methods = {"minmax": CalibrationMethod.MinMax, "percentile": CalibrationMethod.Percentile,
               "entropy": CalibrationMethod.Entropy}
    pre = out.with_suffix(".pre.onnx")
    try:  # symbolic shape inference + ONNX Runtime's graph optimisations, as its tools advise
        quant_pre_process(str(fp32), str(pre), skip_optimization=True, skip_symbolic_shape=False)
        src = pre
    except Exception as exc:  # noqa: BLE001 - pre-processing is advice, not required
        log.warning("quantisation pre-processing failed (%s); quantising the graph as it is", exc)
        src = fp32
    keep = excluded_nodes(src, keep_layers, keep_pattern)
    try:
        quantize_static(str(src), str(out), _reader(model_dir, src, texts, batch_size, max_length, method != "minmax"),
                        quant_format=QuantFormat.QDQ, per_channel=True, weight_type=QuantType.QInt8,
                        activation_type=QuantType.QUInt8, op_types_to_quantize=["MatMul"],
                        nodes_to_exclude=keep, calibrate_method=methods[method],
                        extra_options={"ActivationSymmetric": False, "WeightSymmetric": True,
                                       **({"CalibPercentile": 99.999} if method == "percentile" else {})})
    finally:
        pre.unlink(missing_ok=True)
    return keep
