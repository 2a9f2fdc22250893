"""Managers are told before the due date which waiting requests no slot serves in time, and what need the
published slots lack (a language no counter speaks: an interpreter to book), once a day."""

import datetime

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from guichet.allocation.late_risk import ALERT_DAYS, alert_managers, at_risk
from tests.appointments import builders
from tests.backoffice.helpers import staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def now():
    return timezone.now().replace(microsecond=0)


def test_a_request_no_slot_serves_by_its_due_date_is_reported_with_its_need(world, now):
    c1 = world.counters[0]
    today = now.astimezone(world.prefecture.tzinfo).date()
    # The only slot is three weeks out; the Somali speaker is due in ten days.
    builders.slot(c1, builders.at_local(c1, builders.weekday_after(today, 21), 9))
    somali = builders.request(world, due_in_days=10, interpreter_language="so")
    builders.request(world, due_in_days=ALERT_DAYS + 30)  # due later: not at risk yet
    found = at_risk(world.prefecture, now)
    assert [item.request_id for item in found] == [somali.pk]
    assert found[0].interpreter == "so" and found[0].offered_on is not None
    assert found[0].offered_on > found[0].due_date


def test_a_request_served_in_time_is_not_reported(world, now):
    c1 = world.counters[0]
    today = now.astimezone(world.prefecture.tzinfo).date()
    builders.slot(c1, builders.at_local(c1, builders.weekday_after(today, 4), 9))
    builders.request(world, due_in_days=10, interpreter_language="so")
    assert at_risk(world.prefecture, now) == []


def test_managers_get_one_email_a_day_naming_the_request_and_the_interpreter(world, now):
    staff(world.prefecture, "manager", username="mona")
    staff(world.prefecture, "agent", username="alex")
    raincy = world.sites[1]  # no step-free access: a request stored before the form refused this
    late = builders.request(
        world, due_in_days=5, interpreter_language="ti", needs_step_free=True, sites=(raincy,)
    )
    found = alert_managers(world.prefecture, now)
    assert [item.request_id for item in found] == [late.pk]
    assert found[0].step_free_missing and found[0].interpreter == "ti"
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["mona@example.org"]
    body = mail.outbox[0].body
    assert late.reference in body and "ti" in body
    call_command("alert_late_risk")
    assert len(mail.outbox) == 1  # once a day
    tomorrow = now + datetime.timedelta(days=1)
    alert_managers(world.prefecture, tomorrow)
    assert len(mail.outbox) == 2
