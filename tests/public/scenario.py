"""Requests in every state the applicant's pages show, made through the real services where they exist.

Intake is the real one (so tokens and references are real); slots come from the opening rules; offers are
written as the allocation writes them (offer + hold), so each test chooses exactly which request holds
which slot.
"""

from __future__ import annotations

import datetime
import itertools
from dataclasses import dataclass, field

from django.utils import timezone

from guichet.appointments.models import Appointment, Offer, OfferSource, OfferStatus
from guichet.capacity.models import Hold, Slot
from guichet.evidence.audit import APPLICANT
from guichet.waitlist.models import AppointmentRequest, Channel, RequestStatus
from tests.factories import World

BIRTH_DATE = "1990-05-04"
_names = itertools.count()
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _name(prefix: str) -> str:
    number = next(_names)
    suffix = ""
    while True:
        number, digit = divmod(number, 26)
        suffix += _LETTERS[digit]
        if not number:
            return f"{prefix}{suffix}"


@dataclass
class Filed:
    request: AppointmentRequest
    token: str

    @property
    def reference(self) -> str:
        return self.request.reference

    def url(self, name: str = "status_by_link", language: str = "fr", **kwargs) -> str:
        from django.urls import reverse
        from django.utils import translation

        with translation.override(language):
            return reverse(
                f"public:{name}", kwargs={"reference": self.reference, "token": self.token, **kwargs}
            )

    def refresh(self) -> AppointmentRequest:
        self.request.refresh_from_db()
        return self.request


def file(world: World, procedure: str = "first", *, language: str = "fr", **raw) -> Filed:
    """A request filed through the real intake, as the web form would."""
    from guichet.waitlist.services import file_request
    from guichet.waitlist.validation import validate_intake

    data = {
        "procedure": world.procedures[procedure].code,
        "family_names": raw.pop("family_names", _name("Haddad")),
        "given_names": raw.pop("given_names", "Amina"),
        "birth_date": raw.pop("birth_date", BIRTH_DATE),
        "nationality": raw.pop("nationality", "DZ"),
        "email": raw.pop("email", "amina@example.org"),
        "language": language,
        **raw,
    }
    if world.procedures[procedure].is_renewal and "permit_expires_on" not in data:
        data["permit_expires_on"] = (timezone.localdate() + datetime.timedelta(days=90)).isoformat()
    intake = validate_intake(data, world.prefecture, channel=Channel.WEB)
    result = file_request(intake, prefecture=world.prefecture, channel=Channel.WEB, actor=APPLICANT)
    assert result.created
    return Filed(result.request, result.access_token)


def generate_slots(world: World, weeks: int = 3) -> None:
    from guichet.capacity.services import generate_slots as generate

    generate(world.prefecture, weeks=weeks)


def free_slot(world: World, procedure: str = "first", *, after_hours: int = 72) -> Slot:
    """The earliest free slot serving the procedure, far enough for any notice."""
    proc = world.procedures[procedure]
    return (
        Slot.objects.filter(
            rule__procedures=proc,
            hold__isnull=True,
            starts_at__gt=timezone.now() + datetime.timedelta(hours=after_hours),
        )
        .select_related("counter__site")
        .order_by("starts_at", "id")
        .first()
    )


def offer(filed: Filed, slot: Slot, *, hours: int = 48, source: str = OfferSource.QUEUE) -> Offer:
    """A pending offer with its hold, as the allocation writes it."""
    now = timezone.now()
    made = Offer.objects.create(
        request=filed.request,
        slot=slot,
        source=source,
        status=OfferStatus.PENDING,
        created_at=now,
        expires_at=now + datetime.timedelta(hours=hours),
    )
    Hold.objects.create(slot=slot, request=filed.request, kind=Hold.Kind.OFFER)
    AppointmentRequest.objects.filter(pk=filed.request.pk).update(status=RequestStatus.OFFERED)
    filed.refresh()
    return made


def schedule(filed: Filed, slot: Slot) -> Appointment:
    from guichet.appointments.services import accept_offer

    appointment = accept_offer(offer(filed, slot), APPLICANT)
    filed.refresh()
    return appointment


@dataclass
class Scenario:
    world: World
    waiting: Filed
    offered: Filed
    scheduled: Filed
    paused: Filed
    choosing: Filed
    offer: Offer
    appointment: Appointment
    extra: dict = field(default_factory=dict)


def build(world: World) -> Scenario:
    """One request in each state, slots generated for three weeks."""
    generate_slots(world)
    waiting = file(world, "first")
    offered = file(world, "first", language="ar")
    made_offer = offer(offered, free_slot(world, "first"))
    scheduled = file(world, "renewal")
    appointment = schedule(scheduled, free_slot(world, "renewal"))
    paused = file(world, "first")
    AppointmentRequest.objects.filter(pk=paused.request.pk).update(
        status=RequestStatus.PAUSED, consecutive_lapses=2
    )
    paused.refresh()
    choosing = file(world, "collection")
    return Scenario(world, waiting, offered, scheduled, paused, choosing, made_offer, appointment)
