"""The HTTP API against a real `ragmed serve` on 127.0.0.1 (real Chroma, MiniLM and SmolLM2)."""

from __future__ import annotations

import concurrent.futures
import hashlib
import http.client
import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from support.serverutil import SAMPLE_DIR, cli, free_port, ingest_demo, sse_events, start_server

pytest.importorskip("fastapi", reason="the server extra is not installed (pip install 'ragmed[server]')")

SAMPLE = SAMPLE_DIR / "demo-clinic-hypertension-protocol.pdf"
QUESTION = "How often are stable patients seen for follow-up?"
OFF_TOPIC = "What is the recommended vaccination schedule for rabies in dogs?"
TOKEN = "test-token-0123456789abcdef"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    base = tmp_path_factory.mktemp("srv")
    ingest_demo(base / "idx")
    srv = start_server(base / "idx", base / "server.log", "--max-upload-mb", "1")
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def secure_server(tmp_path_factory):
    """A token, a queue of one, and a 0.05 MB upload limit."""
    base = tmp_path_factory.mktemp("secure")
    ingest_demo(base / "idx")
    srv = start_server(base / "idx", base / "server.log", "--queue-size", "1", "--max-upload-mb", "0.05",
                       token=TOKEN)
    yield srv
    srv.stop()


def tree(path: Path) -> set[str]:
    return {str(p.relative_to(path)) for p in path.rglob("*")}


# -- page, schema, collections ---------------------------------------------------------------------

def test_page_and_schema_are_local(server):
    with server.client() as c:
        page = c.get("/")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        assert "default-src 'self'" in page.headers["content-security-policy"]
        for asset in ("/static/app.js", "/static/style.css"):
            body = c.get(asset)
            assert body.status_code == 200, asset
            # no CDN, no web font: nothing outside this server is referenced
            assert not re.search(r"https?://", body.text), asset
        assert not re.search(r"https?://", page.text)
        schema = c.get("/openapi.json").json()
    for path in ("/v1/ask", "/v1/search", "/v1/chat/completions", "/v1/collections/{collection}/documents"):
        assert path in schema["paths"], path
    assert schema["paths"]["/v1/ask"]["post"]["requestBody"]


def test_collections_documents_and_pdf(server):
    with server.client() as c:
        cols = c.get("/v1/collections").json()
        assert cols["default"] == "demo"
        docs = c.get("/v1/collections/demo/documents").json()
        (doc,) = docs["documents"]
        assert {"name": "demo", "documents": 1, "chunks": doc["chunks"]} in cols["collections"]
        assert doc["file_name"] == SAMPLE.name and doc["status"] == "indexed" and doc["pages"] == 5
        pdf = c.get(f"/v1/collections/demo/documents/{doc['doc_id']}/file")
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        assert hashlib.sha256(pdf.content).hexdigest() == hashlib.sha256(SAMPLE.read_bytes()).hexdigest()
        assert c.get("/v1/collections/demo/documents/0000/file").status_code == 404
        assert c.get("/v1/collections/nope-col/documents").json()["exists"] is False
        assert c.get("/v1/collections/x/documents").status_code == 400  # invalid name


def test_search(server):
    with server.client() as c:
        r = c.post("/v1/search", json={"query": "follow-up of stable patients", "k": 2, "mode": "hybrid"})
        assert r.status_code == 200
        top = r.json()["passages"][0]
        assert top["source"].endswith(SAMPLE.name) and top["page"] >= 1 and top["section_path"]
        assert set(top["scores"]) >= {"dense", "lexical"}
        assert c.post("/v1/search", json={"query": ""}).status_code == 422


# -- answers ------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_ask_json_matches_cli(server):
    with server.client() as c:
        r = c.post("/v1/ask", json={"question": QUESTION, "collection": "demo"})
    assert r.status_code == 200
    got = r.json()
    done = cli("ask", QUESTION, "-c", "demo", "--index-dir", str(server.index_dir), "--json",
               env={"RAGMED_MAX_TOKENS": "96"})
    assert done.returncode == 0, done.stderr
    want = json.loads(done.stdout)
    assert set(got) == set(want)
    for key in ("answer", "citations", "claims", "support", "abstained", "passages", "model"):
        assert got[key] == want[key], key
    assert got["citations"] and got["citations"][0]["page"] == 5 and not got["abstained"]


@pytest.mark.slow
def test_ask_streams_server_sent_events(server):
    with server.client() as c:
        r = c.post("/v1/ask", json={"question": QUESTION, "stream": True})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    events = sse_events(r.text)
    kinds = [e for e, _ in events]
    assert kinds[0] == "queued" and kinds[-1] == "final" and "answer" in kinds
    streamed = "".join(d["text"] for e, d in events if e == "answer")
    final = events[-1][1]
    assert final["answer"].strip() == streamed.strip()  # verified answer = streamed text here
    assert final["citations"] and final["support"]["claims"] >= 1


def test_evidence_mode_and_gate_abstention_need_no_model(server):
    with server.client() as c:
        ev = c.post("/v1/ask", json={"question": QUESTION, "mode": "evidence"}).json()
        assert ev["model"] == "evidence (no generation)" and ev["evidence"] and ev["citations"]
        off = c.post("/v1/ask", json={"question": OFF_TOPIC}).json()
    assert off["abstained"] is True and off["abstention"]["stage"] == "gate"
    assert off["answer"].startswith("The indexed documents do not cover this question.")


@pytest.mark.slow
def test_openai_chat_completions(server):
    body = {"model": "anything", "messages": [{"role": "system", "content": "Be brief."},
                                             {"role": "user", "content": QUESTION}]}
    with server.client() as c:
        assert c.get("/v1/models").json()["data"][0]["id"] == "smollm2-135m"
        r = c.post("/v1/chat/completions", json=body).json()
        s = c.post("/v1/chat/completions", json={**body, "stream": True})
    assert r["object"] == "chat.completion"
    msg = r["choices"][0]["message"]
    assert msg["role"] == "assistant" and "[1]" in msg["content"]
    assert r["citations"][0]["source"].endswith(SAMPLE.name) and r["usage"]["total_tokens"] > 0
    assert r["ragmed"]["support"]["claims"] >= 1
    events = sse_events(s.text)
    assert events[-1][1] == "[DONE]"
    chunks = [d for _, d in events[:-1]]
    assert all(d["object"] == "chat.completion.chunk" for d in chunks)
    text = "".join(d["choices"][0]["delta"].get("content", "") for d in chunks)
    assert text.strip() == msg["content"].strip()
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop" and chunks[-1]["citations"] == r["citations"]


WITHHELD_Q = "What is the blood pressure target?"  # SmolLM2 answers it without citing: withheld


def test_withheld_answer_reaches_no_http_client(server):
    """/v1/ask (JSON and SSE) and the OpenAI route (JSON and stream): the unsupported sentences are
    never answer text; the OpenAI response lists them apart, with their reasons."""
    with server.client() as c:
        plain = c.post("/v1/ask", json={"question": WITHHELD_Q}).json()
        sse_ask = sse_events(c.post("/v1/ask", json={"question": WITHHELD_Q, "stream": True}).text)
        body = {"messages": [{"role": "user", "content": WITHHELD_Q}]}
        oa = c.post("/v1/chat/completions", json=body).json()
        oa_stream = sse_events(c.post("/v1/chat/completions", json={**body, "stream": True}).text)
    assert plain["abstained"] and plain["abstention"]["stage"] == "verification", plain
    hidden = [cl["text"] for cl in plain["claims"] if cl["status"] != "supported" and len(cl["text"]) > 15]
    assert hidden
    kinds = [e for e, _ in sse_ask]
    assert kinds[:2] == ["queued", "evidence"] and "answer" not in kinds
    streamed_oa = "".join(d["choices"][0]["delta"].get("content", "") for _, d in oa_stream[:-1])
    for text in (plain["answer"], sse_ask[-1][1]["answer"], oa["choices"][0]["message"]["content"], streamed_oa):
        assert "withheld" in text
        assert not any(h in text for h in hidden), text
    assert [u["text"] for u in oa["unsupported"]] == hidden and all(u["status"] for u in oa["unsupported"])


def test_openai_content_carries_who_the_guidance_is_for(server):
    """An OpenAI client shows only `content`: the notice that the protocol's scope excludes the
    population asked about (ground/population.py) opens it, as ragmed's note, before any dose, in
    the JSON response and in the stream alike."""
    body = {"messages": [{"role": "user", "content": "What dose of amlodipine for a 6 year old?"}]}
    with server.client() as c:
        oa = c.post("/v1/chat/completions", json=body).json()
        oa_stream = sse_events(c.post("/v1/chat/completions", json={**body, "stream": True}).text)
    streamed = "".join(d["choices"][0]["delta"].get("content", "") for _, d in oa_stream[:-1])
    for text in (oa["choices"][0]["message"]["content"], streamed):
        assert text.startswith("Note (ragmed): Your question is about children;"), text
        assert text.count("Note (ragmed): Your question is about children;") == 1, text
        assert "It does not cover pregnancy, children" in text, text
    assert any(n.startswith("Your question is about children") for n in oa["ragmed"]["notices"])


def test_check_endpoint_checks_any_text(server):
    passage = "Give levothyroxine 25 micrograms daily to adults over 65. Do not stop it abruptly."
    with server.client() as c:
        r = c.post("/v1/check", json={"text": "Give levothyroxine 25 mg daily to adults over 65 [1]. "
                                              "Give levothyroxine 25 micrograms daily to adults over 65 [1].",
                                      "passages": [passage]})
    assert r.status_code == 200, r.text
    claims = r.json()["claims"]
    assert [c["status"] for c in claims] == ["unsupported", "supported"]
    assert claims[0]["reason"]


def test_bad_requests_get_clear_errors(server):
    with server.client() as c:
        r = c.post("/v1/ask", json={"question": "x" * 5000})
        assert r.status_code == 422
        r = c.post("/v1/chat/completions", json={"messages": [{"role": "system", "content": "hi"}]})
        assert r.status_code == 400 and "user message" in r.json()["error"]["message"]
        r = c.post("/v1/ask", json={"question": QUESTION, "collection": "missing-one"})
        assert r.status_code == 404 and "ragmed ingest" in r.json()["error"]["message"]


# -- uploads ---------------------------------------------------------------------------------------------

def test_upload_list_ask_remove(server, tmp_path):
    from support import pdfgen

    pdf = tmp_path / "Fever Protocol (v2).pdf"
    pdfgen.make_guideline_pdf(pdf, title="Fever Management Guideline")
    with server.client() as c:
        with pdf.open("rb") as f:
            r = c.post("/v1/collections/uploads-test/documents", params={"wait": "true"},
                       files={"file": (pdf.name, f, "application/pdf")}, data={"tags": ["version=2"]})
        assert r.status_code == 200, r.text
        job = r.json()
        assert job["status"] == "indexed" and job["tags"] == {"version": "2"}
        assert c.get(f"/v1/jobs/{job['id']}").json()["status"] == "indexed"
        docs = c.get("/v1/collections/uploads-test/documents").json()["documents"]
        (doc,) = docs
        assert doc["uploaded"] and doc["file_name"] == pdf.name and doc["tags"] == {"version": "2"}
        stored = server.index_dir / "uploads" / "uploads-test" / pdf.name
        assert stored.read_bytes() == pdf.read_bytes()
        hits = c.post("/v1/search", json={"query": "fever", "collection": "uploads-test", "k": 1}).json()["passages"]
        assert hits[0]["source"] == str(stored.resolve())
        # the same upload again is recognised as unchanged
        with pdf.open("rb") as f:
            again = c.post("/v1/collections/uploads-test/documents", params={"wait": "true"},
                           files={"file": (pdf.name, f, "application/pdf")}).json()
        assert again["status"] == "unchanged"
        gone = c.delete(f"/v1/collections/uploads-test/documents/{doc['doc_id']}").json()
        assert gone["status"] == "removed" and not stored.exists()  # moved into the trash (test_roles_trash)
        assert gone["trash"]["file_name"] == pdf.name
        assert c.get("/v1/collections/uploads-test/documents").json()["documents"] == []


@pytest.mark.parametrize("name", ["../evil.pdf", "..\\evil.pdf", "/tmp/evil.pdf", "sub/evil.pdf",
                                  "C:evil.pdf", "..", "evil.pdf\x00.txt", "notes.exe", ".hidden.pdf"])
def test_upload_names_that_escape_are_rejected(server, name, tmp_path):
    before_idx = tree(server.index_dir)
    before_tmp = tree(tmp_path)
    with server.client() as c:
        r = c.post("/v1/collections/demo/documents", params={"wait": "true"},
                   files={"file": (name, SAMPLE.read_bytes(), "application/pdf")})
    assert r.status_code in (400, 422), (name, r.text)
    assert tree(server.index_dir) == before_idx
    assert tree(tmp_path) == before_tmp
    assert not Path("/tmp/evil.pdf").exists()


def test_upload_content_and_size_limits(server, secure_server):
    with server.client() as c:
        r = c.post("/v1/collections/demo/documents", files={"file": ("fake.pdf", b"MZ\x90\x00 not a pdf", "application/pdf")})
        assert r.status_code == 400 and "not a PDF" in r.json()["error"]["message"]
    big = b"%PDF-1.4\n" + b"0" * 200_000  # over the secure server's 0.05 MB
    before = tree(secure_server.index_dir)
    with secure_server.client() as c:
        r = c.post("/v1/collections/demo/documents", files={"file": ("big.pdf", big, "application/pdf")})
    assert r.status_code == 413 and "limit" in r.json()["error"]["message"]
    assert tree(secure_server.index_dir) == before
    # an upload that does not declare its length is refused before it is read
    host, port = urlsplit(secure_server.url).hostname, urlsplit(secure_server.url).port
    conn = http.client.HTTPConnection(host, port, timeout=30)
    conn.putrequest("POST", "/v1/collections/demo/documents")
    conn.putheader("Authorization", f"Bearer {TOKEN}")
    conn.putheader("Content-Type", "multipart/form-data; boundary=x")
    conn.putheader("Transfer-Encoding", "chunked")
    conn.endheaders()
    conn.send(b"0\r\n\r\n")
    assert conn.getresponse().status == 411
    conn.close()


# -- security -------------------------------------------------------------------------------------------

def test_non_loopback_bind_without_token_is_refused(tmp_path):
    done = cli("serve", "--host", "0.0.0.0", "--port", str(free_port()), "--index-dir", str(tmp_path),
               env={"RAGMED_SERVER_TOKEN": ""}, timeout=60)
    assert done.returncode == 1
    assert "Refusing to listen on 0.0.0.0" in done.stderr and "token" in done.stderr
    short = cli("serve", "--host", "0.0.0.0", "--port", str(free_port()), "--index-dir", str(tmp_path),
                env={"RAGMED_SERVER_TOKEN": "short"}, timeout=60)
    assert short.returncode == 1 and "too short" in short.stderr


def test_token_required_on_every_route(secure_server):
    routes = [("GET", "/v1/health"), ("GET", "/v1/collections"), ("GET", "/v1/collections/demo/documents"),
              ("POST", "/v1/search"), ("POST", "/v1/ask"), ("POST", "/v1/chat/completions"),
              ("GET", "/v1/models"), ("GET", "/openapi.json"), ("DELETE", "/v1/collections/demo/documents/x")]
    for token in (None, "wrong-token-0123456789abcdef", TOKEN[:-1], TOKEN + "x"):
        with secure_server.client(token=token) as c:
            for method, path in routes:
                r = c.request(method, path, json={"query": "x"} if method == "POST" else None)
                assert r.status_code == 401, (token, method, path, r.status_code)
                assert r.headers["www-authenticate"] == "Bearer"
    with secure_server.client() as c:  # the right token
        assert c.get("/v1/health").json()["auth"] is True
        assert c.post("/v1/search", json={"query": "follow-up"}).status_code == 200
        assert c.get("/").status_code == 200  # the page shell (no data) loads, then asks for the token


def test_session_cookie_for_the_page(secure_server):
    with secure_server.client(token=None) as c:
        assert c.post("/v1/session", json={"token": "wrong"}).status_code == 401
        assert c.get("/v1/collections").status_code == 401
        r = c.post("/v1/session", json={"token": TOKEN})
        assert r.status_code == 200
        cookie = r.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie and TOKEN.lower() not in cookie
        assert c.get("/v1/collections").status_code == 200  # the cookie now authenticates


def test_token_compared_in_constant_time(monkeypatch):
    import hmac

    from ragmed.server.security import TokenCheck

    calls = []
    real = hmac.compare_digest
    monkeypatch.setattr(hmac, "compare_digest", lambda a, b: calls.append((a, b)) or real(a, b))
    check = TokenCheck(TOKEN)
    assert check.allows(f"Bearer {TOKEN}", None) and not check.allows("Bearer nope", None)
    assert not check.allows(None, None) and not check.allows(f"Basic {TOKEN}", None)
    assert calls and all(isinstance(a, bytes) for a, _ in calls)


def test_dns_rebinding_and_cross_origin_are_refused(server):
    with server.client() as c:
        assert c.get("/v1/health", headers={"Host": "attacker.example"}).status_code == 403
        r = c.post("/v1/search", json={"query": "x"}, headers={"Origin": "http://attacker.example"})
        assert r.status_code == 403
        same = c.post("/v1/search", json={"query": "x"}, headers={"Origin": server.url})
        assert same.status_code == 200


@pytest.mark.slow
def test_full_queue_answers_503_with_retry_after(secure_server):
    def ask(_):
        with secure_server.client() as c:
            return c.post("/v1/ask", json={"question": QUESTION})

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        results = list(pool.map(ask, range(4)))
    codes = sorted(r.status_code for r in results)
    assert 200 in codes and 503 in codes and set(codes) <= {200, 503}, codes
    busy = next(r for r in results if r.status_code == 503)
    assert int(busy.headers["retry-after"]) >= 1 and "busy" in busy.json()["error"]["message"]
    with secure_server.client() as c:
        stats = c.get("/v1/health").json()["queue"]
    assert stats["rejected"] >= 1 and stats["pending"] == 0


def test_server_log_holds_no_question_or_document_text(server):
    """Runs after this module's asks and uploads: the server's own output never logs content."""
    with server.client() as c:  # one more ask and search, so the log is known to have seen some
        c.post("/v1/ask", json={"question": QUESTION, "mode": "evidence"})
        c.post("/v1/search", json={"query": QUESTION})
    log = server.log.read_text()
    assert "ragmed serving http://127.0.0.1" in log  # the log is the server's own stdout/stderr
    assert QUESTION not in log and OFF_TOPIC not in log
    assert "Once the target has been met" not in log and "6 months" not in log
