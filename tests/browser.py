"""Headless Chromium for page tests: Debian's `chromium` driven by Playwright, no browser
download. `page` records console errors and every request that left the machine."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import Page, Request, sync_playwright

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps trying hosts this closed network refuses.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:", "http://127.0.0.1", "http://localhost")


@dataclass
class BrowserPage:
    page: Page
    console_errors: list[str] = field(default_factory=list)
    outside_requests: list[str] = field(default_factory=list)


def _outside(request: Request, seen: list[str]) -> None:
    if not request.url.startswith(LOCAL_SCHEMES):
        seen.append(request.url)


@pytest.fixture
def browser_page() -> Iterator[BrowserPage]:
    if shutil.which("chromium") is None:
        pytest.fail("page tests need Debian's chromium: run bash scripts/system_packages.sh")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        recorded = BrowserPage(page)
        page.on("console", lambda m: m.type == "error" and recorded.console_errors.append(m.text))
        page.on("pageerror", lambda e: recorded.console_errors.append(str(e)))
        page.on("request", lambda r: _outside(r, recorded.outside_requests))
        try:
            yield recorded
        finally:
            browser.close()
