"""Current guidance wins (issue 25) over HTTP and on the web page: a real `ragmed serve` on
127.0.0.1 over the benchmark's generated protocol editions (ragmed/eval/editions.py, seed 3), and
the page in a real headless Chromium."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ragmed.eval.editions import world
from support.serverutil import cli, start_server

pytest.importorskip("fastapi", reason="the server extra is not installed (pip install 'ragmed[server]')")

SEED = 3


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    base = tmp_path_factory.mktemp("versions-srv")
    w = world(SEED)
    folder = base / "docs"
    folder.mkdir()
    for d in w.docs:
        (folder / d.name).write_text(d.text, encoding="utf-8")
    done = cli("ingest", str(folder), "-c", "editions", "--index-dir", str(base / "idx"), "--json")
    assert done.returncode == 0, done.stderr
    srv = start_server(base / "idx", base / "server.log", collection="editions")
    yield srv, w, {d.name: str((folder / d.name).resolve()) for d in w.docs}, base
    srv.stop()


def _changed(w):
    return next(q for q in w.questions if q.expect == "changed")


def test_http_documents_ask_and_date_correction(served):
    srv, w, paths, _ = served
    q = _changed(w)
    with srv.client() as c:
        docs = {d["file_name"]: d for d in c.get("/v1/collections/editions/documents").json()["documents"]}
        old, new = docs[q.docs[0]], docs[q.docs[1]]
        assert old["superseded_by"] == paths[q.docs[1]] and old["superseded_by_date"] == new["date"]
        assert new["date_source"] == "document text" and "Version 2.0" in new["date_evidence"]
        r = c.post("/v1/ask", json={"question": q.text, "collection": "editions", "mode": "evidence"})
        assert r.status_code == 200, r.text
        a = r.json()
        assert a["conflicts"][0]["editions"] and a["conflicts"][0]["a"]["source"] == paths[q.docs[1]]
        assert any(n.startswith("Changed between editions:") for n in a["notices"])
        assert all(e["superseded"] for e in a["evidence"] if e["source"] == paths[q.docs[0]])
        # the admin corrects a date; a malformed one is refused with what to write
        put = c.put(f"/v1/collections/editions/documents/{old['doc_id']}/date", json={"date": "2010-01"})
        assert put.status_code == 200, put.text
        assert (put.json()["date"], put.json()["date_source"]) == ("2010-01", "set by admin")
        bad = c.put(f"/v1/collections/editions/documents/{old['doc_id']}/date", json={"date": "soon"})
        assert bad.status_code in (400, 422) and "YYYY-MM-DD" in bad.text
        docs = {d["file_name"]: d for d in c.get("/v1/collections/editions/documents").json()["documents"]}
        assert docs[q.docs[0]]["date"] == "2010-01"


def test_http_upload_declared_as_a_new_edition(served, tmp_path):
    from fpdf import FPDF

    srv, w, paths, _ = served
    q = _changed(w)
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    for line in ["Ward handbook", "Version 3.0 - January 2026", "Review every patient after 2 weeks."]:
        pdf.cell(0, 10, line, new_x="LMARGIN", new_y="NEXT")
    path = tmp_path / "handbook-2026.pdf"
    pdf.output(str(path))
    with srv.client() as c:
        r = c.post("/v1/collections/editions/documents?wait=true",
                   files={"file": (path.name, path.read_bytes(), "application/pdf")},
                   data={"tags": f"supersedes={paths[q.docs[1]]}"})
        assert r.status_code == 200 and r.json()["status"] == "indexed", r.text
        docs = {d["file_name"]: d for d in c.get("/v1/collections/editions/documents").json()["documents"]}
    assert docs[q.docs[1]]["superseded_by"].endswith(path.name)
    assert docs[q.docs[1]]["superseded_by_date"] == "2026-01"


# -- the web page -----------------------------------------------------------------------------------

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium executable: install Debian's package (apt-get install chromium)")
def test_web_page_shows_superseded_and_disagreeing_sources(served):
    srv, w, _, _ = served
    changed = _changed(w)
    disagree = next(q for q in w.questions if q.expect == "disagree")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1100, "height": 800})
        page.goto(srv.url + "/")
        page.wait_for_selector("#documents li.document")
        superseded = page.locator("#documents .state.superseded")
        assert superseded.count() >= 1 and "SUPERSEDED by" in superseded.first.inner_text()
        assert page.locator("#supersedes option").count() > 1  # the upload form offers "new edition of ..."
        page.check("input[name=mode][value=evidence]")
        for q, head in ((changed, "Changed between editions:"), (disagree, "Sources disagree:")):
            page.fill("#question", q.text)
            page.click("#ask-button")
            page.wait_for_selector("#result[data-done=true]", timeout=60_000)
            notice = page.locator("#lead-notices li.currency", has_text=head)
            assert notice.count() >= 1, (q.text, page.inner_text("#result"))
            assert notice.first.is_visible()
        browser.close()
