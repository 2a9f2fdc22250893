"""Browser tests: Playwright drives Debian's Chromium against pytest-django's live server.

The fixtures are registered once, by tests/conftest.py, for every package: a second registration (a test
module importing them) would start a second Playwright in the same thread, which Playwright refuses.

Never `playwright install`: the system Chromium is used. Without it these tests are skipped with the reason,
unless REQUIRE_BROWSER=1 (CI), where a missing browser is a failure.
"""

import os
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# The width of a small phone: every page is tested and screenshotted at it.
PHONE = {"width": 360, "height": 780}
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"

# Playwright's sync API runs an event loop in the test thread; Django then refuses database calls from it
# unless told that this thread is not serving async code (it is not: the live server runs in its own).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def skip_without_chromium(items) -> None:
    """Called by tests/conftest.py's collection hook. With REQUIRE_BROWSER=1 nothing is skipped: the
    `chromium` fixture fails instead."""
    if CHROMIUM.exists() or os.environ.get("REQUIRE_BROWSER") == "1":
        return
    reason = f"no Chromium at {CHROMIUM} (apt-get install chromium, or set CHROMIUM=/path/to/chromium)"
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def chromium():
    if not CHROMIUM.exists():
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but no Chromium at {CHROMIUM}")
        pytest.skip(f"no Chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def open_page(chromium):
    """open_page(javascript=True) → a new page at phone width, in its own context (cookies apart)."""
    contexts = []

    def make(javascript: bool = True, width: int = PHONE["width"], height: int = PHONE["height"]):
        # The page's language comes from its address, not from the browser's locale.
        context = chromium.new_context(
            java_script_enabled=javascript,
            viewport={"width": width, "height": height},
            timezone_id="Europe/Paris",
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
