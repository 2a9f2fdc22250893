"""At most one SMS a day per phone number, confirmations aside; the email still goes."""

import datetime

import pytest
from django.core import mail

from guichet.notifications.models import MessageChannel, MessageStatus, OutboxMessage
from guichet.notifications.services import notify, send_due_messages

from .backends import MemorySms
from .conftest import NOW, make_story


@pytest.fixture(autouse=True)
def backends(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SMS_BACKEND = "tests.notifications.backends.MemorySms"
    MemorySms.sent = []


def sms(kind: str) -> OutboxMessage:
    return OutboxMessage.objects.get(channel=MessageChannel.SMS, kind=kind)


def test_a_second_sms_the_same_day_is_skipped_but_its_email_is_sent(world, frozen_now):
    story = make_story(world)
    notify(story.request, "still_waiting")
    send_due_messages(now=NOW)
    notify(story.request, "offer_made", {"offer_id": story.offer.pk})
    report = send_due_messages(now=NOW + datetime.timedelta(hours=3))
    assert report.sent == 1 and report.skipped == 1
    assert len(MemorySms.sent) == 1 and len(mail.outbox) == 2
    skipped = sms("offer_made")
    assert skipped.status == MessageStatus.SKIPPED
    assert skipped.last_error == "daily limit: this number had an SMS today"


def test_confirmations_are_always_sent_and_do_not_count(world, frozen_now):
    story = make_story(world)
    notify(story.request, "appointment_confirmed", {"appointment_id": story.appointment.pk})
    notify(story.request, "still_waiting")
    notify(story.request, "appointment_changed", {"appointment_id": story.appointment.pk})
    notify(story.request, "appointment_cancelled", {"appointment_id": story.cancelled.pk})
    send_due_messages(now=NOW)
    kinds = ("appointment_confirmed", "still_waiting", "appointment_changed", "appointment_cancelled")
    assert [sms(kind).status for kind in kinds] == [MessageStatus.SENT] * 4
    assert len(MemorySms.sent) == 4


def test_the_day_is_the_local_day_of_the_prefecture(world, frozen_now):
    story = make_story(world)
    notify(story.request, "still_waiting")
    late_evening = datetime.datetime(2026, 3, 2, 22, 30, tzinfo=datetime.UTC)  # 23:30 in Paris
    send_due_messages(now=late_evening)
    notify(story.request, "offer_made", {"offer_id": story.offer.pk})
    after_midnight = late_evening + datetime.timedelta(hours=1)  # 00:30 the next day in Paris
    send_due_messages(now=after_midnight)
    assert sms("offer_made").status == MessageStatus.SENT
    assert len(MemorySms.sent) == 2


def test_the_limit_is_per_number(world, frozen_now):
    first = make_story(world)
    second = make_story(world, reference="93-OTHR-0001", shift=2, phone="+33698765432")
    for story in (first, second):
        notify(story.request, "still_waiting")
    send_due_messages(now=NOW)
    assert sorted(to for to, _text in MemorySms.sent) == ["+33612345678", "+33698765432"]
