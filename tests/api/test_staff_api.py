"""The staff and partner API: personal tokens (hashed at rest, revocable, scoped) and the back office's
operations."""

import base64
import datetime
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from guichet.accounts.models import ApiToken
from guichet.accounts.services import create_api_token, hash_token, remove_membership, revoke_api_token
from guichet.appointments.models import Appointment, AppointmentStatus
from guichet.appointments.services import accept_offer
from guichet.evidence.audit import APPLICANT
from guichet.evidence.models import AuditEntry
from guichet.partners.models import Mandate
from guichet.waitlist.models import AppointmentRequest, Channel, RequestStatus
from tests.appointments import builders
from tests.backoffice.helpers import file, intake_raw, partner, staff, verified_login

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n"


class Api:
    def __init__(self, client, raw: str):
        self.client = client
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}

    def get(self, path, **params):
        return self.client.get("/api/v1" + path, params, **self.headers)

    def post(self, path, body: dict):
        return self.client.post(
            "/api/v1" + path, json.dumps(body), content_type="application/json", **self.headers
        )


@pytest.fixture
def agent(world):
    return staff(world.prefecture, username="api-agent")


@pytest.fixture
def api(client, world, agent):
    _token, raw = create_api_token(agent, name="kiosk", prefecture=world.prefecture)
    return Api(client, raw)


def test_tokens_are_hashed_shown_once_and_revocable(client, world, agent):
    verified_login(client, agent)
    page = client.post(
        reverse("backoffice:account"),
        {
            "action": "token",
            "token-name": "counter script",
            "token-scope": f"prefecture:{world.prefecture.code}",
            "token-expires_in_days": "30",
        },
    )
    html = page.content.decode()
    token = ApiToken.objects.get(name="counter script")
    start = html.index('id="new-token">') + len('id="new-token">')
    raw = html[start : html.index("<", start)]
    assert raw.startswith("gch_") and token.token_hash == hash_token(raw) and raw not in token.token_hash
    assert token.expires_at and token.prefecture == world.prefecture
    assert raw not in client.get(reverse("backoffice:account")).content.decode()  # shown once
    assert Api(client, raw).get("/staff/me").json()["username"] == agent.username
    client.post(reverse("backoffice:revoke_token", args=[token.pk]))
    assert Api(client, raw).get("/staff/me").status_code == 401
    assert AuditEntry.objects.filter(action="api_token.revoked", chain=world.prefecture.code).exists()


def test_bad_tokens_are_refused(client, world, agent):
    assert client.get("/api/v1/staff/me").status_code == 401
    token, raw = create_api_token(agent, name="t", prefecture=world.prefecture)
    for wrong in ("gch_nope", raw[:-2] + "xx", "Basic abc", raw.replace("gch_", "")):
        assert Api(client, wrong).get("/staff/me").status_code == 401
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    assert Api(client, raw).get("/staff/me").status_code == 401
    body = Api(client, "gch_x_y").get("/staff/me").json()
    assert body["code"] == "unauthorised"


def test_a_token_stops_working_when_its_owner_leaves_the_prefecture(client, world, agent):
    _token, raw = create_api_token(agent, name="t", prefecture=world.prefecture)
    admin = staff(world.prefecture, "prefecture_admin")
    remove_membership(agent, world.prefecture, by=admin)
    assert Api(client, raw).get("/staff/queue").status_code in (401, 403)


def test_only_the_owner_or_an_administrator_revokes(world, agent):
    from guichet.errors import Forbidden

    token, _raw = create_api_token(agent, name="t", prefecture=world.prefecture)
    with pytest.raises(Forbidden):
        revoke_api_token(token, by=staff(world.prefecture))
    revoke_api_token(token, by=staff(world.prefecture, "prefecture_admin"))
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_a_token_scope_must_be_the_owners(world, agent):
    from guichet.errors import Forbidden, InvalidInput
    from tests.factories import prefecture as make_prefecture

    with pytest.raises(Forbidden):
        create_api_token(agent, name="t", prefecture=make_prefecture("75", "Paris"))
    organisation, _member = partner(world.prefecture)
    with pytest.raises(Forbidden):
        create_api_token(agent, name="t", organisation=organisation)
    with pytest.raises(InvalidInput):
        create_api_token(agent, name="", prefecture=world.prefecture)


@pytest.mark.parametrize("channel", [Channel.COUNTER, Channel.PHONE, Channel.POST])
def test_register_a_request_for_a_person(api, world, agent, channel):
    received = (timezone.now() - datetime.timedelta(days=3)).isoformat()
    body = {
        **intake_raw(world, family=f"Api{channel}"),
        "channel": channel,
        "received_at": received,
        "backdate_reason": "letter of last week",
    }
    response = api.post("/staff/requests", body)
    assert response.status_code == 201, response.content
    created = AppointmentRequest.objects.get(reference=response.json()["reference"])
    assert created.channel == channel and created.created_by == agent
    assert response.json()["access_token"]
    assert AuditEntry.objects.get(request=created, action="request.assisted_intake").data["backdate_reason"]


def test_registration_errors(api, world):
    too_old = (timezone.now() - datetime.timedelta(days=31)).isoformat()
    response = api.post(
        "/staff/requests",
        {**intake_raw(world), "channel": "post", "received_at": too_old, "backdate_reason": "old"},
    )
    assert response.status_code == 422 and "received_at" in response.json()["fields"]
    assert api.post("/staff/requests", {**intake_raw(world), "channel": "web"}).status_code == 422
    assert (
        api.post(
            "/staff/requests", {**intake_raw(world), "channel": "post", "received_at": "yesterday"}
        ).status_code
        == 422
    )
    bad = api.post("/staff/requests", {**intake_raw(world, family=""), "channel": "counter"})
    assert bad.status_code == 422 and "family_names" in bad.json()["fields"]
    raw = api.client.post(
        "/api/v1/staff/requests", "{not json", content_type="application/json", **api.headers
    )
    assert raw.status_code == 400
    assert AppointmentRequest.objects.count() == 0


def test_search_detail_and_changes(api, world, agent):
    request = file(world, family="Searched", foreign_national_number="1234567890")
    found = api.get("/staff/requests", q="searched").json()
    assert [row["reference"] for row in found] == [request.reference]
    assert api.get("/staff/requests", q="1234567890").json()[0]["reference"] == request.reference
    assert api.get("/staff/requests").status_code == 422
    detail = api.get(f"/staff/requests/{request.reference}").json()
    assert detail["proofs"][0]["event"] == "received" and detail["proofs"][0]["token"].count(".") == 2

    changed = api.post(
        f"/staff/requests/{request.reference}/contact",
        {"email": "new@example.org", "language": "en", "reason": "asked by phone"},
    )
    assert changed.status_code == 200 and changed.json()["email"] == "new@example.org"
    assert (
        api.post(
            f"/staff/requests/{request.reference}/contact", {"email": "x@example.org", "reason": ""}
        ).status_code
        == 422
    )

    vulnerable = api.post(
        f"/staff/requests/{request.reference}/vulnerability",
        {"vulnerability": "serious illness", "reason": "medical certificate seen"},
    )
    assert vulnerable.status_code == 200 and vulnerable.json()["vulnerability_reason"] == "serious illness"

    assert api.post(f"/staff/requests/{request.reference}/close", {"reason": ""}).status_code == 422
    closed = api.post(f"/staff/requests/{request.reference}/close", {"reason": "the person moved to Lyon"})
    assert closed.status_code == 200 and closed.json()["status"] == RequestStatus.CLOSED
    entry = AuditEntry.objects.get(request=request, action="request.closed")
    assert entry.actor == f"staff:{agent.username}"


def test_cancel_and_move_appointments(api, world):
    request = file(world, family="Appointed")
    counter = world.counters[0]
    day = builders.weekday_after(timezone.localdate(), 10)
    accept_offer(
        builders.offer(request, builders.slot(counter, builders.at_local(counter, day, 9))), APPLICANT
    )
    appointment = Appointment.objects.get(request=request, status=AppointmentStatus.CONFIRMED)
    free = builders.slot(counter, builders.at_local(counter, day, 10))
    slots = api.get(f"/staff/appointments/{appointment.pk}/free-slots").json()
    assert free.pk in [slot["id"] for slot in slots]
    assert (
        api.post(f"/staff/appointments/{appointment.pk}/move", {"slot_id": free.pk, "reason": ""}).status_code
        == 422
    )
    moved = api.post(
        f"/staff/appointments/{appointment.pk}/move", {"slot_id": free.pk, "reason": "agent away"}
    )
    assert moved.status_code == 200
    new_id = moved.json()["id"]
    assert api.post(f"/staff/appointments/{new_id}/cancel", {"reason": ""}).status_code == 422
    assert api.post(f"/staff/appointments/{new_id}/cancel", {"reason": "site closed"}).status_code == 200
    assert Appointment.objects.get(pk=new_id).status == AppointmentStatus.CANCELLED
    assert api.post("/staff/appointments/999999/cancel", {"reason": "nothing"}).status_code == 404


def test_queue_in_serving_order(api, world):
    now = timezone.now()
    second = file(world, family="Second", received_at=now - datetime.timedelta(days=1))
    first = file(world, family="First", received_at=now - datetime.timedelta(days=2))
    rows = api.get("/staff/queue", procedure=world.procedures["first"].code).json()
    assert [row["reference"] for row in rows] == [first.reference, second.reference]
    assert api.get("/staff/queue", procedure="nope").status_code == 404


def test_partner_files_attaches_and_revokes_through_the_api(client, world, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    organisation, member = partner(world.prefecture)
    _token, raw = create_api_token(member, name="asso", organisation=organisation)
    api = Api(client, raw)
    me = api.get("/staff/me").json()
    assert me["kind"] == "partner" and me["organisation"] == organisation.pk
    body = {
        **intake_raw(world, family="Client"),
        "consent_given_on": timezone.localdate().isoformat(),
        "consent_method": "signed_form",
        "consent_form_base64": base64.b64encode(PDF).decode(),
    }
    created = api.post("/staff/requests", body)
    assert created.status_code == 201, created.content
    request = AppointmentRequest.objects.get(reference=created.json()["reference"])
    assert request.channel == Channel.PARTNER
    mandate = Mandate.objects.get(pk=created.json()["mandate"])
    assert mandate.consent_form_type == "application/pdf"
    bad = api.post(
        "/staff/requests",
        {**body, "family_names": "Other", "consent_form_base64": base64.b64encode(b"text").decode()},
    )
    assert bad.status_code == 422 and "consent_form" in bad.json()["fields"]
    # Partners list their clients without a query; staff routes are closed to them.
    assert [r["reference"] for r in api.get("/staff/requests").json()] == [request.reference]
    assert api.get("/staff/queue").status_code == 403
    impossible = api.post(
        f"/staff/requests/{request.reference}/impossibility",
        {"circumstances": "no passport scan possible", "accompaniment_tried": True},
    )
    assert impossible.status_code == 201 and impossible.json()["substitution_route"] is True
    existing = file(world, family="Existing")
    attached = api.post(
        "/staff/mandates",
        {
            "reference": existing.reference,
            "birth_date": existing.birth_date.isoformat(),
            "consent_given_on": timezone.localdate().isoformat(),
            "consent_method": "phone",
        },
    )
    assert attached.status_code == 201
    revoked = api.post(
        f"/staff/mandates/{attached.json()['id']}/revoke", {"revoked_by": "organisation", "reason": "done"}
    )
    assert revoked.status_code == 200
    assert api.get(f"/staff/requests/{existing.reference}").status_code == 404
