"""Requests, slots and offers made directly with the models, for the allocation and appointment tests.

Intake (guichet.waitlist) and slot generation (guichet.capacity) have their own tests; these builders let
the tests here choose exact due dates, contacts and slot times.
"""

from __future__ import annotations

import datetime
import hashlib
import itertools

from django.utils import timezone

from guichet.appointments.models import Appointment, AppointmentStatus, Offer, OfferSource, OfferStatus
from guichet.appointments.services import accept_offer
from guichet.capacity.models import Hold, Slot
from guichet.capacity.services import generate_slots
from guichet.catalog.models import Counter
from guichet.evidence.audit import APPLICANT
from guichet.waitlist.models import AppointmentRequest, Channel, DueReason, RequestStatus
from guichet.waitlist.references import new_reference
from tests.factories import World

_numbers = itertools.count(1)


def token_for(number: int) -> str:
    return f"secret-token-{number:06d}"


def request(
    world: World,
    procedure: str = "first",
    *,
    due_in_days: int = 30,
    received_at: datetime.datetime | None = None,
    status: str = RequestStatus.WAITING,
    email: str | None = None,
    phone: str = "",
    postal_address: str = "",
    sites: tuple = (),
    **fields,
) -> AppointmentRequest:
    """A request of the world's prefecture; `request.token` is its secret access token."""
    number = next(_numbers)
    now = timezone.now()
    received_at = received_at or now - datetime.timedelta(days=1)
    token = token_for(number)
    made = AppointmentRequest.objects.create(
        prefecture=world.prefecture,
        procedure=world.procedures[procedure],
        reference=fields.pop("reference", f"T-{number:06d}"),
        access_token_hash=hashlib.sha256(token.encode()).hexdigest(),
        family_names=f"Family {number}",
        given_names="Amina",
        birth_date=datetime.date(1990, 1, 1),
        nationality="DZ",
        identity_key=f"identity-{number}",
        email=f"person{number}@example.org" if email is None else email,
        phone=phone,
        postal_address=postal_address,
        channel=fields.pop("channel", Channel.WEB),
        received_at=received_at,
        due_date=fields.pop("due_date", (now + datetime.timedelta(days=due_in_days)).date()),
        due_reason=DueReason.TARGET_WAIT,
        status=status,
        status_changed_at=now,
        **fields,
    )
    if sites:
        made.sites.set(sites)
    made.token = token
    return made


def by_post(world: World, procedure: str = "first", **fields) -> AppointmentRequest:
    """Someone reachable only by post: no email, no phone."""
    return request(
        world, procedure, email="", phone="", postal_address="12 rue de la Paix\n93000 Bobigny", **fields
    )


def person(world: World, now: datetime.datetime, drawn: dict) -> AppointmentRequest:
    """A request made from a person a property test drew: procedure, due (days), received (minutes ago),
    sites ("any", "main", "annex", "both"), step_free, language, weekdays and by_post; and, when drawn,
    dates, earliest and expires (days from today, None for none) and status."""
    today = now.astimezone(world.prefecture.tzinfo).date()
    sites = {"any": (), "main": (world.sites[0],), "annex": (world.sites[1],), "both": tuple(world.sites)}

    def day(offset: int | None) -> datetime.date | None:
        return None if offset is None else today + datetime.timedelta(days=offset)

    fields = {
        "due_in_days": drawn["due"],
        "received_at": now - datetime.timedelta(minutes=drawn["received"]),
        "sites": sites[drawn["sites"]],
        "needs_step_free": drawn["step_free"],
        "interpreter_language": drawn["language"],
        "unavailable_weekdays": drawn["weekdays"],
        "earliest_date": day(drawn.get("earliest")),
    }
    if "dates" in drawn:
        fields["unavailable_dates"] = [str(day(offset)) for offset in drawn["dates"]]
    if "expires" in drawn:
        fields["permit_expires_on"] = day(drawn["expires"])
    if "status" in drawn:
        fields["status"] = drawn["status"]
    make = by_post if drawn["by_post"] else request
    return make(world, drawn["procedure"], **fields)


def slot(counter: Counter, starts_at: datetime.datetime, minutes: int = 30, rule=None) -> Slot:
    """A slot of this counter; it serves the procedures of the counter's first opening rule."""
    rule = rule if rule is not None else counter.opening_rules.order_by("pk").first()
    return Slot.objects.create(
        counter=counter,
        rule=rule,
        starts_at=starts_at,
        ends_at=starts_at + datetime.timedelta(minutes=minutes),
    )


def held(
    request: AppointmentRequest,
    counter: Counter,
    starts_at: datetime.datetime,
    status: str = AppointmentStatus.SERVED,
    minutes: int = 30,
) -> Appointment:
    """An appointment of this request on a new slot of the counter, confirmed the day before it starts."""
    return Appointment.objects.create(
        request=request,
        slot=slot(counter, starts_at, minutes),
        counter=counter,
        starts_at=starts_at,
        ends_at=starts_at + datetime.timedelta(minutes=minutes),
        status=status,
        confirmed_at=starts_at - datetime.timedelta(days=1),
    )


def at_local(counter: Counter, day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    """A wall-clock time at the counter's site, as an aware UTC datetime."""
    local = datetime.datetime.combine(day, datetime.time(hour, minute), counter.site.tzinfo)
    return local.astimezone(datetime.UTC)


def weekday_after(start: datetime.date, days: int) -> datetime.date:
    """The first Monday-to-Friday date at least `days` after `start`."""
    day = start + datetime.timedelta(days=days)
    while day.weekday() >= 5:
        day += datetime.timedelta(days=1)
    return day


def offer(
    req: AppointmentRequest,
    the_slot: Slot,
    *,
    now: datetime.datetime | None = None,
    hours: int = 48,
    source: str = OfferSource.QUEUE,
) -> Offer:
    """A pending offer with its hold, as the allocation writes it (request moved to offered)."""
    now = now or timezone.now()
    made = Offer.objects.create(
        request=req,
        slot=the_slot,
        source=source,
        status=OfferStatus.PENDING,
        created_at=now,
        expires_at=now + datetime.timedelta(hours=hours),
    )
    Hold.objects.create(slot=the_slot, request=req, kind=Hold.Kind.OFFER)
    AppointmentRequest.objects.filter(pk=req.pk).update(status=RequestStatus.OFFERED)
    req.status = RequestStatus.OFFERED
    return made


def generated_week_ahead(world: World, now: datetime.datetime) -> datetime.date:
    """Slots generated from the world's rules, and a weekday a week ahead (well past any notice)."""
    generate_slots(world.prefecture, now=now)
    return weekday_after(now.astimezone(world.prefecture.tzinfo).date(), 7)


def booked(
    world: World,
    day: datetime.date,
    now: datetime.datetime,
    *,
    hour: int = 9,
    minute: int = 0,
    counter: int = 0,
    **fields,
) -> Appointment:
    """An appointment its applicant accepted (the real service) on the generated slot of that counter, day
    and hour; the request has an email, a phone and a real reference (staff pages parse it)."""
    at = world.counters[counter]
    the_slot = Slot.objects.get(counter=at, starts_at=at_local(at, day, hour, minute))
    fields.setdefault("reference", new_reference(world.prefecture.code))
    req = request(world, phone=fields.pop("phone", "+33612345678"), **fields)
    return accept_offer(offer(req, the_slot, now=now), APPLICANT, now=now)
