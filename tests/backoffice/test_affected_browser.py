"""In a browser: a manager adds a closure over a day with booked appointments, sees the people affected in the
preview with links to their requests, saves it, lands on the page of affected appointments and moves them all;
the old convocation's check page and /verify then say it was replaced, in French and Arabic. axe finds
nothing on these pages; screenshots are kept to be looked at."""

import re

import pytest
from django.utils import timezone

from guichet.appointments.models import AppointmentStatus
from guichet.evidence.models import Proof
from tests.appointments import builders
from tests.backoffice.helpers import staff
from tests.backoffice.test_catalogue_browser import axe, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_manager_moves_the_appointments_a_closure_affects(live_server, open_page, settings, world):
    settings.SITE_URL = live_server.url
    base = live_server.url
    now = timezone.now().replace(microsecond=0)
    day = builders.generated_week_ahead(world, now)
    people = [builders.booked(world, day, now, hour=hour) for hour in (9, 10)]
    token = Proof.objects.get(request=people[0].request, event="appointment_confirmed").token
    manager = staff(world.prefecture, "manager", username="manager-93")
    problems: list[str] = []

    page = open_page(width=1280, height=900)
    log_in(page, base, manager)
    page.goto(f"{base}/fr/staff/93/catalogue/closure/new/")
    page.select_option("#id_site", str(world.sites[0].pk))
    page.fill("#id_start_date", day.isoformat())
    page.fill("#id_end_date", day.isoformat())
    page.fill("#id_reason", "Formation des agents")
    page.click("button[name=preview]")
    table = page.locator("table.bo-affected")
    assert "2 personnes concernées" in page.inner_text("main")
    for person in people:
        assert table.get_by_role("link", name=person.request.reference).count() == 1
    problems += axe(page, "closure preview with people affected")
    page.click("button[name=save]")
    page.wait_for_url(re.compile(r"/staff/93/affected/$"))
    assert "Rendez-vous touchés par le catalogue" in page.inner_text("h1")
    problems += axe(page, "affected appointments")
    page.goto(f"{base}/en/staff/93/affected/")
    problems += axe(page, "affected appointments en")
    page.fill("#id_reason", "Site closed for training that day")
    page.click("button[name=settle_all]")
    page.wait_for_load_state()
    assert "No appointment or offer is on a slot the catalogue no longer opens." in page.inner_text("main")
    assert page.locator("[role=status] li").count() == 2
    problems += axe(page, "affected appointments moved")
    for person in people:
        person.refresh_from_db()
        assert person.status == AppointmentStatus.CANCELLED and person.replaced_by is not None

    for language in ("fr", "ar"):
        public = open_page(width=1280, height=900)
        public.goto(f"{base}/{language}/convocation/{people[0].request.reference}/{people[0].pk}/")
        assert public.locator("#result-title").count() == 1
        problems += axe(public, f"replaced convocation {language}")
        public.goto(f"{base}/{language}/verify/?t={token}")
        assert public.locator("h2.verify-invalid").count() == 1
        problems += axe(public, f"verify replaced proof {language}")
    assert not problems, problems
