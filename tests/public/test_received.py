"""The receipt page right after filing: reference, due date and why, the private link, the signed proof."""

import pytest
from django.conf import settings
from django.utils.html import escape

from guichet.evidence.models import Proof
from tests.public import scenario as scenarios

pytestmark = pytest.mark.django_db


def test_receipt_shows_reference_due_date_reason_link_and_proof(client, world):
    filed = scenarios.file(world, "renewal")
    body = client.get(filed.url("received", "en")).content.decode()
    request = filed.request
    assert request.reference in body
    assert str(request.due_date.year) in body
    assert escape(request.get_due_reason_display()) in body
    # The private link, absolute (SITE_URL), to bookmark; shown only when opened with the token itself.
    assert f"{settings.SITE_URL}{filed.url(language='en')}" in body
    proof = Proof.objects.get(request=request, event="received")
    assert proof.request_id == request.pk
    assert f"/en/requests/{request.reference}/proofs/?token={filed.token}" in body


def test_receipt_opened_with_a_short_lived_key_does_not_show_a_private_link(client, world):
    from guichet.waitlist import access

    filed = scenarios.file(world, "first")
    key = access.signed_key(filed.reference)
    body = client.get(f"/en/r/{filed.reference}/{key}/received/").content.decode()
    assert filed.reference in body and 'id="secret-link"' not in body


def test_open_mode_receipt_invites_to_pick_a_slot(client, world):
    filed = scenarios.file(world, "collection")
    body = client.get(filed.url("received", "en")).content.decode()
    assert filed.url("open_slots", "en") in body


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("status_by_link", {}),
        ("received", {}),
        ("contact", {}),
        ("withdraw", {}),
        ("reactivate", {}),
        ("appointment", {}),
        ("convocation_pdf", {}),
        ("appointment_ics", {}),
        ("appointment_cancel", {}),
        ("open_slots", {}),
        ("offer_decline", {"offer_id": 1}),
    ],
)
def test_every_page_of_a_request_is_404_with_a_wrong_key(client, world, name, kwargs):
    from django.urls import reverse

    filed = scenarios.file(world, "first")
    url = reverse(f"public:{name}", kwargs={"reference": filed.reference, "token": "wrong", **kwargs})
    assert client.get(url).status_code == 404
