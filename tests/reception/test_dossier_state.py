"""Reception reads the dossier: the identity page, the desk's list and the counter show whether it is complete
and what lacks or is to correct; a dossier complete at check-in makes the visit "registration only", planned
for the procedure's registration time, and the check-in proof says so."""

import datetime
import re

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from guichet.accounts.services import create_api_token
from guichet.appointments.services import accept_offer
from guichet.dossiers import services as dossiers
from guichet.dossiers.models import DocumentSource
from guichet.evidence import services as evidence
from guichet.evidence.audit import APPLICANT, Actor
from guichet.evidence.models import ProofEvent
from guichet.reception import calls, services
from guichet.reception.models import Visit
from guichet.waitlist.references import new_reference
from tests.api.test_staff_api import Api
from tests.appointments import builders
from tests.backoffice.helpers import staff
from tests.dossiers import helpers

pytestmark = pytest.mark.django_db

REVIEWER = Actor("staff", "reviewer")


@pytest.fixture(autouse=True)
def dossier_storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "dossiers": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "dossier-files"},
        },
    }
    settings.CLAMD_SOCKET = ""


@pytest.fixture
def procedure(world):
    procedure = world.procedures["first"]
    procedure.duration_minutes, procedure.registration_minutes = 30, 10
    procedure.save(update_fields=["duration_minutes", "registration_minutes"])
    helpers.publish(procedure, [helpers.question("entry-date", "date", "Date d'entrée en France")])
    return procedure


def booked_now(world, procedure, minutes: int = 10):
    """An appointment in a few minutes (the pages act now), for a request filed under the form."""
    now = timezone.now()
    req = builders.request(world, "first", due_in_days=3, received_at=now)
    req.reference = new_reference("93")
    req.save(update_fields=["reference"])
    slot = builders.slot(
        world.counters[0], (now + datetime.timedelta(minutes=minutes)).replace(microsecond=0)
    )
    offer = builders.offer(req, slot, now=now - datetime.timedelta(days=1))
    return accept_offer(offer, APPLICANT, now=now - datetime.timedelta(days=1))


def send(request, item):
    return dossiers.upload_document(
        request, item, SimpleUploadedFile("scan.pdf", helpers.pdf_bytes()), APPLICANT
    )


def complete(request):
    dossiers.save_answers(request, {"entry-date": "2022-09-01"}, APPLICANT)
    documents = [send(request, "doc-1"), send(request, "doc-2")]
    dossiers.review_dossier(request, [dossiers.Decision(d.pk, True) for d in documents], REVIEWER)


def test_a_complete_dossier_makes_the_visit_registration_only(client, world, procedure, agent):
    appointment = booked_now(world, procedure)
    complete(appointment.request)
    identity_url = reverse("reception:identity", args=["93", appointment.pk])
    page = client.get(identity_url).content.decode()
    assert "Dossier complete: registration only." in page
    assert reverse("dossiers:staff_dossier", args=[appointment.request.reference]) in page
    desk = client.get(reverse("reception:desk", args=["93", appointment.counter.site_id])).content.decode()
    assert "<strong>Complete</strong>" in desk

    client.post(identity_url, {"action": "checked"})
    visit = Visit.objects.get(appointment=appointment)
    assert visit.dossier_complete and visit.planned_minutes == 10
    ticket = client.get(reverse("reception:ticket", args=["93", visit.pk])).content.decode()
    assert "only the registration remains" in ticket
    proof = evidence.proofs_of(appointment.request).get(event=ProofEvent.CHECKED_IN)
    assert evidence.verify_token(proof.token).payload["details"]["dossier_complete"] is True

    counter_url = reverse("reception:counter", args=["93", appointment.counter.pk])
    waiting = client.get(counter_url).content.decode()
    assert "complete: registration only" in waiting and "About 10 minutes of counter time" in waiting
    calls.call_next(appointment.counter, REVIEWER)
    current = client.get(counter_url).content.decode()
    assert "Dossier complete: registration only." in current and "Planned: 10 minutes." in current


def test_an_incomplete_dossier_shows_what_lacks_and_the_counter_ticks_it(client, world, procedure, agent):
    appointment = booked_now(world, procedure)
    request = appointment.request
    passport = send(request, "doc-1")
    dossiers.review_dossier(request, [dossiers.Decision(passport.pk, False, "Page illisible")], REVIEWER)
    identity_url = reverse("reception:identity", args=["93", appointment.pk])
    page = client.get(identity_url).content.decode()
    assert "Something to correct" in page
    assert "Passport: <q>Page illisible</q>" in page
    assert "Documents not received" in page and "Proof of address" in page
    assert "Questions not answered" in page and "Date d&#x27;entrée en France" in page
    assert "registration only" not in page

    client.post(identity_url, {"action": "checked"})
    visit = Visit.objects.get(appointment=appointment)
    assert not visit.dossier_complete and visit.planned_minutes == 30
    calls.call_next(appointment.counter, REVIEWER)
    counter = client.get(reverse("reception:counter", args=["93", appointment.counter.pk])).content.decode()
    # Both documents are pre-ticked as missing: neither is accepted in the dossier.
    ticked = re.findall(r"<input[^>]*name=\"missing\"[^>]*>", counter)
    assert len(ticked) == 2 and all(" checked" in tag for tag in ticked)

    # Paper scanned at the counter and accepted there: the counter then sees only what still lacks.
    scanned = dossiers.upload_document(
        request,
        "doc-1",
        SimpleUploadedFile("passport.pdf", helpers.pdf_bytes()),
        REVIEWER,
        source=DocumentSource.COUNTER,
    )
    dossiers.review_dossier(request, [dossiers.Decision(scanned.pk, True)], REVIEWER)
    readiness = dossiers.readiness(request)
    assert readiness.accepted == ["Passport"] and readiness.missing_documents == ["Proof of address"]
    assert not readiness.complete and readiness.has_work


def test_a_dossier_completed_after_check_in_does_not_change_the_visit_planned(world, procedure):
    appointment = booked_now(world, procedure)
    visit = services.check_in(appointment, REVIEWER)
    complete(appointment.request)
    visit.refresh_from_db()
    assert not visit.dossier_complete and visit.planned_minutes == 30


def test_the_procedure_without_a_registration_time_keeps_its_duration(world, procedure):
    procedure.registration_minutes = None
    procedure.save(update_fields=["registration_minutes"])
    appointment = booked_now(world, procedure)
    complete(appointment.request)
    visit = services.check_in(appointment, REVIEWER)
    assert visit.dossier_complete and visit.planned_minutes == 30


def test_the_api_gives_the_dossier_at_reception(client, world, procedure):
    user = staff(world.prefecture, "agent", username="api-desk")
    _token, raw = create_api_token(user, name="desk", prefecture=world.prefecture)
    api = Api(client, raw)
    appointment = booked_now(world, procedure)
    request = appointment.request
    complete(request)
    site = appointment.counter.site_id
    found = api.get(f"/staff/reception/sites/{site}/find", scan=request.reference).json()
    assert found["dossier"]["complete"] is True
    assert found["dossier"]["accepted"] == ["Passport", "Proof of address"]
    today = api.get(f"/staff/reception/sites/{site}/today").json()
    assert today[0]["dossier"] == "complete"
    made = api.post(
        f"/staff/reception/sites/{site}/check-in", {"appointment": appointment.pk, "identity_checked": True}
    ).json()
    assert made["dossier_complete"] is True and made["planned_minutes"] == 10


def test_a_registration_time_longer_than_the_duration_is_refused(world):
    procedure = world.procedures["first"]
    procedure.registration_minutes = procedure.duration_minutes + 5
    with pytest.raises(ValidationError) as refused:
        procedure.full_clean()
    assert "registration_minutes" in refused.value.message_dict
