"""The demo's day at reception: a few people of the synthetic queue convoked to today's free slots, so that
an agent can check them in from their convocation's QR code, call them and record their file.

Demo only (`manage.py demo`). The allocation never offers a slot inside a procedure's notice; here, for
the demonstration, each chosen person is offered one of today's free slots as the allocation writes an
offer (with its hold, its proof and its audit entry), and accepts it through the ordinary service. A run
convokes only while fewer than `wanted` people have an appointment today: running it again adds nothing.
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from guichet import locking
from guichet.appointments.models import ACTIVE_APPOINTMENT_STATUSES, Appointment, Offer, OfferSource
from guichet.appointments.services import accept_offer, slot_details
from guichet.capacity.models import Hold
from guichet.capacity.services import free_slots_query, slot_procedure_ids
from guichet.catalog.models import Prefecture, Procedure
from guichet.evidence.audit import APPLICANT, SYSTEM
from guichet.evidence.services import record_event
from guichet.waitlist.models import AppointmentRequest, RequestStatus

from .services import _day_bounds, local_day

LEAD = datetime.timedelta(minutes=5)


def convoke_today(
    prefecture: Prefecture, *, wanted: int = 6, now: datetime.datetime | None = None
) -> list[Appointment]:
    """Convoke people of the queue to today's free slots at the prefecture's first site; return all of
    today's active appointments there (those made now and before)."""
    now = now or timezone.now()
    site = prefecture.sites.filter(is_active=True).order_by("pk").first()
    if site is None:
        return []
    start, end = _day_bounds(site, local_day(site, now))
    today = Appointment.objects.filter(
        counter__site=site, starts_at__gte=start, starts_at__lt=end, status__in=ACTIVE_APPOINTMENT_STATUSES
    )
    missing = wanted - today.count()
    taken: set[int] = set()
    for slot in free_slots_query(prefecture, sites=[site.pk], after=now + LEAD, before=end)[:200]:
        if missing <= 0:
            break
        served = slot_procedure_ids(slot)
        request = (
            AppointmentRequest.objects.filter(
                prefecture=prefecture, status=RequestStatus.WAITING, procedure_id__in=served
            )
            .exclude(procedure__mode=Procedure.Mode.OPEN)
            .exclude(pk__in=taken)
            .order_by("due_date", "received_at", "pk")
            .first()
        )
        if request is None:
            continue
        taken.add(request.pk)
        accept_offer(_offer(request, slot, now), APPLICANT, now=now)
        missing -= 1
    return list(today.select_related("request", "counter").order_by("starts_at"))


def _offer(request: AppointmentRequest, slot, now: datetime.datetime) -> Offer:
    with transaction.atomic():
        request = locking.request(request.pk)
        slot = locking.slot(slot.pk)
        offer = Offer.objects.create(
            request=request,
            slot=slot,
            source=OfferSource.QUEUE,
            created_at=now,
            expires_at=min(now + datetime.timedelta(hours=1), slot.starts_at),
        )
        Hold.objects.create(slot=slot, request=request, kind=Hold.Kind.OFFER)
        request.status = RequestStatus.OFFERED
        request.status_changed_at = now
        request.save(update_fields=["status", "status_changed_at", "updated_at"])
        details = {**slot_details(slot), "offer": offer.pk, "expires_at": offer.expires_at}
        record_event(request, "offer_made", SYSTEM, details=details, at=now)
    return offer
