"""Screenshots of the evidence pages (/verify, a proof, a request's proofs) and the court-order pages, at
360 px, in French and Arabic, in both skins, to look at.

Not a check (a person looks at them): run with SCREENSHOTS=1; they go to test-artifacts/screenshots/.
The check that these pages are styled is tests/public/test_skin_layout.py.
"""

import os

import pytest

from guichet.evidence.models import Proof
from tests.backoffice.helpers import staff
from tests.backoffice.test_catalogue_browser import log_in
from tests.browser import ARTIFACTS
from tests.evidence.pages import court_order_pages, evidence_pages

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(os.environ.get("SCREENSHOTS") != "1", reason="screenshots only with SCREENSHOTS=1"),
]


@pytest.mark.parametrize("skin_name", ["neutral", "dsfr"])
def test_screenshots(live_server, world, open_page, settings, skin_name):
    settings.GUICHET_SKIN = skin_name
    settings.SITE_URL = live_server.url
    manager = staff(world.prefecture, "manager", username="manager-93")
    public, token = evidence_pages(world)
    staff_pages = court_order_pages(world)
    desk = open_page(width=1280, height=900)
    log_in(desk, live_server.url, manager)  # once: a second factor's code is refused when used again
    for language in ("fr", "ar"):
        folder = ARTIFACTS / "screenshots" / skin_name / language
        folder.mkdir(parents=True, exist_ok=True)
        page = open_page()
        for name, path in public(language):
            page.goto(live_server.url + path)
            if name == "verify":
                page.fill("textarea[name=t]", token)
                page.screenshot(path=str(folder / "verify-form.png"), full_page=True)
                page.locator("form[action$='/verify/'] button[type=submit]").click()
                page.wait_for_load_state()
            page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
        for name, path in staff_pages(language):
            desk.goto(live_server.url + path)
            desk.screenshot(path=str(folder / f"{name}.png"), full_page=True)
    assert Proof.objects.exists()
