"""Embedder backends (embed/onnx.py): the ONNX export equals torch, int8 stays close, the manifest
records the backend, and collections refuse vectors of another family."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ragmed import RagMed
from ragmed.config import Settings
from ragmed.embed.onnx import BACKENDS, ensure_export, export_dir
from ragmed.embed.sentence import Embedder
from ragmed.errors import ConfigError, IndexMismatchError

from conftest import SAMPLE_PDF

TEXTS = [
    "Once the target has been met on two consecutive visits, follow-up moves to every 6 months.",
    "Give paracetamol 1 g every 6 hours, no more than 4 g in 24 hours.",
    "Patients with a blood pressure of 180/120 mmHg or more are referred the same day.",
    "Wash hands before and after every patient contact.",
    "hypertension",
]


@pytest.fixture(scope="module")
def vectors():
    return {b: Embedder("all-MiniLM-L6-v2", b).embed(TEXTS) for b in BACKENDS}


def test_onnx_fp32_equals_torch(vectors):
    cos = (vectors["onnx"] * vectors["torch"]).sum(1)
    assert cos.min() > 0.9999, cos


def test_int8_is_close_and_keeps_the_ranking(vectors):
    cos = (vectors["onnx-int8"] * vectors["torch"]).sum(1)
    assert cos.min() > 0.95, cos
    assert np.allclose(np.linalg.norm(vectors["onnx-int8"], axis=1), 1.0, atol=1e-4)
    q = {b: Embedder("all-MiniLM-L6-v2", b).embed_query("How often are stable patients followed up?") for b in BACKENDS}
    ranks = {b: list(np.argsort(-(vectors[b] @ q[b]))) for b in BACKENDS}
    assert ranks["onnx-int8"][0] == ranks["torch"][0] == 0


def test_export_is_cached_beside_the_model():
    emb = Embedder("all-MiniLM-L6-v2", "onnx-int8")
    folder = ensure_export(emb.path)
    stamp = (folder / "model_qint8.onnx").stat().st_mtime_ns
    assert ensure_export(emb.path) == folder
    assert (folder / "model_qint8.onnx").stat().st_mtime_ns == stamp  # not exported again
    assert folder.parent == export_dir(emb.path)  # <model>/onnx/, or the user cache when read-only
    assert not list(folder.parent.glob(".export-*"))  # no half-written export left behind


def test_manifest_records_backend_and_refuses_other_family(tmp_path):
    rag = RagMed(collection="int8", index_dir=tmp_path, embedder_backend="onnx-int8")
    assert rag.ingest([SAMPLE_PDF]).ok
    build = json.loads((tmp_path / "collections" / "int8" / "manifest.json").read_text())["build"]
    assert build["embedder_backend"] == "onnx-int8"
    with pytest.raises(IndexMismatchError, match="not interchangeable"):
        RagMed(collection="int8", index_dir=tmp_path, embedder_backend="torch").ingest([SAMPLE_PDF])
    with pytest.raises(IndexMismatchError, match="embedder backend"):
        RagMed(collection="int8", index_dir=tmp_path, embedder_backend="onnx").search("follow-up")
    # without an explicit backend, a reader uses the collection's own
    reader = RagMed(collection="int8", index_dir=tmp_path)
    assert reader.embedder.backend == "onnx-int8"
    assert "6 months" in " ".join(p.text for p in reader.search("How often are stable patients seen?", k=3))


def test_torch_and_onnx_share_a_collection(tmp_path, good_dir):
    rag = RagMed(collection="fp32", index_dir=tmp_path, embedder_backend="torch")
    assert rag.ingest([good_dir / "protocol.pdf"]).ok
    other = RagMed(collection="fp32", index_dir=tmp_path, embedder_backend="onnx")
    report = other.ingest([good_dir])
    assert report.ok and [d.status for d in report.documents].count("added") == 1
    hits = other.search("How often are stable patients seen for follow-up?", k=3, mode="dense")
    assert any("6 months" in p.text for p in hits)


def test_collections_made_before_backends_read_as_torch(tmp_path):
    rag = RagMed(collection="old", index_dir=tmp_path, embedder_backend="torch")
    assert rag.ingest([SAMPLE_PDF]).ok
    path = tmp_path / "collections" / "old" / "manifest.json"
    data = json.loads(path.read_text())
    del data["build"]["embedder_backend"]  # as ragmed 0.1 wrote it
    path.write_text(json.dumps(data))
    again = RagMed(collection="old", index_dir=tmp_path)
    assert again.embedder.backend == "torch"
    assert again.ingest([SAMPLE_PDF]).embedded == 0


def test_unknown_backend_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("RAGMED_EMBEDDER_BACKEND", "tensorrt")
    with pytest.raises(ConfigError, match="torch, onnx, onnx-int8"):
        Settings.from_env()


def test_onnx_refuses_a_folder_it_cannot_mirror(tmp_path):
    from ragmed.embed.onnx import OnnxModel

    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ConfigError, match="--embedder-backend torch"):
        OnnxModel(tmp_path, "onnx")


def test_export_is_fused_and_recorded():
    """The fp32 graph is ONNX Runtime's fused one (one Attention kernel per layer), kept because its
    vectors equal the plain export's (test_onnx_fp32_equals_torch checks them against torch)."""
    import onnx

    folder = ensure_export(Embedder("all-MiniLM-L6-v2", "onnx").path)
    assert json.loads((folder / "export.json").read_text())["fused"] is True
    ops = [n.op_type for n in onnx.load(str(folder / "model.onnx"), load_external_data=False).graph.node]
    assert ops.count("Attention") == 6 and "SkipLayerNormalization" in ops


def test_batch_size_does_not_change_vectors():
    emb = Embedder("all-MiniLM-L6-v2", "onnx")
    texts = TEXTS * 3  # mixed lengths: padding differs with the batch size
    a, b, c = emb.embed(texts, batch_size=1), emb.embed(texts), emb.embed(texts, batch_size=32)
    assert (a * b).sum(1).min() > 0.99999 and (a * c).sum(1).min() > 0.99999


def test_collection_of_an_older_int8_scheme_is_refused(tmp_path):
    rag = RagMed(collection="old8", index_dir=tmp_path, embedder_backend="onnx-int8")
    assert rag.ingest([SAMPLE_PDF]).ok
    path = tmp_path / "collections" / "old8" / "manifest.json"
    data = json.loads(path.read_text())
    del data["build"]["embedder_family"]  # as written before families were recorded (int8 v1)
    path.write_text(json.dumps(data))
    with pytest.raises(IndexMismatchError, match="vectors 'int8'.*not interchangeable"):
        RagMed(collection="old8", index_dir=tmp_path).search("follow-up")
    with pytest.raises(IndexMismatchError, match="--rebuild"):
        RagMed(collection="old8", index_dir=tmp_path).ingest([SAMPLE_PDF])
