"""The page-test fixture itself: Debian's chromium starts headless, runs a page's script, and
the fixture records no console error and no request off the machine for a local page."""

from __future__ import annotations

from pathlib import Path

from browser import BrowserPage


def test_chromium_runs_a_local_page(browser_page: BrowserPage, tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text("<html><body><button id=b onclick=\"this.textContent='clicked'\">go</button>"
                    "</body></html>")
    browser_page.page.goto(page.as_uri())
    browser_page.page.click("#b")
    assert browser_page.page.text_content("#b") == "clicked"
    assert browser_page.console_errors == []
    assert browser_page.outside_requests == []


def test_console_errors_are_recorded(browser_page: BrowserPage, tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text("<html><body><script>undefinedFunction()</script></body></html>")
    browser_page.page.goto(page.as_uri())
    assert any("undefinedFunction" in e for e in browser_page.console_errors)
