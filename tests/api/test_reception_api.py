"""The reception API: the same services as the pages, with structured errors."""

import datetime

import pytest
from django.utils import timezone

from guichet.accounts.services import create_api_token
from guichet.appointments.services import accept_offer
from guichet.evidence.audit import APPLICANT
from guichet.notifications.links import convocation_verify_url
from guichet.reception.models import InterimDocument
from guichet.waitlist.references import new_reference
from tests.api.test_staff_api import Api
from tests.appointments import builders
from tests.backoffice.helpers import staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client, world):
    user = staff(world.prefecture, "manager", username="api-counter")
    _token, raw = create_api_token(user, name="counter", prefecture=world.prefecture)
    return Api(client, raw)


@pytest.fixture
def soon(world):
    now = timezone.now()
    c1 = world.counters[0]
    req = builders.request(world, "first", due_in_days=3)
    req.reference = new_reference("93")
    req.save(update_fields=["reference"])
    slot = builders.slot(c1, (now + datetime.timedelta(minutes=5)).replace(microsecond=0))
    offer = builders.offer(req, slot, now=now - datetime.timedelta(days=1))
    return accept_offer(offer, APPLICANT, now=now - datetime.timedelta(days=1))


def test_scan_check_in_call_and_complete_file(api, world, soon):
    site = soon.counter.site.pk
    scan = convocation_verify_url(soon)
    found = api.get(f"/staff/reception/sites/{site}/find", scan=scan)
    assert found.status_code == 200 and found.json()["family_names"] == soon.request.family_names
    refused = api.post(f"/staff/reception/sites/{site}/check-in", {"scan": scan})
    assert refused.status_code == 422 and refused.json()["code"] == "identity_not_checked"
    made = api.post(f"/staff/reception/sites/{site}/check-in", {"scan": scan, "identity_checked": True})
    assert made.status_code == 201 and made.json()["ticket"] == "001"
    again = api.post(f"/staff/reception/sites/{site}/check-in", {"scan": scan, "identity_checked": True})
    assert again.status_code == 409 and again.json()["code"] == "already_checked_in"
    today = api.get(f"/staff/reception/sites/{site}/today").json()
    assert today[0]["ticket"] == "001"
    called = api.post(f"/staff/counters/{soon.counter.pk}/call-next", {})
    assert called.status_code == 200 and called.json()["status"] == "called"
    assert api.post(f"/staff/counters/{soon.counter.pk}/call-next", {}).status_code == 204
    visit = called.json()["id"]
    bad = api.post(f"/staff/visits/{visit}/file", {"outcome": "lost"})
    assert bad.status_code == 422
    done = api.post(f"/staff/visits/{visit}/file", {"outcome": "complete"})
    assert done.status_code == 200, done.json()
    assert done.json()["request_status"] == "served" and len(done.json()["interim_documents"]) == 1
    prolonged = api.post(
        f"/staff/requests/{soon.request.reference}/interim-documents", {"kind": "prolongation"}
    )
    assert prolonged.status_code == 201 and prolonged.json()["number"] == 1
    decided = api.post(f"/staff/requests/{soon.request.reference}/decision", {"outcome": "granted"})
    assert decided.status_code == 201 and decided.json()["collection_reference"]
    assert InterimDocument.objects.count() == 2
    figures = api.get("/staff/figures/day").json()
    assert figures[0]["site"] == "Bobigny" and figures[0]["served"] == 1


def test_forged_code_and_other_prefecture_ids(api, world, soon):
    from tests import factories

    site = soon.counter.site.pk
    forged = api.get(f"/staff/reception/sites/{site}/find", scan="https://evil.example/fr/convocation/x/")
    assert forged.status_code == 422 and forged.json()["code"] == "scan_foreign"
    other = factories.world("75")
    assert api.get(f"/staff/reception/sites/{other.sites[0].pk}/today").status_code == 404
    assert api.post(f"/staff/counters/{other.counters[0].pk}/call-next", {}).status_code == 404


def test_identity_change_through_the_api(api, world, soon):
    body = {"family_names": "Benali", "given_names": "Amina", "birth_date": "1990-01-01", "reason": "Married"}
    changed = api.post(f"/staff/requests/{soon.request.reference}/identity", body)
    assert changed.status_code == 200
    soon.refresh_from_db()
    assert soon.status == "cancelled"
    empty = api.post(f"/staff/requests/{soon.request.reference}/identity", {**body, "family_names": ""})
    assert empty.status_code == 422 and "family_names" in empty.json()["fields"]
