"""The day of the appointment in a browser, with the keyboard: the agent checks a person in from the text
a scanner types from the convocation's QR code, calls them (the waiting-room screen shows the ticket, by
server-sent events with JavaScript and by meta refresh without), records the file as complete; the person
opens their page, downloads the signed récépissé, and /verify and openssl accept it. axe finds nothing on
the pages met, in French and, for the public screen, in Arabic.
"""

import datetime
import re
import shutil
import subprocess

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.test import Client
from django.utils import timezone

from guichet.appointments.services import accept_offer
from guichet.evidence.audit import APPLICANT
from guichet.evidence.pdf import verify_url
from guichet.notifications.links import convocation_verify_url
from guichet.reception import display
from guichet.reception.models import InterimDocument
from guichet.waitlist.references import new_reference
from tests import browser
from tests.appointments import builders
from tests.backoffice.helpers import staff, verified_login
from tests.evidence.test_openssl import openssl_has_ed25519_rawin, run_doc_commands
from tests.public.browser.test_axe import AXE_OPTIONS, _describe

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = browser.ARTIFACTS / "screenshots" / "reception"


def _axe(page, label: str) -> list[str]:
    """axe's violations on the page, after keeping a screenshot of it for people to look at."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(
        path=str(SHOTS / (re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-") + ".png")), full_page=True
    )
    page.evaluate(Axe().axe_script)
    violations = page.evaluate("(options) => axe.run(document, options).then(r => r.violations)", AXE_OPTIONS)
    return _describe(label, violations)


def _press_button(page, text: str) -> None:
    """Tab to the button whose text is `text`, then Enter (the keyboard only)."""
    for _ in range(200):
        page.keyboard.press("Tab")
        if page.evaluate("() => (document.activeElement.textContent || '').trim()") == text:
            with page.expect_navigation():
                page.keyboard.press("Enter")
            return
    raise AssertionError(f"could not reach the button {text!r} with the keyboard")


@pytest.fixture
def appointment(world, settings):
    settings.SITE_URL = "http://testserver.invalid"  # replaced by the live server's address below
    now = timezone.now()
    c1 = world.counters[0]
    req = builders.request(world, "first", due_in_days=3)
    req.reference, req.family_names, req.given_names = new_reference("93"), "Haddad", "Yasmina"
    req.save(update_fields=["reference", "family_names", "given_names"])
    slot = builders.slot(c1, (now + datetime.timedelta(minutes=10)).replace(microsecond=0))
    offer = builders.offer(req, slot, now=now - datetime.timedelta(days=1))
    made = accept_offer(offer, APPLICANT, now=now - datetime.timedelta(days=1))
    made.token = req.token
    return made


def _agent_context(chromium, live_server, world):
    client = Client()
    verified_login(client, staff(world.prefecture, "agent", username="guichet-agent"))
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    return context


def test_check_in_call_register_and_the_recepisse_verifies(
    monkeypatch,
    live_server,
    world,
    appointment,
    chromium,
    open_page,
    settings,
    tmp_path,
):
    settings.SITE_URL = live_server.url
    # Event streams end after a few seconds here, so that none outlives the test's database.
    monkeypatch.setattr(display, "STREAM_SECONDS", 3)
    site, counter = appointment.counter.site, appointment.counter
    problems: list[str] = []
    context = _agent_context(chromium, live_server, world)
    agent = context.new_page()

    # The waiting room's screen, with JavaScript: it waits for the event stream.
    screen = open_page(javascript=True, width=1280, height=720)
    screen.goto(f"{live_server.url}/fr/display/{site.pk}/")
    assert "Personne n'a encore été appelé" in screen.inner_text("#called")
    problems += _axe(screen, "display [fr]")

    # Reception: the scanner types the QR code's text into the focused field, then Enter.
    agent.goto(f"{live_server.url}/fr/staff/93/reception/sites/{site.pk}/")
    problems += _axe(agent, "desk [fr]")
    assert agent.evaluate("() => document.activeElement.name") == "scan"
    with agent.expect_navigation():
        agent.keyboard.type(convocation_verify_url(appointment))
        agent.keyboard.press("Enter")
    assert "Haddad" in agent.inner_text("main")
    problems += _axe(agent, "identity [fr]")
    _press_button(agent, "Identité vérifiée : enregistrer l'arrivée")
    assert "001" in agent.inner_text(".rc-ticket")
    problems += _axe(agent, "ticket [fr]")

    # The counter calls the next person; the screen shows the ticket and the counter, never the name.
    agent.goto(f"{live_server.url}/fr/staff/93/counters/{counter.pk}/")
    _press_button(agent, "Appeler le suivant")
    assert "001" in agent.inner_text("#current-heading + p")
    problems += _axe(agent, "counter [fr]")
    screen.wait_for_function(
        "() => document.querySelector('#called').innerText.includes('001')", timeout=30_000
    )
    called = screen.inner_text("#called")
    assert counter.name in called and "Haddad" not in called
    screen.close()
    without_js = open_page(javascript=False, width=1280, height=720)
    without_js.goto(f"{live_server.url}/ar/display/{site.pk}/")
    assert "001" in without_js.inner_text("#called")
    assert without_js.locator("noscript").count() == 1  # <meta http-equiv="refresh"> inside it
    without_js.close()
    arabic = open_page(javascript=True, width=1280, height=720)
    arabic.goto(f"{live_server.url}/ar/display/{site.pk}/")
    assert arabic.locator("html").get_attribute("dir") == "rtl" and "001" in arabic.inner_text("#called")
    problems += _axe(arabic, "display [ar]")
    arabic.close()

    _press_button(agent, "Dossier complet : l'enregistrer")
    assert "Dossier enregistré complet" in agent.inner_text(".bo-messages")
    context.close()

    # The person, on their own page, downloads the signed récépissé.
    person = open_page(javascript=True)
    person.goto(f"{live_server.url}/fr/r/{appointment.request.reference}/{appointment.token}/")
    link = person.get_by_role("link", name="Télécharger le document signé (PDF)")
    response = person.request.get(live_server.url + link.get_attribute("href"))
    assert response.ok and response.headers["content-type"] == "application/pdf"
    pdf = tmp_path / "recepisse.pdf"
    pdf.write_bytes(response.body())
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / "recepisse.pdf").write_bytes(response.body())
    document = InterimDocument.objects.get(request=appointment.request)
    token = document.proof.token
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
        assert "Récépissé de demande de titre de séjour" in text
        # The token is printed whole, to paste anywhere (pdftotext drops a hyphen where a line breaks).
        assert token.replace("-", "") in re.sub(r"[\s-]+", "", text)

    # /verify accepts it, opened as the QR code printed on it opens it. (Pasting the token into the form
    # is refused by the CSRF check while the page sends no referrer: issue 17's "verify CSRF".)
    person.goto(verify_url(token, "fr"))
    assert "Valide" in person.inner_text("#result-title")

    # And openssl alone, by the commands docs/proofs.md gives.
    if openssl_has_ed25519_rawin():
        (jwk,) = person.request.get(f"{live_server.url}/.well-known/jwks.json").json()["keys"]
        result = run_doc_commands(tmp_path, token, jwk["x"])
        assert "Signature Verified Successfully" in result.stdout, result.stderr
    assert not problems, "\n".join(problems)
