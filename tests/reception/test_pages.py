"""Reception and counter pages, through HTTP: scan → identity → ticket → call → file → récépissé."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from guichet.appointments.models import AppointmentStatus
from guichet.notifications.links import convocation_verify_url
from guichet.reception import display
from guichet.reception.models import InterimDocument, Visit, VisitStatus
from guichet.waitlist.references import new_reference
from tests.appointments import builders
from tests.reception.conftest import book

pytestmark = pytest.mark.django_db


@pytest.fixture
def today_booked(world):
    """An appointment in ten minutes (the pages act now), with a real reference."""
    now = timezone.now()
    c1 = world.counters[0]
    req = builders.request(world, "first", due_in_days=3)
    req.reference = new_reference("93")
    req.save(update_fields=["reference"])
    slot = builders.slot(c1, (now + datetime.timedelta(minutes=10)).replace(microsecond=0))
    offer = builders.offer(req, slot, now=now - datetime.timedelta(days=1))
    from guichet.appointments.services import accept_offer
    from guichet.evidence.audit import APPLICANT

    appointment = accept_offer(offer, APPLICANT, now=now - datetime.timedelta(days=1))
    appointment.token = req.token
    return appointment


def test_scan_check_in_call_and_register(client, world, agent, today_booked):
    site = today_booked.counter.site
    desk = reverse("reception:desk", args=["93", site.pk])
    page = client.get(desk)
    assert page.status_code == 200 and today_booked.request.family_names in page.content.decode()
    scanned = client.post(desk, {"form": "scan", "scan": convocation_verify_url(today_booked)})
    identity_url = reverse("reception:identity", args=["93", today_booked.pk])
    assert scanned.status_code == 302 and scanned["Location"] == identity_url
    shown = client.get(identity_url).content.decode()
    assert today_booked.request.family_names in shown and "Identity checked" in shown
    checked = client.post(identity_url, {"action": "checked"})
    visit = Visit.objects.get(appointment=today_booked)
    assert checked["Location"] == reverse("reception:ticket", args=["93", visit.pk])
    assert "001" in client.get(checked["Location"]).content.decode()
    again = client.post(identity_url, {"action": "checked"}, follow=True)
    assert "already checked in: ticket 001" in again.content.decode()

    counter = reverse("reception:counter", args=["93", today_booked.counter.pk])
    act = reverse("reception:counter_action", args=["93", today_booked.counter.pk])
    client.post(act, {"action": "next"})
    visit.refresh_from_db()
    assert visit.status == VisitStatus.CALLED
    screen = client.get(reverse("reception_public:display", args=[site.pk])).content.decode()
    assert "001" in screen and "Guichet 1" in screen
    assert today_booked.request.family_names not in screen  # never a name on the screen
    assert 'http-equiv="refresh"' in screen
    assert today_booked.request.family_names in client.get(counter).content.decode()

    record = reverse("reception:record_file", args=["93", today_booked.counter.pk, visit.pk])
    client.post(record, {"outcome": "complete"})
    today_booked.refresh_from_db()
    assert today_booked.status == AppointmentStatus.SERVED
    document = InterimDocument.objects.get(request=today_booked.request)
    pdf = client.get(reverse("reception_public:interim_pdf", args=[document.pk]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    file_page = client.get(reverse("reception:file", args=[today_booked.request.reference]))
    assert file_page.status_code == 200


def test_the_person_downloads_the_recepisse_with_their_token(client, world, today_booked):
    from guichet.evidence.audit import Actor
    from guichet.reception import outcomes, services

    agent = Actor("staff", "agent", None)
    services.check_in(today_booked, agent)
    outcomes.register_file(today_booked, agent)
    document = InterimDocument.objects.get(request=today_booked.request)
    url = reverse("reception_public:interim_pdf", args=[document.pk])
    assert client.get(url).status_code == 404
    assert client.get(url, {"token": "wrong"}).status_code == 404
    downloaded = client.get(url, {"token": today_booked.token})
    assert downloaded.status_code == 200 and downloaded["Content-Type"] == "application/pdf"
    assert downloaded["Cache-Control"] == "private, no-store"


def test_a_forged_code_is_said_on_the_page(client, world, agent, today_booked):
    desk = reverse("reception:desk", args=["93", today_booked.counter.site.pk])
    page = client.post(desk, {"form": "scan", "scan": "https://evil.example/fr/convocation/93-AAAA-AAAA/"})
    assert page.status_code == 200
    assert "may be forged" in page.content.decode()


def test_other_prefectures_pages_are_not_found(client, world, agent, day):
    from tests import factories

    other = factories.world("75")
    theirs = book(other, day)
    assert client.get(reverse("reception:identity", args=["93", theirs.pk])).status_code == 404
    assert client.get(reverse("reception:identity", args=["75", theirs.pk])).status_code == 403
    assert client.get(reverse("reception:counter", args=["93", other.counters[0].pk])).status_code == 404


def test_the_display_stream_sends_the_calls(world, today_booked):
    from guichet.evidence.audit import Actor
    from guichet.reception import calls, services

    agent = Actor("staff", "agent", None)
    services.check_in(today_booked, agent)
    calls.call_next(today_booked.counter, agent)
    site = today_booked.counter.site
    first = next(display._stream(site, 0))
    assert first.startswith("retry: 2000\n") and "001" in first and first.endswith("\n\n")
    assert today_booked.request.family_names not in first


def test_day_figures_page_is_for_managers(client, world, agent):
    assert client.get(reverse("reception:day_figures", args=["93"])).status_code == 403


def test_the_recepisse_pdf_is_in_french_then_the_persons_language(world, today_booked, tmp_path):
    import re
    import shutil
    import subprocess

    from guichet.evidence.audit import Actor
    from guichet.reception import outcomes, services
    from guichet.reception.documents import interim_pdf_bytes
    from tests.browser import ARTIFACTS

    request = today_booked.request
    request.language = "ar"
    request.save(update_fields=["language"])
    agent = Actor("staff", "agent", None)
    services.check_in(today_booked, agent)
    outcomes.register_file(today_booked, agent)
    body = interim_pdf_bytes(InterimDocument.objects.get(request=request))
    assert body.startswith(b"%PDF")
    folder = ARTIFACTS / "screenshots" / "reception"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "recepisse-ar.pdf").write_bytes(body)
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    path = tmp_path / "r.pdf"
    path.write_bytes(body)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout
    assert "Récépissé de demande de titre de séjour" in text
    assert re.search(r"[\u0600-\u06FF]", text)  # the Arabic section
    pages = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True).stdout
    assert re.search(r"Pages:\s+2\b", pages), pages  # French; then Arabic, with how to verify
