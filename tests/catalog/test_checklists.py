"""Lists of documents (R17, CESEDA R.431-11): published in versions that never change, each request keeps
the one in force when it was filed, and its receipt says which."""

import pytest
from django.db import IntegrityError, transaction
from django.utils import translation

from guichet.catalog.models import ChecklistVersion
from guichet.catalog.services import current_checklist, published_checklist
from guichet.evidence.models import Proof
from guichet.evidence.services import verify_token
from guichet.notifications import content
from guichet.notifications.models import OutboxMessage
from tests.backoffice.helpers import file
from tests.catalog.test_admin_validation import (  # noqa: F401 (fixtures)
    ADMIN,
    admin_client,
    catalog,
    collection_form,
)

pytestmark = pytest.mark.django_db

FIRST = ["Passeport", "Justificatif de domicile"]
SECOND = ["Passeport", "Justificatif de domicile", "Trois photographies"]


def test_a_list_is_published_once_and_a_change_is_a_new_version(world):
    procedure = world.procedures["first"]
    procedure.documents = FIRST
    procedure.save()
    first = current_checklist(procedure)
    assert current_checklist(procedure) == first  # unchanged: the same version
    procedure.documents = SECOND
    procedure.save()
    assert published_checklist(procedure) is None  # changed, not yet published
    second = current_checklist(procedure)
    assert (second.number, second.documents) == (first.number + 1, SECOND)
    first.refresh_from_db()
    assert first.documents == FIRST  # the old version is kept as it was
    assert published_checklist(procedure) == second


def test_the_database_keeps_one_version_per_number(world):
    version = current_checklist(world.procedures["first"])
    with pytest.raises(IntegrityError), transaction.atomic():
        ChecklistVersion.objects.create(
            procedure=version.procedure,
            number=version.number,
            documents=[],
            published_at=version.published_at,
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        ChecklistVersion.objects.create(
            procedure=version.procedure, number=0, documents=[], published_at=version.published_at
        )


def test_a_request_keeps_the_list_it_was_filed_under(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    procedure = world.procedures["first"]
    procedure.documents = FIRST
    procedure.save()
    request = file(world, family="Okafor")
    assert request.checklist_version.documents == FIRST
    # The receipt (a signed proof) says which version was in force.
    token = Proof.objects.get(request=request, event="received").token
    assert verify_token(token).payload["details"]["documents_version"] == request.checklist_version.number

    procedure.documents = SECOND
    procedure.save()
    later = file(world, family="Nguyen")
    request.refresh_from_db()
    assert request.documents == FIRST and later.documents == SECOND
    assert later.checklist_version.number == request.checklist_version.number + 1
    # Messages list what this person was asked for.
    message = OutboxMessage.objects.filter(request=request, kind="received").first()
    with translation.override("fr"):
        assert content.template_context(message, content.load(message))["documents"] == FIRST


def test_the_procedure_page_and_the_api_say_which_version_is_in_force(client, world):
    procedure = world.procedures["first"]
    procedure.documents = FIRST
    procedure.save()
    version = current_checklist(procedure)
    page = client.get(f"/fr/procedures/{world.prefecture.code}/{procedure.code}/")
    assert page.status_code == 200
    assert f"Version {version.number} de cette liste, en vigueur depuis" in page.content.decode()
    listed = client.get("/api/v1/procedures", {"prefecture": world.prefecture.code}).json()
    mine = next(p for p in listed if p["code"] == procedure.code)
    assert mine["documents"] == FIRST and mine["documents_version"] == version.number


def test_saving_a_procedure_in_the_admin_publishes_its_new_list(admin_client, catalog):  # noqa: F811
    pref, site, counter, long_one, short_one = catalog
    data = collection_form(pref, documents="Passeport\nRécépissé")
    assert admin_client.post(f"{ADMIN}/procedure/{short_one.pk}/change/", data).status_code == 302
    assert list(short_one.checklist_versions.values_list("number", "documents")) == [
        (1, ["Passeport", "Récépissé"])
    ]
    data["documents"] = "Passeport"
    assert admin_client.post(f"{ADMIN}/procedure/{short_one.pk}/change/", data).status_code == 302
    short_one.refresh_from_db()
    assert published_checklist(short_one).documents == ["Passeport"]
    assert short_one.checklist_versions.count() == 2
