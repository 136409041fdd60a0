"""The web page in a real headless Chromium (Debian's package, driven by Playwright; no browser
download) against a real `ragmed serve` on 127.0.0.1."""

from __future__ import annotations

import hashlib
import io
import json
import re
from pathlib import Path

import pytest

from support.serverutil import SAMPLE_DIR, ingest_demo, start_server

from support.browser import browser, local_only, sync_api  # noqa: F401 (skips this module without chromium; the fixture)

SAMPLE = SAMPLE_DIR / "demo-clinic-hypertension-protocol.pdf"
QUESTION = "How often are stable patients seen for follow-up?"
TOKEN = "web-test-token-0123456789abcdef"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    base = tmp_path_factory.mktemp("web")
    ingest_demo(base / "idx")
    srv = start_server(base / "idx", base / "server.log")
    yield srv
    srv.stop()


@pytest.fixture()
def page(browser, server):
    """A page that records every request that would leave this machine (and blocks it)."""
    context = browser.new_context(viewport={"width": 1100, "height": 800})
    pg = local_only(context.new_page())
    yield pg
    context.close()


def pdf_page_text(pdf_bytes: bytes, page: int) -> str:
    from pypdf import PdfReader

    return re.sub(r"\s+", " ", PdfReader(io.BytesIO(pdf_bytes)).pages[page - 1].extract_text())


@pytest.mark.slow
def test_ask_streams_an_answer_whose_citation_opens_the_right_page(page, server):
    page.goto(server.url + "/")
    page.wait_for_selector("#documents li.document")
    assert page.input_value("#collection") == "demo"
    page.fill("#question", QUESTION)
    with page.expect_response(lambda r: r.url.endswith("/v1/ask")) as resp_info:
        page.click("#ask-button")
    page.wait_for_selector("#result[data-done=true]", timeout=120_000)
    final = [b for b in resp_info.value.text().split("\n\n") if b.startswith("event: final")]
    answer = json.loads(final[0].split("data: ", 1)[1])
    cite = answer["citations"][0]

    links = page.locator(".answer a.cite")
    assert links.count() >= 1
    href = links.first.get_attribute("href")
    path, _, fragment = href.partition("#")
    if path == "/static/viewer.html":  # pdf.js is installed (make web): the viewer opens the file at the page
        from urllib.parse import parse_qs

        args = parse_qs(fragment)
        path, fragment = args["file"][0], f"page={args['page'][0]}"
    assert fragment == f"page={cite['page']}"
    # the link serves the cited file, and the cited page holds the quoted sentence
    pdf = page.request.get(server.url + path)
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    assert hashlib.sha256(pdf.body()).digest() == hashlib.sha256(Path(cite["source"]).read_bytes()).digest()
    assert cite["quote"][:60] in pdf_page_text(pdf.body(), cite["page"])
    assert page.locator("#support").inner_text().startswith("Checked: ")
    assert page.locator("#sources li").count() == len(answer["passages"])
    assert page.external == []


def test_abstention_is_explained_without_a_model(page, server):
    page.goto(server.url + "/")
    page.wait_for_selector("#documents li.document")
    page.fill("#question", "What is the recommended rabies vaccination schedule for dogs?")
    page.click("#ask-button")
    page.wait_for_selector("#result[data-done=true]", timeout=60_000)
    notice = page.locator("#abstained")
    assert notice.is_visible() and "do not seem to cover this question" in notice.inner_text()
    assert page.locator("#sources li").count() >= 1  # the nearest sources are still shown


def test_who_the_guidance_is_for_is_shown_above_the_evidence(page, server):
    """A child's dose on a protocol whose scope excludes children: the notice quoting the scope
    sentence stands above the first evidence sentence (in evidence mode, and when the answer is done)."""
    page.goto(server.url + "/")
    page.wait_for_selector("#documents li.document")
    page.check("input[name=mode][value=evidence]")
    page.fill("#question", "What is the amlodipine dose for children?")
    page.click("#ask-button")
    page.wait_for_selector("#result[data-done=true]", timeout=60_000)
    notice = page.locator("#lead-notices li", has_text="Your question is about children;")
    assert notice.count() == 1 and notice.first.is_visible(), page.inner_text("#result")
    assert "It does not cover pregnancy, children" in notice.first.inner_text()
    first = page.locator("#evidence li").first
    assert first.is_visible() and "amlodipine" in first.inner_text().lower()
    assert notice.first.bounding_box()["y"] < first.bounding_box()["y"]
    assert page.locator("#notices li", has_text="Your question is about").count() == 0  # not said twice


def test_conversation_thread_follow_up_new_list_delete(page, server):
    """A thread: a follow-up is searched with the earlier question (shown), the thread keeps both
    turns with their citations, a new thread starts empty, the old one is listed, reopened, deleted."""
    first = "How should the patient be prepared before blood pressure is measured?"
    follow = "And for home monitoring?"
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server.url + "/")
    page.wait_for_selector("#documents li.document")
    page.check("input[name=mode][value=evidence]")  # no model: the thread logic is what is tested
    for n, q in enumerate((first, follow), 1):
        page.fill("#question", q)
        page.click("#ask-button")
        page.locator("#thread-turns li.turn").nth(n - 1).wait_for(timeout=120_000)
    assert errors == []
    assert page.locator("#searched-for").inner_text().startswith("Searched for: " + first.rstrip("?"))
    turns = page.locator("#thread-turns li.turn")
    assert turns.count() == 2 and turns.nth(1).locator(".turn-q").inner_text() == follow
    cite = turns.nth(1).locator(".turn-cites a").first
    assert "#page=" in cite.get_attribute("href")
    thread_id = page.input_value("#thread-list")
    assert thread_id and page.locator(f"#thread-list option[value='{thread_id}']").inner_text().startswith(first)

    page.click("#new-thread")
    assert page.locator("#thread-turns li").count() == 0 and page.input_value("#thread-list") == ""
    page.select_option("#thread-list", thread_id)
    page.locator("#thread-turns li.turn").nth(1).wait_for()
    assert "Searched for: " + first.rstrip("?") in page.locator("#thread-turns").inner_text()
    page.click("#delete-thread")
    page.locator(f"#thread-list option[value='{thread_id}']").wait_for(state="detached")
    assert page.locator("#thread-turns li").count() == 0
    assert not (Path(server.index_dir) / "threads" / f"{thread_id}.json").exists()
    assert page.external == []


def test_upload_a_pdf_and_see_it_listed(page, server, tmp_path):
    from support import pdfgen

    pdf = tmp_path / "fever-protocol.pdf"
    pdfgen.make_guideline_pdf(pdf, title="Fever Management Guideline")
    page.goto(server.url + "/")
    page.wait_for_selector("#documents li.document")
    page.set_input_files("#file", str(pdf))
    page.click("#upload-form button[type=submit]")
    item = page.locator("#documents li.document", has_text="Fever Management Guideline")
    item.wait_for(timeout=120_000)
    assert "indexed" in item.inner_text()
    assert (server.index_dir / "uploads" / "demo" / pdf.name).read_bytes() == pdf.read_bytes()
    # a file that is not a PDF is refused with a message, and nothing is listed for it
    bad = tmp_path / "notes.pdf"
    bad.write_text("just text")
    page.set_input_files("#file", str(bad))
    page.click("#upload-form button[type=submit]")
    sync_api.expect(page.locator("#upload-status")).to_contain_text("Not added")  # (the page's CSP forbids eval)
    assert "not a PDF" in page.inner_text("#upload-status")
    assert page.external == []


def test_usable_on_a_small_screen(browser, server):
    context = browser.new_context(viewport={"width": 360, "height": 640})
    pg = context.new_page()
    pg.goto(server.url + "/")
    pg.wait_for_selector("#documents li.document")
    overflow = pg.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    for sel in ("#question", "#ask-button", "#file"):
        box = pg.locator(sel).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 360, sel
    context.close()


def test_token_sign_in(browser, tmp_path):
    ingest_demo(tmp_path / "idx")
    srv = start_server(tmp_path / "idx", tmp_path / "server.log", token=TOKEN)
    try:
        context = browser.new_context()
        pg = context.new_page()
        pg.goto(srv.url + "/")
        pg.wait_for_selector("#login", state="visible")
        assert pg.locator("#app").is_hidden()
        pg.fill("#token", "not-the-token")
        pg.click("#login-form button")
        sync_api.expect(pg.locator("#login-error")).to_contain_text("not right")
        pg.fill("#token", TOKEN)
        pg.click("#login-form button")
        pg.wait_for_selector("#documents li.document")
        assert pg.locator("#login").is_hidden()
        cookies = {c["name"]: c for c in context.cookies()}
        assert cookies["ragmed_session"]["httpOnly"] and cookies["ragmed_session"]["value"] != TOKEN
        context.close()
    finally:
        srv.stop()
