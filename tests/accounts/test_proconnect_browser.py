"""In a browser: the login page offers ProConnect when the deployment is configured for it, in French under
any prefix; axe finds nothing."""

import pytest

from tests.backoffice.test_catalogue_browser import axe

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_login_page_offers_proconnect(live_server, open_page, settings):
    settings.PROCONNECT_ENABLED = True
    problems: list[str] = []
    page = open_page(width=1280, height=900)
    for prefix in ("fr", "ar"):
        page.goto(f"{live_server.url}/{prefix}/staff/login/")
        assert page.get_attribute("html", "dir") == "ltr"
        assert "S’identifier avec ProConnect" in page.inner_text("main")
        problems += axe(page, f"login proconnect {prefix}")
    assert not problems, "\n".join(problems)
