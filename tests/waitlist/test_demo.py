"""Synthetic requests for the demo: many origins and scripts, all procedures, real keys, due dates, proofs."""

import time
import unicodedata

import pytest

from guichet.evidence.audit import verify_chain
from guichet.evidence.models import Proof
from guichet.waitlist import references
from guichet.waitlist.demo import file_synthetic_requests, synthetic_items
from guichet.waitlist.due_dates import compute_due_date
from guichet.waitlist.identity import identity_key
from guichet.waitlist.models import AppointmentRequest, Channel, DueReason
from guichet.waitlist.services import local_date
from guichet.waitlist.validation import validate_intake

pytestmark = pytest.mark.django_db

COUNT = 300


def scripts_of(text: str) -> set[str]:
    found = set()
    for char in text:
        if char.isalpha():
            found.add(unicodedata.name(char, "UNKNOWN").split()[0])
    return found


def as_raw(data) -> dict:
    return {
        "procedure": data.procedure.code,
        "sites": [site.pk for site in data.sites],
        "family_names": data.family_names,
        "given_names": data.given_names,
        "birth_date": data.birth_date.isoformat(),
        "nationality": data.nationality,
        "foreign_national_number": data.foreign_national_number,
        "passport_number": data.passport_number,
        "email": data.email,
        "phone": data.phone,
        "postal_address": data.postal_address,
        "language": data.language,
        "permit_expires_on": data.permit_expires_on.isoformat() if data.permit_expires_on else "",
        "interpreter_language": data.interpreter_language,
        "needs_step_free": data.needs_step_free,
        "needs_other": data.needs_other,
        "unavailable_weekdays": list(data.unavailable_weekdays),
        "unavailable_dates": [day.isoformat() for day in data.unavailable_dates],
        "earliest_date": data.earliest_date.isoformat() if data.earliest_date else "",
        "urgency_circumstances": data.urgency_circumstances,
        "vulnerability_reason": data.vulnerability_reason,
    }


def test_synthetic_data_passes_the_intake_validation(world):
    for data, _channel, _received_at in synthetic_items(world.prefecture, COUNT, seed=7):
        # Staff channel: the demo records vulnerabilities on any request, as staff would later.
        checked = validate_intake(as_raw(data), world.prefecture, channel="counter")
        assert checked == data


def test_synthetic_requests_make_a_varied_living_queue(world):
    started = time.perf_counter()
    created = file_synthetic_requests(world.prefecture, COUNT, seed=3)
    elapsed = time.perf_counter() - started
    assert created == AppointmentRequest.objects.count() >= COUNT - 2  # a rare identical person is skipped
    requests = list(AppointmentRequest.objects.select_related("prefecture", "procedure"))

    scripts = set().union(*(scripts_of(r.family_names + r.given_names) for r in requests))
    assert {"LATIN", "ARABIC", "CYRILLIC", "CJK"} <= scripts
    assert any("ı" in r.family_names + r.given_names or "ş" in r.family_names for r in requests)  # Turkish
    assert any("ñ" in r.family_names or "á" in r.family_names + r.given_names for r in requests)  # Spanish
    assert {r.procedure.code for r in requests} == set(
        world.procedures[name].code for name in world.procedures
    )
    assert {r.channel for r in requests} == set(Channel.values)
    assert any(r.vulnerability_reason for r in requests) and any(r.interpreter_language for r in requests)
    renewals = [r for r in requests if r.procedure.is_renewal]
    assert renewals and all(r.permit_expires_on for r in renewals)
    assert any(r.due_reason == DueReason.PERMIT_EXPIRY for r in renewals)
    ages = sorted(r.received_at for r in requests)
    assert (ages[-1] - ages[0]).days >= 30
    assert any(r.reachable_only_by_post for r in requests)

    for request in requests:
        assert references.parse_reference(request.reference) == request.reference
        assert request.identity_key == identity_key(
            request.family_names, request.given_names, request.birth_date
        )
        due = compute_due_date(
            local_date(request.received_at, request.prefecture),
            request.procedure,
            request.permit_expires_on,
            bool(request.vulnerability_reason),
        )
        assert (request.due_date, request.due_reason) == due
    assert Proof.objects.filter(event="received").count() == created
    assert verify_chain("93") == []
    assert elapsed < 15, f"{COUNT} synthetic requests took {elapsed:.1f} s"


def test_a_second_run_with_the_same_seed_adds_nobody(world):
    first = file_synthetic_requests(world.prefecture, 50, seed=5)
    assert first >= 48
    assert file_synthetic_requests(world.prefecture, 50, seed=5) == 0
    assert AppointmentRequest.objects.count() == first
