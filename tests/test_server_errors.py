"""Every error of the HTTP API has one shape, {"error": {"message", "type", "code"}}, with `code` equal
to the HTTP status: upstream failures (Chroma server, remote generator) are 502/503, FastAPI's request
validation errors 422. The app runs in this process (FastAPI's TestClient) on the sample collection."""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi", reason="the server extra is not installed (pip install 'ragmed[server]')")

from fastapi.testclient import TestClient  # noqa: E402

from ragmed.config import Settings  # noqa: E402
from ragmed.errors import ChromaServerError, RagmedError, UpstreamError, UpstreamUnavailableError  # noqa: E402
from ragmed.server.app import create_app  # noqa: E402
from ragmed.server.errors import error_body, status_of  # noqa: E402
from ragmed.server.service import ServerConfig  # noqa: E402
from support.net import free_port  # noqa: E402

QUESTION = "How often are stable patients seen for follow-up?"


def client(**settings) -> TestClient:
    # the Host guard answers only to this machine's names (DNS rebinding), so the client uses one
    return TestClient(create_app(ServerConfig(settings=Settings(**settings))), base_url="http://127.0.0.1:8000",
                      raise_server_exceptions=False)


def assert_error(r, status: int, kind: str | None = None) -> dict:
    assert r.status_code == status, (r.status_code, r.text)
    err = r.json()["error"]
    assert set(err) == {"message", "type", "code"} and err["code"] == status and err["message"], err
    if kind:
        assert err["type"] == kind, err
    return err


def test_status_and_body_code_agree_for_every_kind():
    for exc, status in [(ChromaServerError("x"), 503), (UpstreamUnavailableError("x"), 503),
                        (UpstreamError("x"), 502), (RagmedError("x"), 500), (ValueError("x"), 500)]:
        assert status_of(exc) == status and error_body(exc)["error"]["code"] == status, exc
    assert error_body(ValueError("secret detail"))["error"]["message"].startswith("Internal error")


def test_unreachable_chroma_server_is_503(tmp_path):
    with client(index_dir=tmp_path, chroma_url=f"http://127.0.0.1:{free_port()}") as c:
        err = assert_error(c.get("/v1/collections"), 503, "ChromaServerError")
        assert "127.0.0.1" in err["message"]
        assert_error(c.post("/v1/search", json={"query": QUESTION}), 503, "ChromaServerError")


def test_unreachable_generator_is_503(demo_rag):
    with client(index_dir=demo_rag.index.index_dir, collection="demo", max_tokens=16,
                generator_url=f"http://127.0.0.1:{free_port()}") as c:
        err = assert_error(c.post("/v1/ask", json={"question": QUESTION}), 503, "UpstreamUnavailableError")
        assert "Cannot reach the generator" in err["message"]


def test_validation_errors_use_the_same_shape(demo_rag):
    with client(index_dir=demo_rag.index.index_dir, collection="demo") as c:
        err = assert_error(c.post("/v1/search", json={"query": ""}), 422, "ValidationError")
        assert "query" in err["message"]
        err = assert_error(c.post("/v1/ask", json={"question": QUESTION, "k": 0, "extra": 1}), 422)
        assert "k" in err["message"] and "extra" in err["message"]
        assert_error(c.post("/v1/ask", content=b"not json", headers={"content-type": "application/json"}), 422)
