"""The outbox: written with its event, sent later, retried with backoff, failed after N tries; never lost."""

import datetime
import random
import threading

import pytest
from django.core import mail
from django.db import connection, transaction

from guichet.appointments.models import OfferStatus
from guichet.notifications import services
from guichet.notifications.models import MessageChannel, MessageStatus, OutboxMessage
from guichet.notifications.services import notify, retry_delay, send_due_messages

from .backends import BrokenEmail, MemorySms
from .conftest import NOW, make_request, make_story

MINUTE = datetime.timedelta(minutes=1)


@pytest.fixture(autouse=True)
def backends(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SMS_BACKEND = "tests.notifications.backends.MemorySms"
    settings.OUTBOX_MAX_ATTEMPTS = 8
    MemorySms.sent = []
    BrokenEmail.calls = 0


def test_notify_writes_one_message_per_channel_in_the_event_transaction(world, frozen_now):
    request = make_request(world)
    messages = notify(request, "received", {"access_token": "tok"})
    assert sorted(m.channel for m in messages) == ["email", "sms"]
    assert all(m.status == MessageStatus.PENDING and m.language == "fr" for m in messages)

    by_post = make_request(
        world, reference="93-POST-0001", email="", phone="", postal_address="3 rue Haute\n93000 Bobigny"
    )
    with pytest.raises(RuntimeError), transaction.atomic():
        notify(by_post, "received")
        raise RuntimeError("the event fails")
    assert not OutboxMessage.objects.filter(request=by_post).exists()
    assert [m.channel for m in notify(by_post, "received")] == ["letter"]


def test_a_failing_mail_server_delays_the_email_and_it_is_sent_later(world, frozen_now, settings):
    story = make_story(world)
    notify(story.request, "appointment_confirmed", {"appointment_id": story.appointment.pk})
    settings.EMAIL_BACKEND = "tests.notifications.backends.BrokenEmail"

    report = send_due_messages(now=NOW)
    assert (report.sent, report.retrying) == (1, 1)  # the SMS went, the email waits
    email = OutboxMessage.objects.get(channel=MessageChannel.EMAIL)
    assert email.status == MessageStatus.PENDING and email.attempts == 1
    assert "service not available" in email.last_error
    assert NOW + 0.8 * MINUTE <= email.next_attempt_at <= NOW + 1.2 * MINUTE

    assert send_due_messages(now=NOW + 30 * datetime.timedelta(seconds=1)).as_dict() == {
        "sent": 0,
        "retrying": 0,
        "failed": 0,
        "skipped": 0,
        "deferred": 0,
    }
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    report = send_due_messages(now=NOW + 2 * MINUTE)
    assert report.sent == 1
    email.refresh_from_db()
    assert email.status == MessageStatus.SENT and email.attempts == 2 and email.last_error == ""
    assert email.sent_at == NOW + 2 * MINUTE
    [sent] = mail.outbox
    assert sent.to == ["amina@example.org"]
    assert "Votre rendez-vous est confirmé" in sent.body
    assert sent.alternatives[0].mimetype == "text/html"
    assert [name for name, _content, _type in sent.attachments] == ["rendez-vous-93-K7M4-QX9T.ics"]
    assert sent.extra_headers["Auto-Submitted"] == "auto-generated"


def test_backoff_grows_with_jitter():
    rng = random.Random(4)
    expected = [60, 300, 1800, 7200, 43200, 86400, 86400, 86400]
    for failures, base in enumerate(expected, start=1):
        delays = {retry_delay(failures, rng).total_seconds() for _ in range(20)}
        assert all(0.8 * base <= delay <= 1.2 * base for delay in delays), (failures, delays)
        assert len(delays) > 1  # jitter: retries of messages that failed together spread out


def test_a_message_is_given_up_as_failed_after_the_last_try(world, frozen_now, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 3
    settings.EMAIL_BACKEND = "tests.notifications.backends.BrokenEmail"
    request = make_request(world, phone="")
    [message] = notify(request, "received")
    moment = NOW
    for _ in range(3):
        send_due_messages(now=moment)
        moment += datetime.timedelta(days=2)
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert message.attempts == 3 and BrokenEmail.calls == 3
    assert "SMTPConnectError" in message.last_error
    assert send_due_messages(now=moment + datetime.timedelta(days=30)).as_dict()["failed"] == 0


def test_after_three_failures_in_a_row_the_rest_of_the_batch_waits(world, frozen_now, settings):
    settings.EMAIL_BACKEND = "tests.notifications.backends.BrokenEmail"
    for index in range(5):
        notify(make_request(world, reference=f"93-MANY-{index:04d}", phone=""), "received")
    report = send_due_messages(now=NOW)
    assert (report.retrying, report.deferred) == (3, 2)
    assert BrokenEmail.calls == 3
    assert sorted(OutboxMessage.objects.values_list("attempts", flat=True)) == [0, 0, 1, 1, 1]


def test_a_message_outdated_before_it_is_sent_is_skipped(world, frozen_now):
    story = make_story(world)
    notify(story.request, "offer_made", {"offer_id": story.offer.pk})
    story.offer.status = OfferStatus.DECLINED
    story.offer.save()
    report = send_due_messages(now=NOW)
    assert report.skipped == 2 and not mail.outbox and not MemorySms.sent
    assert set(OutboxMessage.objects.values_list("last_error", flat=True)) == {
        "outdated: the offer is no longer open (declined)"
    }


def test_the_secret_link_is_forgotten_once_sent(world, frozen_now):
    request = make_request(world, phone="")
    notify(request, "received", {"access_token": "s3cr3t", "position": 3})
    send_due_messages(now=NOW)
    assert "s3cr3t" in mail.outbox[0].body
    assert OutboxMessage.objects.get().context == {"position": 3}


def test_a_worker_that_dies_mid_batch_leaves_its_messages_to_be_sent_later(world, frozen_now):
    notify(make_request(world, phone=""), "received")
    assert services._claim(NOW, 10)  # claimed, then the worker dies before sending
    assert send_due_messages(now=NOW + MINUTE).sent == 0  # still leased
    report = send_due_messages(now=NOW + services.CLAIM_LEASE + MINUTE)
    assert report.sent == 1
    assert OutboxMessage.objects.get().attempts == 2


def test_letters_wait_for_the_print_run(world, frozen_now):
    request = make_request(
        world, reference="93-POST-0002", email="", phone="", postal_address="3 rue Haute\n93000 Bobigny"
    )
    notify(request, "received")
    assert send_due_messages(now=NOW).sent == 0
    printable = services.letters_to_print(now=NOW)
    assert [m.kind for m in printable] == ["received"]
    services.mark_letters_printed(printable, now=NOW)
    assert OutboxMessage.objects.get().status == MessageStatus.SENT
    assert services.letters_to_print(now=NOW) == []


def test_the_command_sends_once(world, frozen_now):
    from django.core.management import call_command

    notify(make_request(world, phone=""), "received")
    call_command("send_messages", "--once")
    assert len(mail.outbox) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_never_claim_the_same_message(world):
    request = make_request(world, phone="")
    for _ in range(6):
        notify(request, "still_waiting")
    locked, release = threading.Event(), threading.Event()
    held: list[int] = []

    def other_worker():
        with transaction.atomic():
            rows = OutboxMessage.objects.select_for_update(skip_locked=True).order_by("id")[:3]
            held.extend(row.id for row in rows)
            locked.set()
            release.wait(10)
        connection.close()

    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        assert locked.wait(10)
        claimed = services._claim(datetime.datetime.now(datetime.UTC) + MINUTE, 10)
    finally:
        release.set()
        thread.join()
    assert len(claimed) == 3 and not set(claimed) & set(held)


def test_the_sender_is_woken_once_per_transaction(world, settings, django_capture_on_commit_callbacks):
    from django_tasks_db.models import DBTaskResult

    settings.OUTBOX_ENQUEUE_ON_COMMIT = True
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        notify(make_request(world), "received")
        notify(make_request(world, reference="93-SCND-0001"), "received")
    assert len(callbacks) == 1
    assert DBTaskResult.objects.filter(task_path="guichet.notifications.tasks.send_messages").count() == 1
