"""Server mode: ragmed against a real Chroma server (`chroma run`), shared by two "workstations".

A workstation is a RagMed with its own, initially empty, index_dir; the collection, its manifest,
calibration and writer lease live on the server; each workstation only keeps caches.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from support import pdfgen
import pytest
from click.testing import CliRunner

from conftest import SAMPLE_PDF
from support.serverutil import free_port
from ragmed import RagMed
from ragmed.errors import ChromaServerError, ConfigError, IndexBusyError

QUESTION = "How often are stable patients seen for follow-up?"


def _chroma_executable() -> str | None:
    beside = Path(sys.executable).parent / "chroma"
    return str(beside) if beside.exists() else shutil.which("chroma")


class ChromaServer:
    """`chroma run` on a free loopback port with a fresh data folder, up once its heartbeat answers."""

    def __init__(self, data: Path):
        exe = _chroma_executable()
        if exe is None:
            pytest.skip("the `chroma` executable (chromadb's CLI) is not installed: cannot start a Chroma server")
        import httpx

        self.data = data
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.log = open(data / "server.log", "wb")  # noqa: SIM115 - closed by stop()
        self.proc = subprocess.Popen(
            [exe, "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(data / "db")],
            stdout=self.log, stderr=subprocess.STDOUT, env={**os.environ, "ANONYMIZED_TELEMETRY": "False"})
        deadline = time.monotonic() + 90
        while True:
            if self.proc.poll() is not None:
                self.stop()
                pytest.fail(f"chroma run exited with {self.proc.returncode}: {self.tail()}")
            try:
                if httpx.get(f"{self.url}/api/v2/heartbeat", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"chroma run did not answer its heartbeat: {self.tail()}")
            time.sleep(0.2)

    def tail(self) -> str:
        return (self.data / "server.log").read_text(errors="replace")[-2000:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The URL of a real Chroma server shared by this module's tests."""
    srv = ChromaServer(tmp_path_factory.mktemp("chroma-server"))
    try:
        yield srv.url
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def shared(server, tmp_path_factory):
    """The sample protocol ingested into the server by workstation A (whose index_dir is its own)."""
    a = RagMed(collection="demo", index_dir=tmp_path_factory.mktemp("workstation-a"), chroma_url=server,
               max_tokens=96)
    report = a.ingest([SAMPLE_PDF.parent])
    assert report.ok, report.to_dict()
    return a, report


def _workstation(server, tmp_path, collection="demo", **kw) -> RagMed:
    d = tmp_path / f"workstation-{len(list(tmp_path.iterdir()))}"
    assert not d.exists()
    return RagMed(collection=collection, index_dir=d, chroma_url=server, **kw)


def _server_client(url):
    import chromadb
    from chromadb.config import Settings

    host, port = url.rsplit("//", 1)[1].split(":")
    return chromadb.HttpClient(host=host, port=int(port), settings=Settings(anonymized_telemetry=False))


def test_ingest_goes_to_the_server_and_reingest_skips(shared, server):
    a, report = shared
    [doc] = report.documents
    n = doc.chunks  # the sample protocol's chunk count (table rows are grouped with their header)
    assert doc.status == "added" and n > 10 and report.embedded == n
    # nothing of the collection is stored locally: no embedded Chroma, no local manifest
    local = a.index.index_dir
    assert not (local / "chroma").exists() and not (local / "collections").exists()
    client = _server_client(server)
    names = {c.name for c in client.list_collections()}
    assert {"demo", "ragmed.meta"} <= names
    assert client.get_collection("demo").count() == n
    manifest = client.get_collection("ragmed.meta").get(ids=["manifest:demo"], include=["documents"])
    assert json.loads(manifest["documents"][0])["documents"][str(SAMPLE_PDF)]["chunks"] == n
    ids = a.index.all_ids()
    again = a.ingest([SAMPLE_PDF.parent])
    assert [d.status for d in again.documents] == ["unchanged"] and again.embedded == 0
    assert a.index.all_ids() == ids


def test_search_provenance_and_a_second_workstation_sees_the_same(shared, server, tmp_path):
    a, _ = shared
    hit = a.search(QUESTION, k=3)[0]
    assert "6 months" in hit.text
    assert (hit.page, hit.page_label) == (5, "4")
    assert hit.section_path == "Follow-up intervals > Stable patients"
    assert hit.source == str(SAMPLE_PDF) and len(hit.file_sha256) == 64

    b = _workstation(server, tmp_path)
    assert [i.path for i in b.documents()] == [str(SAMPLE_PDF)]
    for mode in ("hybrid", "lexical", "dense"):
        for q in (QUESTION, "What is the starting dose of amlodipine?", "blood pressure target"):
            pa, pb = a.search(q, k=4, mode=mode), b.search(q, k=4, mode=mode)
            assert pa, (mode, q)
            assert [(p.id, p.page, p.section) for p in pb] == [(p.id, p.page, p.section) for p in pa], (mode, q)
            assert [p.score for p in pb] == pytest.approx([p.score for p in pa], abs=1e-5)
    # B built its own lexical cache, once, from the server's chunk texts
    cache = b.index.dir / "lexical"
    assert json.loads((cache / "current.json").read_text())["chunks"] == shared[1].documents[0].chunks
    assert len(list((cache / "versions").iterdir())) == 1
    from ragmed.store.collection import Collection

    assert "demo" in Collection.list_names(tmp_path / "anything", server)


@pytest.mark.slow
def test_ask_on_another_workstation_gives_a_cited_answer(shared, server, tmp_path):
    b = _workstation(server, tmp_path, max_tokens=96)
    ans = b.ask(QUESTION)
    assert not ans.abstained, ans.answer
    assert "6 months" in ans.passages[0].text
    assert ans.citations, ans.answer
    c = next(c for c in ans.citations if c.passage_id == ans.passages[0].id)
    assert (c.page, c.page_label, c.section) == (5, "4", "Follow-up intervals > Stable patients")
    assert c.source == str(SAMPLE_PDF) and "6 months" in c.quote
    assert c.date  # currency comes from the server's manifest


def test_remove_on_one_workstation_is_seen_by_the_other(server, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    pdfgen.make_guideline_pdf(docs / "guideline.pdf")
    shutil.copy(SAMPLE_PDF, docs / "protocol.pdf")
    a = _workstation(server, tmp_path, collection="shared-rm")
    assert a.ingest([docs]).ok
    b = _workstation(server, tmp_path, collection="shared-rm")
    assert any("protocol.pdf" in p.source for p in b.search("amlodipine starting dose", k=5, mode="lexical"))
    total = a.index.count()
    [rep] = b.remove([docs / "protocol.pdf"])
    assert rep.status == "removed" and rep.chunks > 10
    assert a.index.count() == total - rep.chunks
    assert [os.path.basename(i.path) for i in a.documents()] == ["guideline.pdf"]
    for rag in (a, b):  # A's lexical cache is rebuilt for the new manifest; no hit of the removed file
        for mode in ("lexical", "hybrid", "dense"):
            assert all("protocol.pdf" not in p.source for p in rag.search("amlodipine starting dose", k=5, mode=mode))
    assert "60 seconds" in a.search("How long should the respiratory rate be counted?", k=1)[0].text
    [again] = a.remove([docs / "protocol.pdf"])
    assert again.failed and "not in this collection" in again.error


def test_calibration_is_shared(shared, server, tmp_path):
    a, _ = shared
    b = _workstation(server, tmp_path)
    assert a.calibration.source == "default"
    yes = [QUESTION, "What is the starting dose of amlodipine?", "What blood pressure target is used?"]
    no = ["How is a fractured femur splinted?", "What vaccine schedule applies to infants?",
          "Which antibiotic treats otitis media?"]
    cal = b.calibrate(yes, no)
    assert a.calibration.source == "calibrated" and a.calibration.threshold == cal.threshold
    assert "on " + server in a.index.calibration_location


def test_second_writer_on_another_workstation_is_refused(server, tmp_path):
    a = _workstation(server, tmp_path, collection="lease-test")
    b = _workstation(server, tmp_path, collection="lease-test")
    assert a.ingest([SAMPLE_PDF]).ok
    with a.index.write_lock():
        # b passes its own workstation's file lock; the server lease refuses it
        with pytest.raises(IndexBusyError, match=rf"busy.*pid {os.getpid()}.*{server}"):
            b.ingest([SAMPLE_PDF])
    with b.index.write_lock(wait_s=0.5):  # released: the other workstation may write now
        pass


def _lease(server, name, slot, host, expires, pid=1):
    meta = {"kind": "lease", "collection": name, "slot": slot, "token": f"t{slot}", "host": host, "pid": pid,
            "expires": expires, "released": False}
    _server_client(server).get_collection("ragmed.meta").upsert(
        ids=[f"lease:{name}:{slot:09d}"], documents=[host], metadatas=[meta], embeddings=[[1.0]])


def test_lease_of_a_crashed_writer_expires_and_a_lost_lease_stops_commits(server, tmp_path):
    a = _workstation(server, tmp_path, collection="lease-expiry")
    assert a.ingest([SAMPLE_PDF]).ok
    _lease(server, "lease-expiry", 50, "ward-pc-7", time.time() + 120)  # alive elsewhere
    with pytest.raises(IndexBusyError, match="host ward-pc-7, pid 1"):
        with a.index.write_lock(wait_s=0.3):
            pass
    _lease(server, "lease-expiry", 51, "ward-pc-7", time.time() - 1)  # crashed: expired
    with a.index.write_lock(wait_s=0.3):
        m = a.index.manifest()
        m.save()  # still the holder: commits go through
        _lease(server, "lease-expiry", 99, "ward-pc-8", time.time() + 120)  # taken over meanwhile
        with pytest.raises(IndexBusyError, match="lost its writer lease"):
            m.save()


def test_rebuild_elsewhere_invalidates_other_workstations_lexical_cache(server, tmp_path):
    a = _workstation(server, tmp_path, collection="rebuilt")
    assert a.ingest([SAMPLE_PDF]).ok
    b = _workstation(server, tmp_path, collection="rebuilt")
    assert b.search("amlodipine starting dose", k=3, mode="lexical")
    old = set(a.index.all_ids())
    # same document, same committed (document, version) set, other chunker settings
    a2 = RagMed(collection="rebuilt", index_dir=a.index.index_dir, chroma_url=server, chunk_tokens=120)
    assert a2.ingest([SAMPLE_PDF], rebuild=True).ok
    ids = set(a2.index.all_ids())
    assert len(ids) != len(old) and old - ids  # the chunks did change
    after = b.search("amlodipine starting dose", k=3, mode="lexical")
    assert after and {p.id for p in after} <= ids
    assert [p.id for p in after] == [p.id for p in a2.search("amlodipine starting dose", k=3, mode="lexical")]
    # B's cache holds exactly the new chunks (its term files of the old build were dropped)
    snap = b.index.lexical_snapshot(b.index.require_manifest())
    assert {r.id for r in snap.refs} == ids


def test_server_lost_mid_session_is_a_clear_error(tmp_path):
    srv = ChromaServer(tmp_path)
    try:
        rag = RagMed(collection="gone", index_dir=tmp_path / "ws", chroma_url=srv.url)
        assert rag.index.exists() is False  # connected once
    finally:
        srv.stop()
    with pytest.raises(ChromaServerError, match=f"Cannot reach the Chroma server at {srv.url}"):
        rag.search("anything")


def test_unreachable_server_is_a_clear_error(tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with pytest.raises(ChromaServerError) as err:
        RagMed(collection="demo", index_dir=tmp_path, chroma_url=url).search("anything")
    msg = str(err.value)
    assert f"Cannot reach the Chroma server at {url}" in msg
    assert f"chroma run --host 127.0.0.1 --port {port} --path DIR" in msg
    with pytest.raises(ConfigError, match="http://HOST:PORT"):
        RagMed(collection="demo", index_dir=tmp_path, chroma_url="127.0.0.1:8000")
    out = subprocess.run([sys.executable, "-m", "ragmed.cli", "docs", "list", "--collection", "demo",
                          "--index-dir", str(tmp_path), "--chroma-url", url],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 1
    assert f"Cannot reach the Chroma server at {url}" in out.stderr and "Traceback" not in out.stderr


def test_cli_chroma_url_for_ingest_and_search(server, tmp_path):
    from ragmed.cli import cli

    before = os.environ.get("RAGMED_CHROMA_URL")
    runner = CliRunner()
    res = runner.invoke(cli, ["ingest", str(SAMPLE_PDF), "--collection", "cli-demo", "--chroma-url", server,
                              "--index-dir", str(tmp_path / "ws-a"), "--json"])
    assert res.exit_code == 0, res.output
    assert [d["status"] for d in json.loads(res.output)["documents"]] == ["added"]
    assert os.environ.get("RAGMED_CHROMA_URL") == before  # the option does not leak past the command
    res = runner.invoke(cli, ["search", QUESTION, "--collection", "cli-demo", "--chroma-url", server,
                              "--index-dir", str(tmp_path / "ws-b"), "--json", "-k", "2"])
    assert res.exit_code == 0, res.output
    hits = json.loads(res.output)
    assert hits[0]["page_label"] == "4" and "6 months" in hits[0]["text"]
    assert hits[0]["source"] == str(SAMPLE_PDF)
    res = runner.invoke(cli, ["collections", "--chroma-url", server, "--json"])
    assert res.exit_code == 0 and "cli-demo" in json.loads(res.output), res.output
    assert not (tmp_path / "ws-a" / "chroma").exists() and not (tmp_path / "ws-b" / "collections").exists()


def test_http_server_on_a_chroma_server(shared, server, tmp_path):
    """`ragmed serve --chroma-url` on a workstation with an empty index directory."""
    from support.serverutil import start_server

    srv = start_server(tmp_path / "ws-serve", tmp_path / "serve.log", "--chroma-url", server)
    try:
        with srv.client() as c:
            cols = c.get("/v1/collections").json()["collections"]
            assert {"name": "demo", "documents": 1, "chunks": shared[1].documents[0].chunks} in cols
            docs = c.get("/v1/collections/demo/documents").json()["documents"]
            assert [d["file_name"] for d in docs] == [SAMPLE_PDF.name]
            hits = c.post("/v1/search", json={"query": QUESTION, "collection": "demo", "k": 1}).json()["passages"]
            assert hits[0]["source"] == str(SAMPLE_PDF) and hits[0]["page_label"] == "4"
        assert not (tmp_path / "ws-serve" / "chroma").exists()  # nothing embedded locally
    finally:
        srv.stop()
