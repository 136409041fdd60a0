"""The remote generator against llama-cpp-python's own OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest

from ragmed import RagMed
from ragmed.errors import RagmedError
from ragmed.generate.models import resolve_model
from support.net import free_port

QUESTION = "How often are stable patients seen for follow-up?"


@pytest.fixture(scope="module")
def server():
    pytest.importorskip("fastapi", reason="llama-cpp-python's server needs its [server] extra (make setup installs it)")
    port = free_port()
    model = resolve_model("smollm2-135m")[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1",
         "--port", str(port), "--n_ctx", "4096", "--seed", "0", "--verbose", "False"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "OPENBLAS_NUM_THREADS": "1"},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/v1/models", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.3)
        assert proc.poll() is None, "llama_cpp.server exited at start-up"
    else:
        proc.kill()
        pytest.fail("llama_cpp.server did not start within 120 s")
    yield url
    proc.terminate()
    proc.wait(timeout=30)


def test_remote_answers_and_cites_like_in_process(server, demo_rag):
    local = demo_rag.ask(QUESTION)
    remote_rag = RagMed(collection="demo", index_dir=demo_rag.index.index_dir, generator_url=server, max_tokens=96)
    remote = remote_rag.ask(QUESTION)
    assert remote.answer == local.answer
    assert [(c.n, c.passage_id) for c in remote.citations] == [(c.n, c.passage_id) for c in local.citations]
    assert remote.citations and remote.usage.completion_tokens > 0 and remote.timings.first_token_s is not None
    streamed = [e for e in remote_rag.ask_stream(QUESTION) if e.kind == "answer"]
    assert "".join(e.text for e in streamed).strip() == local.answer


def test_unreachable_server_is_a_clear_error(demo_rag):
    rag = RagMed(collection="demo", index_dir=demo_rag.index.index_dir, generator_url=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(RagmedError, match="Cannot reach the generator"):
        rag.ask(QUESTION)
