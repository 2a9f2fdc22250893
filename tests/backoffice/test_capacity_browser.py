"""In a browser: a manager tries a what-if on the capacity page (a closure of every site and a new counter)
and sees the projected waits with it; axe finds nothing on the page."""

import datetime

import pytest

from guichet.capacity.services import generate_slots
from tests import factories
from tests.backoffice.helpers import staff
from tests.backoffice.test_catalogue_browser import axe, log_in
from tests.capacity.helpers import appointment_request

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_manager_tries_a_closure_and_a_new_counter(live_server, open_page, settings):
    settings.SITE_URL = live_server.url
    world = factories.world()
    generate_slots(world.prefecture)
    for _number in range(80):
        appointment_request(world.procedures["first"], status="waiting")
    manager = staff(world.prefecture, "manager", username="manager-93")
    page = open_page(width=1280, height=900)
    log_in(page, live_server.url, manager)
    page.goto(f"{live_server.url}/fr/staff/93/capacity/")
    today = datetime.date.today()
    monday = today - datetime.timedelta(days=today.weekday()) + datetime.timedelta(weeks=2)
    page.fill("#id_closed_from", monday.isoformat())
    page.fill("#id_closed_until", (monday + datetime.timedelta(days=4)).isoformat())
    page.fill("#id_counter_hours", "30")
    page.check(f"input[name=counter_procedures][value='{world.procedures['first'].pk}']")
    page.click("button:has-text('Projeter')")
    page.wait_for_selector("tr.bo-changed")
    assert "un nouveau guichet 30" in page.inner_text("main")
    problems = axe(page, "capacity what-if")
    assert not problems, "\n".join(problems)
