"""Pasting a real proof on /verify/ in a browser: the answer is "valid", never a 403.

The page sends "Referrer-Policy: no-referrer" (it shows a person's proof), so Chromium posts its form with
"Origin: null"; CSRF protection refused every pasted proof until the check was made exempt from it.
"""

import pytest

from guichet.evidence.models import Proof
from tests.evidence.helpers import make_request

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_paste_a_real_proof_and_read_that_it_is_valid(live_server, world, open_page, language):
    request, _ = make_request(world, family_names="El Idrissi", given_names="Youssef")
    token = Proof.objects.get(request=request).token
    page = open_page(javascript=False)
    page.goto(f"{live_server.url}/{language}/verify/")
    assert page.evaluate("() => document.referrer") == ""
    page.fill("textarea[name=t]", token)
    with page.expect_navigation() as navigation:
        page.keyboard.press("Tab")
        page.locator("form[action$='/verify/'] button[type=submit]").press("Enter")
    assert navigation.value.status == 200
    result = page.locator(".verify-result")
    assert result.locator(".verify-valid").count() == 1
    assert "El Idrissi" in result.inner_text()
