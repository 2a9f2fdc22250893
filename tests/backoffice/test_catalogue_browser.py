"""In a browser: a manager logs in with password and second factor, changes an opening rule and adds a
closure in the catalogue editor, seeing the slots made and removed and the projected wait before saving;
an invited agent chooses a password, enrols the second factor and is in; the figures page draws its charts
in French and Arabic with the CSV to download. axe finds nothing on the pages met."""

import datetime
import re

import pyotp
import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core import mail
from django.utils import timezone

from guichet.capacity.services import generate_slots
from guichet.catalog.models import Closure, OpeningRule
from tests import browser, factories
from tests.backoffice.helpers import PASSWORD, code_for, staff
from tests.capacity.helpers import appointment_request
from tests.public.browser.test_axe import AXE_OPTIONS, _describe

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "a different horse battery"  # noqa: S105


SHOTS = browser.ARTIFACTS / "screenshots" / "catalogue"


def axe(page, label: str) -> list[str]:
    """axe's violations on the page, after keeping a screenshot of it for people to look at."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(
        path=str(SHOTS / (re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-") + ".png")), full_page=True
    )
    page.evaluate(Axe().axe_script)
    return _describe(label, page.evaluate("(o) => axe.run(document, o).then(r => r.violations)", AXE_OPTIONS))


def log_in(page, base: str, user) -> None:
    page.goto(f"{base}/fr/staff/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.fill("#id_code", code_for(user))
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/fr/staff/$"))


def test_manager_edits_the_catalogue_an_agent_is_invited_and_the_figures_are_drawn(
    live_server, open_page, settings
):
    settings.SITE_URL = live_server.url
    base = live_server.url
    world = factories.world()
    generate_slots(world.prefecture)
    for _number in range(60):
        appointment_request(world.procedures["first"], status="waiting")
    manager = staff(world.prefecture, "manager", username="manager-93")
    admin = staff(world.prefecture, "prefecture_admin", username="admin-93")
    problems: list[str] = []

    page = open_page(width=1280, height=900)
    log_in(page, base, manager)
    page.goto(f"{base}/fr/staff/93/catalogue/")
    problems += axe(page, "catalogue")
    rule = OpeningRule.objects.filter(counter=world.counters[0], weekday=0).get()
    page.goto(f"{base}/fr/staff/93/catalogue/rule/{rule.pk}/")
    page.fill("#id_end_time", "13:00")
    page.click("button[name=preview]")
    assert "créneaux créés" in page.inner_text("main")
    assert "Attente projetée sur les 12 prochaines semaines" in page.inner_text("main")
    problems += axe(page, "rule preview")
    page.click("button[name=save]")
    page.wait_for_url(re.compile(r"/catalogue/$"))
    rule.refresh_from_db()
    assert rule.end_time.hour == 13

    today = timezone.localdate()
    page.goto(f"{base}/fr/staff/93/catalogue/closure/new/")
    page.select_option("#id_site", str(world.sites[0].pk))
    page.fill("#id_start_date", today.isoformat())
    page.fill("#id_end_date", (today + datetime.timedelta(days=14)).isoformat())
    page.fill("#id_reason", "Travaux")
    page.click("button[name=preview]")
    text = page.inner_text("main")
    assert "créneaux libres supprimés" in text and "Avant" in text and "Après" in text
    problems += axe(page, "closure preview")
    page.click("button[name=save]")
    page.wait_for_url(re.compile(r"/catalogue/$"))
    assert Closure.objects.filter(site=world.sites[0], reason="Travaux").exists()
    page.goto(f"{base}/fr/staff/93/capacity/")
    problems += axe(page, "capacity")

    admin_page = open_page(width=1280, height=900)
    log_in(admin_page, base, admin)
    admin_page.goto(f"{base}/fr/staff/93/members/")
    admin_page.fill("#id_invite-username", "nadia")
    admin_page.fill("#id_invite-email", "nadia@example.org")
    admin_page.select_option("#id_invite-role", "agent")
    admin_page.click("text=Envoyer l’invitation")
    problems += axe(admin_page, "members")
    link = re.search(r"https?://\S+", mail.outbox[-1].body).group(0)

    agent = open_page(width=1280, height=900)
    agent.goto(link)
    problems += axe(agent, "set password")
    agent.fill("#id_password", NEW_PASSWORD)
    agent.fill("#id_confirmation", NEW_PASSWORD)
    agent.click("button[type=submit]")
    agent.wait_for_url(re.compile(r"/staff/login/setup/$"))
    secret = agent.inner_text("code.bo-secret")
    agent.fill("#id_code", pyotp.TOTP(secret).now())
    agent.click("button[type=submit]")
    agent.click("text=Je les ai gardés : continuer")
    agent.wait_for_url(re.compile(r"/fr/staff/$"))

    for language in ("fr", "ar"):
        public = open_page(width=1280, height=900)
        public.goto(f"{base}/{language}/figures/93/")
        assert public.locator("svg.chart").count() == 4
        csv = public.request.get(f"{base}/{language}/figures/93/weekly.csv")
        assert csv.ok and csv.text().startswith("week,received")
        problems += axe(public, f"figures {language}")
    assert not problems, problems
