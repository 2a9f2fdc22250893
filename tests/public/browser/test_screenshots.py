"""Screenshots of every public page at 360 px, in French and Arabic, in both skins, to look at.

Not a check (a person looks at them): run with SCREENSHOTS=1; they go to test-artifacts/screenshots/.
"""

import os

import pytest

from tests.browser import ARTIFACTS
from tests.public.pages import public_pages

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(os.environ.get("SCREENSHOTS") != "1", reason="screenshots only with SCREENSHOTS=1"),
]


@pytest.mark.parametrize("skin_name", ["neutral", "dsfr"])
def test_screenshots(live_server, scenario, open_page, settings, skin_name):
    settings.GUICHET_SKIN = skin_name
    only = os.environ.get("SCREENSHOT_PAGES", "").split(",") if os.environ.get("SCREENSHOT_PAGES") else None
    for language in ("fr", "ar"):
        folder = ARTIFACTS / "screenshots" / skin_name / language
        folder.mkdir(parents=True, exist_ok=True)
        page = open_page()
        pages = public_pages(scenario, language)
        pages.append(("file-errors", pages[4][1]))
        for name, path in pages:
            if only and name not in only:
                continue
            page.goto(live_server.url + path)
            if name == "file-errors":
                page.locator("form[method=post] button[type=submit]").click()
                page.wait_for_load_state()
            page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
