"""API v1 requests: filing, duplicates, status with the access token, structured errors and never a 500."""

import datetime
import json

import pytest
from django.utils import formats, timezone, translation

from guichet.evidence.audit import APPLICANT
from guichet.waitlist.models import AppointmentRequest, RequestStatus
from guichet.waitlist.services import file_request
from guichet.waitlist.validation import validate_intake
from tests.waitlist.intake_helpers import catalogue, raw_request, renewal_raw, today_in

pytestmark = pytest.mark.django_db

URL = "/api/v1/requests"


@pytest.fixture
def world(db):
    return catalogue()


def post(client, body, **headers):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(URL, data=data, content_type="application/json", headers=headers)


def body_for(world, **overrides):
    return {"prefecture": world.prefecture.code, **raw_request(world, **overrides)}


ALREADY = (
    "A request for this procedure already exists in your name. We did not create a second one: "
    "your place in the queue and your due date are kept."
)
LIMITED = (
    "To protect everybody's requests, the number of attempts from one connection, and for one request, "
    "is limited."
)


def in_language(language, text):
    with translation.override(language):
        return translation.gettext(text)


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    payload = response.json()
    assert set(payload) == {"code", "message", "fields"}
    assert payload["code"] == code and payload["message"]
    return payload


def test_filing_answers_201_with_reference_token_and_due_date(client, world):
    response = post(client, body_for(world, sites=[world.sites[0].pk]))
    assert response.status_code == 201, response.content
    payload = response.json()
    request = AppointmentRequest.objects.get(reference=payload["reference"])
    assert payload["created"] is True and payload["access_token"]
    assert payload["status"] == RequestStatus.WAITING
    assert payload["due_date"] == request.due_date.isoformat() and payload["due_reason"] == "target_wait"
    assert payload["due_reason_label"] and payload["message"]
    assert payload["filing_window"] is None
    assert request.channel == "web" and list(request.sites.all()) == [world.sites[0]]


def test_a_repeated_submission_answers_200_says_so_and_discloses_nothing(client, world):
    first = post(client, body_for(world)).json()
    again = post(client, body_for(world, family_names="NGUYEN", given_names="van an", language="en"))
    assert again.status_code == 200
    payload = again.json()
    assert payload["created"] is False
    # Names and a birth date are not secret: whoever knows them learns that a request exists, not its
    # reference (which with the birth date opens it), its state or its due date.
    assert first["reference"] not in again.content.decode()
    for name in ("reference", "access_token", "status", "due_date", "due_reason", "filing_window"):
        assert payload[name] is None
    assert "already exists" in payload["message"] and "receipt" in payload["message"]
    assert AppointmentRequest.objects.count() == 1
    in_arabic = post(client, body_for(world, language="ar")).json()
    assert in_arabic["created"] is False
    assert in_arabic["message"].startswith(in_language("ar", ALREADY)) and ALREADY not in in_arabic["message"]


def test_filing_through_the_api_is_limited_like_the_page(client, world, settings):
    settings.GUICHET_RATE_LIMITS = {**settings.GUICHET_RATE_LIMITS, "filing_identity": "2/h"}
    for _ in range(2):
        assert post(client, body_for(world)).status_code in (200, 201)
    refused = post(client, body_for(world, language="ar"))
    payload = assert_error(refused, 429, "rate_limited")
    assert 0 < int(refused["Retry-After"]) <= 3600
    # In the body's language, with the page's words.
    assert payload["message"].endswith(in_language("ar", LIMITED)) and LIMITED not in payload["message"]
    # Another person from the same address is not held back by that identity's limit.
    assert post(client, body_for(world, family_names="Autre", birth_date="1970-05-05")).status_code == 201


def test_the_address_limit_counts_every_filing_of_one_client(client, world, settings):
    settings.GUICHET_RATE_LIMITS = {**settings.GUICHET_RATE_LIMITS, "filing_address": "3/h"}
    answers = [
        post(client, body_for(world, family_names=name, birth_date="1980-02-02")).status_code
        for name in ("Alpha", "Beta", "Gamma", "Delta")
    ]
    assert answers == [201, 201, 201, 429]
    assert AppointmentRequest.objects.count() == 3


def test_renewal_gets_its_filing_window(client, world):
    response = post(client, {"prefecture": "93", **renewal_raw(world, expires_in_days=200)})
    assert response.status_code == 201
    window = response.json()["filing_window"]
    opens = today_in(world.prefecture) + datetime.timedelta(days=80)
    assert window["state"] == "early" and window["opens_on"] == opens.isoformat()
    with translation.override("fr"):  # the body's language
        assert formats.date_format(opens, "DATE_FORMAT") in window["message"]
    late = post(
        client, {"prefecture": "93", **renewal_raw(world, expires_in_days=20, birth_date="1970-01-01")}
    )
    assert late.status_code == 201 and late.json()["filing_window"]["state"] == "late"
    assert late.json()["due_reason"] == "permit_expiry"


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b"", b"\xff\xfe\x00", "[1, 2", '{"prefecture": "93",}'],
    ids=["broken", "empty", "not utf-8", "truncated", "trailing comma"],
)
def test_invalid_json_is_a_400_not_a_500(client, world, raw):
    assert_error(post(client, raw), 400, "invalid_json")
    assert AppointmentRequest.objects.count() == 0


@pytest.mark.parametrize("raw", ["[]", "42", '"text"', "null", "true"])
def test_a_body_that_is_not_an_object_is_refused(client, world, raw):
    assert_error(post(client, raw), 422, "invalid")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"family_names": 12}, "family_names"),
        ({"family_names": None}, "family_names"),
        ({"family_names": {"a": 1}}, "family_names"),
        ({"birth_date": [1990, 5, 17]}, "birth_date"),
        ({"birth_date": 19900517}, "birth_date"),
        ({"sites": "everywhere"}, "sites"),
        ({"sites": [{"id": 1}]}, "sites"),
        ({"sites": [1.5]}, "sites"),
        ({"needs_step_free": "perhaps"}, "needs_step_free"),
        ({"unavailable_weekdays": {"monday": True}}, "unavailable_weekdays"),
        ({"procedure": 3}, "procedure"),
        ({"procedure": None}, "procedure"),
        ({"nationality": ["FR"]}, "nationality"),
        ({"email": False}, "email"),
        ({"phone": 612345678}, "phone"),
        ({"earliest_date": True}, "earliest_date"),
    ],
)
def test_wrong_types_are_refused_field_by_field(client, world, overrides, field):
    payload = assert_error(post(client, body_for(world, **overrides)), 422, "invalid")
    assert field in payload["fields"], payload
    assert all(isinstance(message, str) and message for message in payload["fields"][field])


@pytest.mark.parametrize(
    "field",
    [
        "family_names",
        "given_names",
        "needs_other",
        "postal_address",
        "urgency_circumstances",
        "email",
        "phone",
    ],
)
def test_10000_character_strings_are_refused_clearly(client, world, field):
    payload = assert_error(post(client, body_for(world, **{field: "a" * 10_000})), 422, "invalid")
    assert field in payload["fields"]


def test_every_bad_field_is_reported_and_nothing_is_stored(client, world):
    payload = assert_error(
        post(
            client,
            body_for(
                world,
                family_names="",
                birth_date="2031-02-30",
                permit_expires_on="2026-01-01",
                sites=[424242],
                foreign_national_number="12",
                phone="01 42 76 40 40",
            ),
        ),
        422,
        "invalid",
    )
    assert {"family_names", "birth_date", "sites", "foreign_national_number", "phone"} <= set(
        payload["fields"]
    )
    assert AppointmentRequest.objects.count() == 0


def test_future_birth_date_and_expiry_on_first_application(client, world):
    future = (timezone.now() + datetime.timedelta(days=30)).date().isoformat()
    payload = assert_error(
        post(client, body_for(world, birth_date=future, permit_expires_on=future)), 422, "invalid"
    )
    assert {"birth_date", "permit_expires_on"} <= set(payload["fields"])


def test_unknown_or_missing_prefecture(client, world):
    payload = assert_error(post(client, {**raw_request(world)}), 422, "invalid")
    assert "prefecture" in payload["fields"]
    assert_error(post(client, {**body_for(world), "prefecture": "99"}), 404, "unknown_prefecture")
    assert_error(post(client, {**body_for(world), "prefecture": "x" * 10_000}), 422, "invalid")


def test_names_in_any_script_through_the_api(client, world):
    for index, (family, given_) in enumerate([("محمد", "عبد الله"), ("Иванов", "Йосиф"), ("王", "小明")]):
        response = post(
            client, body_for(world, family_names=family, given_names=given_, birth_date=f"198{index}-01-01")
        )
        assert response.status_code == 201, response.content
    assert set(AppointmentRequest.objects.values_list("family_names", flat=True)) == {"محمد", "Иванов", "王"}


def test_error_language_follows_accept_language_or_the_language_field(client, world):
    def required_message(language):
        with translation.override(language):
            return translation.gettext("This field is required.")

    by_field = post(client, body_for(world, family_names="", language="en"), **{"Accept-Language": "ar"})
    by_header = post(client, body_for(world, family_names="", language=...), **{"Accept-Language": "ar"})
    in_french = post(client, body_for(world, family_names="", language=...), **{"Accept-Language": "fr"})
    english = assert_error(by_field, 422, "invalid")["fields"]["family_names"]
    arabic = assert_error(by_header, 422, "invalid")["fields"]["family_names"]
    french = assert_error(in_french, 422, "invalid")["fields"]["family_names"]
    assert english == [required_message("en")]
    assert arabic == [required_message("ar")] and arabic != english
    assert french == [required_message("fr")] and french != english


def test_the_language_field_becomes_the_language_of_messages(client, world):
    response = post(client, body_for(world, language="ar"), **{"Accept-Language": "en"})
    assert response.status_code == 201
    assert AppointmentRequest.objects.get().language == "ar"


def test_status_needs_the_token_and_answers_the_same_for_unknown_and_wrong(client, world):
    filed = post(client, body_for(world)).json()
    reference, token = filed["reference"], filed["access_token"]

    response = client.get(f"{URL}/{reference}", headers={"X-Access-Token": token})
    assert response.status_code == 200, response.content
    payload = response.json()
    assert payload["reference"] == reference and payload["status"] == "waiting"
    assert payload["queue_position"] == 1 and payload["overdue"] is False
    # When it was counted, in the prefecture's time, in the person's language (French here).
    counted = datetime.datetime.fromisoformat(payload["queue_position_as_of"]).astimezone(
        world.prefecture.tzinfo
    )
    assert payload["queue_position_note"].startswith(f"Calculé à {counted:%H:%M}. ")
    assert payload["offers"] == [] and payload["appointment"] is None
    assert payload["due_date"] == filed["due_date"] and payload["due_reason_label"]
    assert payload["procedure"]["code"] == "first-permit" and payload["sites"] == []

    by_query = client.get(f"{URL}/{reference.lower()}?token={token}")
    assert by_query.status_code == 200 and by_query.json()["reference"] == reference

    assert_error(client.get(f"{URL}/{reference}"), 401, "token_required")
    wrong = assert_error(
        client.get(f"{URL}/{reference}", headers={"X-Access-Token": "x" * 32}), 404, "not_found"
    )
    from guichet.waitlist.references import new_reference

    unknown = assert_error(
        client.get(f"{URL}/{new_reference('93')}", headers={"X-Access-Token": token}), 404, "not_found"
    )
    assert wrong == unknown
    typo = reference[:-1] + ("2" if reference[-1] != "2" else "3")
    assert_error(client.get(f"{URL}/{typo}", headers={"X-Access-Token": token}), 422, "invalid_reference")
    assert_error(
        client.get(f"{URL}/{'x' * 10_000}", headers={"X-Access-Token": token}), 422, "invalid_reference"
    )


def test_status_shows_offers_and_the_appointment(client, world):
    from guichet.appointments.models import Appointment, Offer
    from guichet.capacity.models import Slot
    from tests import factories

    data = validate_intake(raw_request(world), world.prefecture, channel="web")
    result = file_request(data, prefecture=world.prefecture, channel="web", actor=APPLICANT)
    counter = factories.counter(world.sites[0])
    start = timezone.now() + datetime.timedelta(days=3)
    slot = Slot.objects.create(
        counter=counter, starts_at=start, ends_at=start + datetime.timedelta(minutes=20)
    )
    now = timezone.now()
    offer = Offer.objects.create(
        request=result.request,
        slot=slot,
        status="accepted",
        created_at=now,
        expires_at=now + datetime.timedelta(days=2),
    )
    Appointment.objects.create(
        request=result.request,
        slot=slot,
        offer=offer,
        counter=counter,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        confirmed_at=now,
    )
    AppointmentRequest.objects.filter(pk=result.request.pk).update(status=RequestStatus.SCHEDULED)
    response = client.get(
        f"{URL}/{result.request.reference}", headers={"X-Access-Token": result.access_token}
    )
    assert response.status_code == 200, response.content
    payload = response.json()
    assert payload["status"] == "scheduled" and payload["queue_position"] is None
    assert payload["queue_position_as_of"] is None and payload["queue_position_note"] == ""
    assert [item["id"] for item in payload["offers"]] == [offer.pk]
    assert payload["offers"][0]["site"]["name"] == "Bobigny"
    assert payload["appointment"]["id"] and payload["appointment"]["counter"] == counter.name
    assert "Bobigny" in payload["appointment"]["address"]


def test_openapi_documents_the_routes(client):
    document = client.get("/api/v1/openapi.json").json()
    for path in ("/api/v1/requests", "/api/v1/requests/{reference}", "/api/v1/procedures", "/api/v1/sites"):
        assert path in document["paths"], sorted(document["paths"])
    body = document["paths"]["/api/v1/requests"]["post"]["requestBody"]["content"]["application/json"][
        "schema"
    ]
    assert "family_names" in body["properties"]


def test_a_body_over_the_upload_limit_is_a_413(client, world, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    assert_error(post(client, body_for(world, needs_other="a" * 20_000)), 413, "too_large")
