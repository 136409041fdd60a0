"""The web page as clinic staff use it (issue 22), in a real headless Chromium against a real
`ragmed serve` (real Chroma, MiniLM, SmolLM2): Enter asks, the stages are shown in order with the
elapsed time, Stop stops the model, long pastes are counted and refused with a notice (never cut),
the demonstration-model banner, the cited page opened in the local pdf.js viewer with the quote
highlighted, roles (staff cannot remove; admin removes and restores) and axe-core's accessibility
check at 390 px and 1280 px. The browser setup is test_web.py's."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from support.serverutil import ROOT, cli, ingest_demo, start_server

from support.browser import browser, local_only, sync_api  # noqa: F401 (skips this module without chromium; the fixture)

WEB = ROOT / "web" / "node_modules"
AXE = WEB / "axe-core" / "axe.min.js"
ADMIN = "web-admin-token-0123456789abcdef"
STAFF = "web-staff-token-0123456789abcdef"
QUESTION = "How often are stable patients seen for follow-up?"
DOSE_QUESTION = "What dose of paracetamol is given to a child with fever?"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The sample protocol and a guideline whose printed page labels differ from its PDF pages."""
    from support import pdfgen

    base = tmp_path_factory.mktemp("web-staff")
    ingest_demo(base / "idx")
    docs = base / "guidelines"
    docs.mkdir()
    pdfgen.make_guideline_pdf(docs / "fever-guideline.pdf", title="Fever Management Guideline")
    done = cli("ingest", str(docs), "-c", "demo", "--index-dir", str(base / "idx"))
    assert done.returncode == 0, done.stderr
    srv = start_server(base / "idx", base / "server.log", "--log-file", str(base / "ops.log"), token=ADMIN,
                       env={"RAGMED_STAFF_TOKEN": STAFF})
    srv.ops = base / "ops.log"
    yield srv
    srv.stop()


def signed_in(browser, server, token, width=1100, **kw):
    context = browser.new_context(viewport={"width": width, "height": 900}, **kw)
    pg = local_only(context.new_page())
    pg.goto(server.url + "/")
    pg.wait_for_selector("#login", state="visible")
    pg.fill("#token", token)
    pg.click("#login-form button")
    pg.wait_for_selector("#documents li.document")
    return context, pg


def record_stages(pg):
    pg.evaluate("""() => { window.__stages = []; new MutationObserver(() => {
        const s = document.getElementById('status').dataset.stage;
        if (s && window.__stages[window.__stages.length - 1] !== s) window.__stages.push(s);
      }).observe(document.getElementById('status'), { attributes: true, childList: true, subtree: true }); }""")


@pytest.mark.slow
def test_enter_asks_and_the_stages_show_in_order_with_elapsed_time(browser, server):
    context, pg = signed_in(browser, server, STAFF)
    assert pg.locator("#demo-banner").is_visible() and "demonstration model" in pg.inner_text("#demo-banner")
    record_stages(pg)
    pg.fill("#question", QUESTION)
    pg.press("#question", "Shift+Enter")  # a new line, not a question
    assert pg.input_value("#question").endswith("\n") and pg.locator("#result").is_hidden()
    pg.press("#question", "Enter")
    sync_api.expect(pg.locator("#status")).to_contain_text(re.compile(r"\.\.\. \d+ s$"))
    pg.wait_for_selector("#result[data-done=true]", timeout=120_000)
    stages = pg.evaluate("window.__stages")
    order = ["sending", "searching", "loading", "reading", "thinking", "writing"]
    assert stages and stages[0] == "sending" and "searching" in stages, stages
    assert [order.index(s) for s in stages] == sorted(order.index(s) for s in stages), stages
    assert "loading" not in stages  # `ragmed serve` loaded the model at start: never shown as retrieval
    assert re.match(r"(Answered|Done) in \d+\.\d s", pg.inner_text("#status"))
    if pg.inner_text("#answer").strip() and pg.locator("#abstained").is_hidden():
        assert pg.locator("#copy-button").is_visible()
    assert pg.external == []
    context.close()


@pytest.mark.slow
def test_stop_cancels_the_answer(browser, server):
    context, pg = signed_in(browser, server, STAFF)
    pg.fill("#question", "Describe every step of the blood pressure follow-up in detail.")
    pg.click("#ask-button")
    pg.wait_for_selector("#stop-button", state="visible")
    pg.click("#stop-button")
    sync_api.expect(pg.locator("#status")).to_contain_text("Stopped")
    assert pg.locator("#stop-button").is_hidden() and pg.locator("#result[data-done=true]").count() == 0
    deadline = time.monotonic() + 90  # the server notices the closed stream and stops the model
    while time.monotonic() < deadline and "outcome=cancelled" not in server.ops.read_text():
        time.sleep(1)
    assert "outcome=cancelled" in server.ops.read_text()
    context.close()


def test_long_paste_is_counted_and_refused_not_cut(browser, server):
    context, pg = signed_in(browser, server, STAFF)
    pg.fill("#question", "x" * 4100)
    assert len(pg.input_value("#question")) == 4100  # nothing cut
    assert pg.inner_text("#count").startswith("4100 / 4000")
    assert pg.locator("#too-long").is_visible() and "100 characters too long" in pg.inner_text("#too-long")
    assert pg.locator("#ask-button").is_disabled()
    pg.fill("#question", "short")
    assert pg.locator("#too-long").is_hidden() and pg.locator("#ask-button").is_enabled()
    context.close()


@pytest.mark.skipif(not (WEB / "pdfjs-dist").is_dir(), reason="pdf.js is not installed (make web)")
def test_cited_page_opens_in_the_viewer_with_the_quote_highlighted(browser, server):
    context, pg = signed_in(browser, server, STAFF)
    pg.check("input[name=mode][value=evidence]")
    pg.fill("#question", DOSE_QUESTION)
    pg.press("#question", "Enter")
    pg.wait_for_selector("#result[data-done=true]", timeout=60_000)
    source = pg.locator("#sources li", has_text="Fever Management Guideline").first
    assert re.search(r"page \d+ \(PDF page \d+\)", source.inner_text())  # printed label and PDF page
    assert re.search(r"dated \d{4}-\d{2}-\d{2}", source.inner_text())
    for item in pg.locator("#sources li").all():  # a date for every source, cited or not
        assert "dated " in item.inner_text()
    cite = pg.locator("#evidence a.cite").first
    href = cite.get_attribute("href")
    assert href.startswith("/static/viewer.html#")
    args = dict(re.findall(r"([a-z]+)=([^&]*)", href.split("#", 1)[1]))
    with context.expect_page() as opened:
        cite.click()
    viewer = opened.value
    viewer.wait_for_selector("body[data-ready=true]", timeout=60_000)
    from urllib.parse import unquote_plus

    quote = unquote_plus(args["q"])
    marked = viewer.locator("#page").get_attribute("data-highlight")
    squash = lambda s: re.sub(r"\s+", "", s)  # noqa: E731
    assert marked and squash(marked) == squash(quote), (quote, marked)  # the highlighted text is the quote
    assert squash("".join(viewer.locator("mark.quote").all_inner_texts())) == squash(quote)
    page_no = int(args["page"])
    assert f"PDF page {page_no} of 5" in viewer.inner_text("#where") or f"Page {page_no} of 5" in viewer.inner_text("#where")
    assert pg.external == []
    context.close()


def test_staff_cannot_remove_admin_removes_and_restores(browser, server):
    context, staff = signed_in(browser, server, STAFF)
    assert staff.locator("#upload-form").is_hidden() or staff.locator("#upload-form").count() == 0
    assert staff.locator("#documents button", has_text="Remove").count() == 0
    context.close()
    context, admin = signed_in(browser, server, ADMIN)
    item = admin.locator("#documents li.document", has_text="Fever Management Guideline")
    admin.once("dialog", lambda d: d.accept())
    item.locator("button", has_text="Remove").click()
    trashed = admin.locator("#trash li", has_text="Fever Management Guideline")
    trashed.wait_for(timeout=60_000)
    assert "removed " in trashed.inner_text() and item.count() == 0
    assert "restore it" in admin.inner_text("#upload-status")
    trashed.locator("button", has_text="Restore").click()
    item.wait_for(timeout=120_000)
    sync_api.expect(admin.locator("#upload-status")).to_contain_text("restored and indexed")
    sync_api.expect(admin.locator("#trash-box")).to_be_hidden()  # the trash list reloads after the restore
    # an error is styled as an error
    bad = Path(server.index_dir).parent / "notes.pdf"
    bad.write_text("just text")
    admin.set_input_files("#file", str(bad))
    admin.click("#upload-form button[type=submit]")
    sync_api.expect(admin.locator("#upload-status")).to_contain_text("Not added")
    assert "error" in admin.get_attribute("#upload-status", "class")
    context.close()


@pytest.mark.skipif(not AXE.is_file(), reason="axe-core is not installed (make web)")
@pytest.mark.parametrize("width", [390, 1280])
def test_no_serious_accessibility_violations(browser, server, width):
    context, pg = signed_in(browser, server, ADMIN, width=width, bypass_csp=True)
    pg.check("input[name=mode][value=evidence]")
    pg.fill("#question", DOSE_QUESTION)
    pg.press("#question", "Enter")
    pg.wait_for_selector("#result[data-done=true]", timeout=60_000)
    assert pg.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    small = pg.evaluate("""() => [...document.querySelectorAll('button, a.cite, #sources a, select, input')]
        .filter((e) => e.offsetParent && !e.closest('.visually-hidden'))
        .map((e) => e.closest('label') || e)  // a radio button's target is its whole label
        .map((e) => [e.id || e.textContent.trim().slice(0, 20), e.getBoundingClientRect().height, e.getBoundingClientRect().width])
        .filter(([, h, w]) => h < 44 || w < 24)""")
    assert not small, small  # touch targets at least 44 px high
    pg.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    result = pg.evaluate("async () => (await axe.run(document, { resultTypes: ['violations'] })).violations"
                         ".map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length }))")
    serious = [v for v in result if v["impact"] in ("serious", "critical")]
    assert not serious, serious
    context.close()
