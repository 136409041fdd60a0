"""Static int8 quantisation of the bundled MiniLM's ONNX export (embed/onnx_static.py): the nodes asked
to stay fp32 stay fp32, the others are quantised, and the vectors stay close to the fp32 ones."""

from __future__ import annotations

import pytest

pytest.importorskip("onnxruntime")

TEXTS = [
    "Hypertension is treated with lifestyle change and, if needed, medication.",
    "Give 0.5 mg/kg orally every 6 hours; maximum 4 doses in 24 hours.",
    "Refer patients with red flags (fever, weight loss, night pain) the same day.",
    "Once the target has been met on two consecutive visits, follow-up moves to every 6 months.",
    "Metformin is the first-line drug for type 2 diabetes unless contraindicated.",
    "Check renal function before starting an ACE inhibitor and two weeks after.",
    "Children under 12 should not be given aspirin because of the risk of Reye's syndrome.",
    "Stable patients are reviewed by the practice nurse every six months.",
]


def test_static_int8_keeps_the_chosen_nodes_fp32_and_the_vectors_close(tmp_path):
    import onnx

    from ragmed.embed.onnx import _pipeline, _Session, ensure_export
    from ragmed.embed.onnx_static import quantize_static_int8
    from ragmed.embed.sentence import Embedder

    model_dir = Embedder("all-MiniLM-L6-v2", "onnx").path
    fp32 = ensure_export(model_dir) / "model.onnx"
    out = tmp_path / "static.onnx"
    kept = quantize_static_int8(model_dir, fp32, out, TEXTS, keep_layers=(),
                                keep_pattern=r"layer\.\d+/output/dense", batch_size=4)
    assert len(kept) == 6 and all("/output/dense/MatMul" in k and "attention" not in k for k in kept)

    graph = onnx.load(str(out)).graph
    producers = {o: n for n in graph.node for o in n.output}
    matmuls = [n for n in graph.node if n.op_type == "MatMul"]
    quantised = {n.name for n in matmuls if any(getattr(producers.get(i), "op_type", "") == "DequantizeLinear" for i in n.input)}
    assert not quantised & set(kept)  # fp32 inputs and weights
    assert len(quantised) == 12  # the attention-output and intermediate projections of 6 layers

    pooling, seq = _pipeline(model_dir)
    a = _Session(fp32, model_dir, pooling, seq, threads=1).encode(TEXTS)
    b = _Session(out, model_dir, pooling, seq, threads=1).encode(TEXTS)
    assert float((a * b).sum(1).min()) > 0.97
