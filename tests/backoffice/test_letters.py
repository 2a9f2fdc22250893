"""The postal channel's daily print run: one PDF of the letters waiting, marked printed, audited, reprintable.

The test checks that each letter is there, on its own sheet, with its person's name and address."""

import datetime

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from guichet.evidence.models import AuditEntry
from guichet.notifications.models import MessageChannel, MessageStatus, OutboxMessage
from tests import pdf
from tests.backoffice.helpers import file, staff, verified_login
from tests.factories import world as make_world
from tests.worker import run_db_worker

pytestmark = pytest.mark.django_db


def by_post(world, family, language="fr"):
    return file(
        world,
        family=family,
        email="",
        phone="",
        postal_address=f"{family}\n12 rue de la République\n93000 Bobigny",
        language=language,
    )


def pdf_text(path) -> str:
    return pdf.text(path.read_bytes())


def test_print_letters_command_writes_one_pdf_and_marks_the_letters(world, tmp_path):
    first = by_post(world, "Benali", language="ar")
    second = by_post(world, "Okafor", language="en")
    file(world, family="Mailed")  # reachable by email: no letter
    letters = OutboxMessage.objects.filter(channel=MessageChannel.LETTER)
    assert letters.count() == 2
    output = tmp_path / "run.pdf"
    call_command("print_letters", "--date", timezone.localdate().isoformat(), "--output", str(output))
    assert output.read_bytes().startswith(b"%PDF-")
    text = pdf_text(output)
    assert "Benali" in text and "Okafor" in text and first.reference in text and second.reference in text
    assert set(letters.values_list("status", flat=True)) == {MessageStatus.SENT}
    entry = AuditEntry.objects.get(action="letters.printed", chain=world.prefecture.code)
    assert sorted(entry.data["messages"]) == sorted(letters.values_list("pk", flat=True))

    assert pdf.page_count(output.read_bytes()) >= 2  # each letter starts on its own sheet

    # A second run finds nothing new; the reprint gives the same letters again.
    again = tmp_path / "again.pdf"
    call_command("print_letters", "--output", str(again))
    assert not again.exists()
    call_command("print_letters", "--reprint", "--output", str(again))
    assert "Benali" in pdf_text(again)


def test_dry_run_marks_nothing_and_bad_dates_are_refused(world, tmp_path):
    from django.core.management.base import CommandError

    by_post(world, "Dry")
    call_command("print_letters", "--dry-run", "--output", str(tmp_path / "dry.pdf"))
    assert OutboxMessage.objects.get(channel=MessageChannel.LETTER).status == MessageStatus.PENDING
    with pytest.raises(CommandError):
        call_command("print_letters", "--date", "31/12/2024")
    with pytest.raises(CommandError):
        call_command("print_letters", "--prefecture", "99")


def test_letters_of_a_later_day_wait_for_their_run(world, tmp_path):
    by_post(world, "Tomorrow")
    yesterday = (timezone.localdate() - datetime.timedelta(days=1)).isoformat()
    call_command("print_letters", "--date", yesterday, "--output", str(tmp_path / "y.pdf"))
    assert OutboxMessage.objects.get(channel=MessageChannel.LETTER).status == MessageStatus.PENDING


def test_the_staff_page_prints_only_its_prefectures_letters(
    client, world, django_capture_on_commit_callbacks
):
    other = make_world("75")
    here = by_post(world, "Here")
    elsewhere = by_post(other, "Elsewhere")
    verified_login(client, staff(world.prefecture))
    page = client.get(reverse("backoffice:letters", args=[world.prefecture.code]))
    html = page.content.decode()
    assert page.status_code == 200 and here.reference in html and elsewhere.reference not in html
    assert "1 letter waiting" in html
    # The run is a staff job (tests/backoffice/test_letter_jobs.py): the page asks, the worker prints.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("backoffice:letters_print", args=[world.prefecture.code]))
    assert response.status_code == 302 and "/jobs/" in response["Location"]
    run_db_worker()
    statuses = dict(OutboxMessage.objects.values_list("request__family_names", "status"))
    assert statuses == {"Here": MessageStatus.SENT, "Elsewhere": MessageStatus.PENDING}
    listed = client.get(reverse("backoffice:letters", args=[world.prefecture.code])).content.decode()
    assert "Recent print jobs" in listed and "Done" in listed
    nothing = client.post(reverse("backoffice:letters_print", args=[world.prefecture.code]))
    assert nothing.status_code == 302 and nothing["Location"].endswith("/letters/")
