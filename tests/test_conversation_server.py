"""Conversations over HTTP against a real `ragmed serve` on 127.0.0.1: the OpenAI client library
with a 3-turn history, `/v1/ask` with `history`, and server-side threads (storage, privacy)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from support.serverutil import ingest_demo, start_server

pytest.importorskip("fastapi", reason="the server extra is not installed (pip install 'ragmed[server]')")

FIRST = "How should the patient be prepared before blood pressure is measured?"
SECOND = "What happens if the difference between arms is more than 15 mmHg?"
FOLLOW = "And for home monitoring?"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    base = tmp_path_factory.mktemp("conv")
    ingest_demo(base / "idx")
    srv = start_server(base / "idx", base / "server.log", "--thread-retention-days", "7")
    yield srv
    srv.stop()


@pytest.mark.slow
def test_openai_client_sends_a_three_turn_history(server):
    openai = pytest.importorskip("openai", reason="the openai client library is not installed (pip install openai)")
    client = openai.OpenAI(base_url=server.url + "/v1", api_key="unused", timeout=600)
    messages = [{"role": "system", "content": "Answer in one short sentence."},
                {"role": "user", "content": FIRST}, {"role": "assistant", "content": "Rest seated for 5 minutes [1]."},
                {"role": "user", "content": SECOND}, {"role": "assistant", "content": "Use the arm with the higher reading [2]."},
                {"role": "user", "content": FOLLOW}]
    r = client.chat.completions.create(model="smollm2-135m", messages=messages)
    extra = r.model_extra
    ragmed = extra["ragmed"]
    assert ragmed["question"] == FOLLOW and ragmed["history"] == {"turns": 2, "dropped": 0}
    assert ragmed["search_query"].startswith(SECOND.rstrip("?")) and "home monitoring" in ragmed["search_query"]
    assert any("Home monitoring" in p["section_path"] for p in ragmed["passages"])
    # the earlier turns and the system message reach the prompt: more prompt tokens than the question alone
    alone = client.chat.completions.create(model="smollm2-135m", messages=[messages[-1]])
    assert r.usage.prompt_tokens > alone.usage.prompt_tokens
    assert alone.model_extra["ragmed"]["search_query"] == FOLLOW
    # whatever the answer, content holds only checked sentences or ragmed's own text
    assert r.choices[0].message.content is not None


def test_ask_takes_history_and_threads_are_private(server):
    idx = Path(server.index_dir)
    with server.client() as c:
        r = c.post("/v1/ask", json={"question": FOLLOW, "mode": "evidence",
                                    "history": [{"question": FIRST, "answer": "Rest first [1]."}]}).json()
        assert r["search_query"].startswith(FIRST.rstrip("?")) and r["evidence"]
        assert c.post("/v1/ask", json={"question": FOLLOW, "mode": "evidence", "thread": "new",
                                       "history": [{"question": FIRST}]}).status_code == 400

        first = c.post("/v1/ask", json={"question": FIRST, "mode": "evidence", "thread": "new"}).json()
        tid = first["thread"]["id"]
        assert first["thread"]["turns"] == 1 and first["thread"]["title"] == FIRST
        second = c.post("/v1/ask", json={"question": FOLLOW, "mode": "evidence", "thread": tid, "stream": True})
        final = [b for b in second.text.split("\n\n") if b.startswith("event: final")]
        assert final and '"turns": 2' in final[0]
        listed = c.get("/v1/threads").json()
        assert listed["enabled"] and listed["retention_days"] == 7
        assert [t["id"] for t in listed["threads"]] == [tid] and listed["threads"][0]["turns"] == 2
        thread = c.get(f"/v1/threads/{tid}").json()
        assert [t["question"] for t in thread["turns"]] == [FIRST, FOLLOW]
        assert thread["turns"][1]["query"].startswith(FIRST.rstrip("?")) and thread["turns"][1]["citations"]

        folder = idx / "threads"
        file = folder / f"{tid}.json"
        assert oct(folder.stat().st_mode & 0o777) == "0o700" and oct(file.stat().st_mode & 0o777) == "0o600"
        assert FOLLOW not in server.log.read_text()  # never logged

        assert c.delete(f"/v1/threads/{tid}").json() == {"id": tid, "deleted": True}
        assert not file.exists() and c.get(f"/v1/threads/{tid}").status_code == 404
        assert c.get("/v1/threads/../../etc").status_code == 404


def test_a_thread_keeps_the_notice_about_who_the_guidance_is_for(server):
    """Reopened later, a turn about children shows the protocol's exclusion before its answer."""
    with server.client() as c:
        r = c.post("/v1/ask", json={"question": "What is the amlodipine dose for children?", "mode": "evidence",
                                    "thread": "new"}).json()
        assert any(n.startswith("Your question is about children") for n in r["notices"]), r["notices"]
        turn = c.get(f"/v1/threads/{r['thread']['id']}").json()["turns"][0]
        assert [n for n in turn["notes"] if n.startswith("Your question is about children")], turn
        adult = c.post("/v1/ask", json={"question": FIRST, "mode": "evidence", "thread": r["thread"]["id"]}).json()
        assert adult["thread"]["turns"] == 2
        assert c.get(f"/v1/threads/{r['thread']['id']}").json()["turns"][1]["notes"] == []


def test_threads_older_than_the_retention_are_deleted(tmp_path):
    from ragmed.server.threads import ThreadStore

    store = ThreadStore(tmp_path / "threads", retention_days=1)
    old, new = store.create("old"), store.create("new")
    aged = time.time() - 2 * 86400
    os.utime(tmp_path / "threads" / f"{old['id']}.json", (aged, aged))
    assert [t["id"] for t in store.list()] == [new["id"]]
    assert not (tmp_path / "threads" / f"{old['id']}.json").exists()
    off = ThreadStore(tmp_path / "threads", retention_days=0)
    assert off.list() == [] and off.purge() == 1  # 0 days: no thread kept
    with pytest.raises(Exception, match="off"):
        off.create("x")
