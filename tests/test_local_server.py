"""The CLI as a client of a running `ragmed serve` (cli/local_server.py, issue 23 part 3): real servers
on 127.0.0.1 over the bundled sample, real `ragmed search` / `ask --mode evidence` subprocesses."""

from __future__ import annotations

import json
import os
import signal

import pytest

from support.serverutil import cli, ingest_demo, start_server

pytest.importorskip("fastapi", reason="the server extra is not installed (pip install 'ragmed[server]')")

QUERY = "review interval"
QUESTION = "How often are stable patients seen for follow-up?"
USED = "answered by the running server"
STAFF = "staff-token-0123456789abcdef"
ADMIN = "admin-token-0123456789abcdef"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    base = tmp_path_factory.mktemp("local")
    ingest_demo(base / "idx")
    ingest_demo(base / "idx", collection="other")
    srv = start_server(base / "idx", base / "server.log")
    yield srv
    srv.stop()


def run(srv, *args, collection="demo", env=None):
    done = cli("-v", *args, "-c", collection, "--index-dir", str(srv.index_dir),
               env={"RAGMED_SERVER_TOKEN": "", "RAGMED_STAFF_TOKEN": "", "RAGMED_NO_SERVER": "", **(env or {})})
    assert done.returncode == 0, done.stderr
    return done


def test_server_advertises_itself_in_the_index_folder(served):
    files = list((served.index_dir / "run").glob("serve-*.json"))
    assert len(files) == 1
    rec = json.loads(files[0].read_text())
    assert rec["pid"] == served.proc.pid and rec["host"] == "127.0.0.1" and rec["collection"] == "demo"
    assert served.url.endswith(f":{rec['port']}") and rec["auth"] is False
    assert rec["settings"]["embedder"] and rec["settings"]["retrieval"] == "hybrid"
    assert "model" not in rec["settings"]  # generation settings do not stop the CLI from using it


@pytest.mark.parametrize("fmt", [[], ["--json"]])
def test_search_uses_the_server_and_prints_what_in_process_prints(served, fmt):
    remote = run(served, "search", QUERY, "-k", "4", *fmt)
    local = run(served, "search", QUERY, "-k", "4", "--no-server", *fmt)
    assert USED in remote.stderr and USED not in local.stderr
    assert "loading embedder" not in remote.stderr  # nothing loaded in the client
    assert remote.stdout == local.stdout and remote.stdout.strip()
    if fmt:
        assert len(json.loads(remote.stdout)) == 4


def test_filters_reach_the_server(served):
    remote = run(served, "search", QUERY, "--section", "Stable", "--json")
    local = run(served, "search", QUERY, "--section", "Stable", "--json", "--no-server")
    assert USED in remote.stderr
    found = json.loads(remote.stdout)
    assert found and all("Stable" in p["section_path"] for p in found)
    assert found == json.loads(local.stdout)


def test_evidence_mode_uses_the_server(served):
    before = served.log.read_text().count("mode=evidence")
    remote = run(served, "ask", "--mode", "evidence", QUESTION)
    local = run(served, "ask", "--mode", "evidence", QUESTION, env={"RAGMED_NO_SERVER": "1"})
    assert USED in remote.stderr and USED not in local.stderr
    assert remote.stdout == local.stdout and "Sources:" in remote.stdout
    assert served.log.read_text().count("mode=evidence") == before + 1  # the server's operational log
    rj = json.loads(run(served, "ask", "--mode", "evidence", QUESTION, "--json").stdout)
    lj = json.loads(run(served, "ask", "--mode", "evidence", QUESTION, "--json", "--no-server").stdout)
    rj.pop("timings"), lj.pop("timings")
    assert rj == lj and rj["evidence"]


def test_round_trip_of_the_records(served):
    from ragmed.cli.local_server import answer_from_dict, passage_from_dict

    d = json.loads(run(served, "ask", "--mode", "evidence", QUESTION, "--json").stdout)
    assert answer_from_dict(d).to_dict() == d
    p = json.loads(run(served, "search", QUERY, "--json").stdout)[0]
    assert passage_from_dict(p).to_dict() == p


def test_other_settings_or_collection_run_in_process(served):
    other = run(served, "search", QUERY, "--neighbours", "1")
    assert USED not in other.stderr and "other settings (neighbours)" in other.stderr
    coll = run(served, "search", QUERY, collection="other")
    assert USED not in coll.stderr and "no server for this collection" in coll.stderr
    assert coll.stdout.strip()
    answer_mode = run(served, "ask", QUESTION, "--max-tokens", "8", "--no-stream")
    assert USED not in answer_mode.stderr  # answer mode stays in-process


def test_tokens_and_a_killed_server(tmp_path):
    ingest_demo(tmp_path / "idx")
    srv = start_server(tmp_path / "idx", tmp_path / "server.log", env={"RAGMED_STAFF_TOKEN": STAFF}, token=ADMIN)
    try:
        none = run(srv, "search", QUERY)
        assert USED not in none.stderr and "needs a token" in none.stderr
        wrong = run(srv, "search", QUERY, env={"RAGMED_STAFF_TOKEN": "wrong-token-0123456789abcdef"})
        assert USED not in wrong.stderr and "HTTP 401" in wrong.stderr
        staff = run(srv, "search", QUERY, env={"RAGMED_STAFF_TOKEN": STAFF})
        assert USED in staff.stderr and staff.stdout == none.stdout == wrong.stdout
        os.kill(srv.proc.pid, signal.SIGKILL)  # no clean exit: its file stays behind
        srv.proc.wait()
        assert list((srv.index_dir / "run").glob("serve-*.json"))
        gone = run(srv, "search", QUERY, env={"RAGMED_STAFF_TOKEN": STAFF})
        assert USED not in gone.stderr and "is not running" in gone.stderr
        assert gone.stdout == staff.stdout
    finally:
        srv.stop()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "kill"])
def test_a_stopped_server_removes_its_file(tmp_path, sig):
    ingest_demo(tmp_path / "idx")
    srv = start_server(tmp_path / "idx", tmp_path / "server.log")
    assert list((srv.index_dir / "run").glob("serve-*.json"))
    srv.proc.send_signal(sig)
    srv.proc.wait(timeout=60)
    assert not list((srv.index_dir / "run").glob("serve-*.json"))
    after = run(srv, "search", QUERY)
    assert USED not in after.stderr and after.stdout.strip()
