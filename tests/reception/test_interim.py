"""Interim documents: récépissé by procedure, attestations of extended examination, the L.433-3 statement,
their expiry list and the reminder."""

import datetime

import pytest
from django.core.management import call_command

from guichet.errors import Conflict, InvalidInput
from guichet.notifications.models import OutboxMessage
from guichet.reception import decisions, interim, outcomes, services
from guichet.reception.models import InterimDocument, InterimKind, InterimRule
from tests.reception.conftest import AGENT, book

pytestmark = pytest.mark.django_db


def _registered(world, day, procedure="first", hour=9, **fields):
    appointment = book(world, day, hour=hour, procedure=procedure, **fields)
    services.check_in(appointment, AGENT, now=appointment.starts_at)
    outcomes.register_file(appointment, AGENT, now=appointment.starts_at)
    return appointment


def test_add_months_counts_inclusive_days():
    assert interim.add_months(datetime.date(2026, 3, 10), 3) == datetime.date(2026, 6, 9)
    assert interim.add_months(datetime.date(2026, 11, 30), 3) == datetime.date(2027, 2, 27)
    assert interim.add_months(datetime.date(2026, 1, 31), 1) == datetime.date(2026, 2, 27)


def test_the_procedures_rule_sets_duration_and_rights(world, day):
    InterimRule.objects.create(
        procedure=world.procedures["first"], recepisse_months=6, work_allowed=True, travel_allowed=False
    )
    appointment = _registered(world, day)
    document = InterimDocument.objects.get(request=appointment.request)
    assert document.valid_from == day
    assert document.valid_until == interim.add_months(day, 6)
    assert (document.work_allowed, document.travel_allowed) == (True, False)


def test_a_procedure_without_recepisse_gives_none(world, day):
    InterimRule.objects.create(procedure=world.procedures["first"], recepisse_months=0)
    appointment = _registered(world, day)
    assert not InterimDocument.objects.filter(request=appointment.request).exists()


def test_a_renewals_recepisse_starts_the_day_after_the_permit_expires(world, day):
    expiry = day + datetime.timedelta(days=20)
    appointment = _registered(world, day, procedure="renewal", permit_expires_on=expiry)
    document = InterimDocument.objects.get(request=appointment.request, kind=InterimKind.RECEPISSE)
    assert document.valid_from == expiry + datetime.timedelta(days=1)
    assert document.work_allowed  # a renewal keeps the rights of the card


def test_attestations_follow_each_other_up_to_three_months(world, day):
    appointment = _registered(world, day)
    request = appointment.request
    now = appointment.starts_at
    recepisse = InterimDocument.objects.get(request=request)
    with pytest.raises(InvalidInput):
        interim.issue_prolongation(request, AGENT, months=4, now=now)
    first = interim.issue_prolongation(request, AGENT, months=3, now=now)
    assert first.valid_from == recepisse.valid_until + datetime.timedelta(days=1)
    assert first.number == 1 and first.proof.event == "prolongation"
    second = interim.issue_prolongation(request, AGENT, months=2, now=now)
    assert second.number == 2 and second.valid_from == first.valid_until + datetime.timedelta(days=1)
    decisions.record_decision(request, "granted", AGENT, now=now)
    with pytest.raises(Conflict) as error:
        interim.issue_prolongation(request, AGENT, now=now)
    assert error.value.code == "decided"


def test_no_attestation_without_a_complete_file(world, day):
    appointment = book(world, day)
    with pytest.raises(Conflict) as error:
        interim.issue_prolongation(appointment.request, AGENT, now=appointment.starts_at)
    assert error.value.code == "file_not_complete"


def test_grace_statement_of_an_expired_renewal(world, day):
    expiry = day - datetime.timedelta(days=10)
    appointment = _registered(world, day, procedure="renewal", permit_expires_on=expiry)
    statement = interim.issue_grace_statement(appointment.request, AGENT, now=appointment.starts_at)
    assert statement.valid_from == expiry + datetime.timedelta(days=1)
    assert statement.valid_until == interim.add_months(expiry + datetime.timedelta(days=1), 3)
    assert statement.work_allowed
    with pytest.raises(Conflict):
        interim.issue_grace_statement(appointment.request, AGENT, now=appointment.starts_at)
    first = _registered(world, day, procedure="first", hour=10)
    with pytest.raises(Conflict) as error:
        interim.issue_grace_statement(first.request, AGENT, now=first.starts_at)
    assert error.value.code == "not_a_renewal"


def test_expiring_list_and_reminder(world, day):
    appointment = _registered(world, day)
    document = InterimDocument.objects.get(request=appointment.request)
    before = document.valid_until - datetime.timedelta(days=30)
    assert interim.expiring(world.prefecture, today=before) == []
    near = document.valid_until - datetime.timedelta(days=5)
    assert interim.expiring(world.prefecture, today=near) == [document]
    at = datetime.datetime.combine(near, datetime.time(12), world.prefecture.tzinfo)
    assert interim.remind_expiring(now=at) == 1
    assert interim.remind_expiring(now=at) == 0
    message = OutboxMessage.objects.get(request=appointment.request, kind="interim_expiring")
    assert message.context["valid_until"] == document.valid_until.isoformat()
    # A following attestation takes it off the list.
    interim.issue_prolongation(appointment.request, AGENT, now=at)
    assert interim.expiring(world.prefecture, today=near) == []


def test_reminder_command_runs(world):
    call_command("remind_interim_expiry")
