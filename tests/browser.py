"""Headless Chromium for the report's browser tests: Debian's ``chromium`` (installed by
.ci/run), driven by Playwright's Python package with the system binary (nothing downloaded).
Tests skip, saying why, only when there is no chromium."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"  # ignored by git; CI keeps what is there
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.skip("no chromium on PATH (apt-get install chromium; .ci/run installs it)")
    return path


@contextmanager
def launched() -> Iterator[object]:
    """A browser on a fresh profile (Playwright makes a new --user-data-dir for each launch),
    with no network to reach: the report must need none."""
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=FLAGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def open_page(browser, url: str, requests: list[str], errors: list[str]):
    """A page at ``url`` recording every request beyond file:// and every script error."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.on("request", lambda r: None if r.url.startswith(("file://", "data:")) else requests.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return page
