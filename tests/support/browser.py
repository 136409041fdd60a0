"""Headless Chromium for the web-page tests: Debian's package driven by Playwright (no browser
download). Importing this module skips the calling test module with the reason when fastapi,
playwright or chromium is missing; `browser` is a module-scoped pytest fixture; `local_only(page)` blocks and records what would leave
this machine."""

from __future__ import annotations

import shutil
from urllib.parse import urlsplit

import pytest

pytest.importorskip("fastapi", reason="the server extra is not installed (pip install 'ragmed[server]')")
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None:
    pytest.skip("no chromium executable: install Debian's package (apt-get install chromium); "
                "`make test` does this when it runs as root", allow_module_level=True)

# as the machine notes say: without the background-networking flags Chromium keeps trying the network
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


def local_only(pg):
    """Block every request of `pg` that would leave this machine and record its URL in `pg.external`
    (a test asserts it stays empty); returns `pg`."""
    pg.external = []

    def guard(route):
        if urlsplit(route.request.url).hostname not in ("127.0.0.1", "localhost"):
            pg.external.append(route.request.url)
            return route.abort()
        return route.continue_()

    pg.route("**/*", guard)
    return pg
