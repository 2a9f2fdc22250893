"""The evidence pages and the court-order pages, as (name, address) pairs, for the tests that visit them
all in both skins (layout, screenshots)."""

import datetime
import decimal

from django.urls import reverse
from django.utils import timezone, translation

from guichet.evidence import audit
from guichet.evidence.court_orders import record_court_order
from guichet.evidence.models import Proof

from .helpers import make_request


def _url(language: str, name: str, *args) -> str:
    with translation.override(language):
        return reverse(name, args=args or None)


def evidence_pages(world):
    """(pages(language), a proof's token): /verify, a proof, a request's proofs, reached with the token."""
    request, access = make_request(world, family_names="El Idrissi", given_names="Youssef")
    proof = Proof.objects.get(request=request)

    def pages(language: str) -> list[tuple[str, str]]:
        query = f"?token={access}"
        return [
            ("verify", _url(language, "evidence:verify")),
            ("proof", _url(language, "evidence:proof", proof.pk) + query),
            ("request-proofs", _url(language, "evidence:request_proofs", request.reference) + query),
        ]

    return pages, proof.token


def court_order_pages(world):
    """pages(language): the court orders' list, one order, and the form to record one (staff pages)."""
    today = timezone.localdate()
    ordered, _access = make_request(
        world, family_names="Haddad", received_at=timezone.now() - datetime.timedelta(days=40)
    )
    other, _access = make_request(world, family_names="Nguyen")
    order = record_court_order(
        ordered,
        tribunal="Tribunal administratif de Montreuil",
        case_number="2601234",
        ordered_on=today - datetime.timedelta(days=3),
        notified_on=today - datetime.timedelta(days=1),
        convoke_by=today + datetime.timedelta(days=5),
        appointment_by=today + datetime.timedelta(days=15),
        penalty_per_day=decimal.Decimal("50"),
        actor=audit.Actor("staff", "manager-93"),
    )

    def pages(language: str) -> list[tuple[str, str]]:
        return [
            ("court-orders", _url(language, "backoffice:court_orders")),
            ("court-order", _url(language, "backoffice:court_order", order.pk)),
            ("court-order-new", _url(language, "backoffice:court_order_new", other.reference)),
        ]

    return pages
