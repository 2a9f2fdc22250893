"""Privacy services: the daily purge, an erasure asked by the person, the end of a court case.

Each writes its audit entries in its own transaction: one `request.erased` entry per request on its
prefecture's chain, and for the purge one `privacy.purge` entry on the platform chain with the counts by type
(never any data).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guichet import locking
from guichet.errors import Conflict, InvalidInput
from guichet.evidence import audit
from guichet.evidence.audit import Actor, Change
from guichet.evidence.models import CourtOrder
from guichet.evidence.services import record_event
from guichet.waitlist.models import AppointmentRequest

from . import erasure, retention
from .models import RightsRequest

BATCH = 200


class Cause:
    RETENTION = "retention"
    PERSONS_REQUEST = "persons_request"


@dataclass
class PurgeReport:
    """What one purge removed: requests erased and items by data type (erasure.DATA_TYPES)."""

    at: datetime.datetime
    requests: int = 0
    removed: dict[str, int] = field(default_factory=lambda: {t.code: 0 for t in erasure.DATA_TYPES})

    def add(self, counts: dict[str, int]) -> None:
        for code, count in counts.items():
            self.removed[code] += count

    def lines(self) -> list[str]:
        return [f"{self.requests} request(s) erased"] + [
            f"{t.code}: {self.removed[t.code]} ({t.label})" for t in erasure.DATA_TYPES
        ]


def _erase_locked(
    requests: list[AppointmentRequest], at: datetime.datetime, actor: Actor, cause: str
) -> dict[str, int]:
    """Erase requests already locked, and audit each on its prefecture's chain."""
    counts = erasure.erase([r.pk for r in requests], at)
    by_chain: dict[str, list[Change]] = {}
    for request in requests:
        by_chain.setdefault(request.prefecture.code, []).append(
            Change(
                "request.erased",
                "appointment_request",
                request.reference,
                actor,
                request_id=request.pk,
                data={
                    "cause": cause,
                    "status": request.status,
                    "status_changed_at": request.status_changed_at,
                },
            )
        )
    for chain in sorted(by_chain):
        audit.append(chain, by_chain[chain], at=at)
    return counts


def purge_personal_data(now: datetime.datetime | None = None, batch_size: int = BATCH) -> PurgeReport:
    """Erase every request whose retention periods are over (retention.due_for_erasure). Idempotent.

    Batches lock their requests (skipping those another transaction holds: the next run takes them) and
    check again under the lock. The report is audited on the platform chain even when nothing was due, so
    that the log shows the purge ran.
    """
    now = (now or timezone.now()).replace(microsecond=0)
    report = PurgeReport(at=now)
    candidates = list(retention.due_for_erasure(now).order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(candidates), batch_size):
        with transaction.atomic():
            locked = locking.requests(candidates[start : start + batch_size], skip_locked=True)
            due = list(
                retention.due_for_erasure(now)
                .filter(pk__in=locked)
                .select_related("prefecture")
                .order_by("pk")
            )
            if due:
                report.add(_erase_locked(due, now, audit.SYSTEM, Cause.RETENTION))
                report.requests += len(due)
    with transaction.atomic():
        audit.record(
            audit.PLATFORM_CHAIN,
            Change(
                "privacy.purge",
                "purge",
                now.date().isoformat(),
                audit.SYSTEM,
                data={
                    "requests": report.requests,
                    "removed": report.removed,
                    "retention_after_end_days": settings.RETENTION_AFTER_END_DAYS,
                    "retention_after_court_case_days": settings.RETENTION_AFTER_COURT_CASE_DAYS,
                },
            ),
        )
    return report


def erase_now(
    request: AppointmentRequest, actor: Actor, now: datetime.datetime | None = None
) -> dict[str, int]:
    """Erase one request before its period ends, because its person asked (GDPR art. 17).

    The legal limits (docs/privacy.md, "The person's rights"): an active request is not erased (the person
    withdraws it first, or it would lose its place without a word), nor one whose court case is pending or
    recently ended (art. 17.3.e: the data is the evidence of a legal claim).
    """
    now = (now or timezone.now()).replace(microsecond=0)
    with transaction.atomic():
        locked = locking.request(request.pk)
        _check_erasable(locked, now)
        return _erase_locked([locked], now, actor, Cause.PERSONS_REQUEST)


def _check_erasable(request: AppointmentRequest, now: datetime.datetime | None = None) -> None:
    if request.erased_at is not None:
        raise Conflict("already_erased", _("This request is already erased."))
    phase = retention.phase_of(request, now)
    if phase == retention.Phase.ACTIVE:
        raise Conflict(
            "active", _("This request is in progress: it must be withdrawn or closed before it is erased.")
        )
    if phase == retention.Phase.COURT_CASE:
        raise Conflict(
            "court_case",
            _("A court case about this request is pending or recently ended: data kept meanwhile."),
        )


def record_court_case_end(order: CourtOrder, ended_on: datetime.date, actor: Actor) -> CourtOrder:
    """The case of a court order has ended (final decision, withdrawal): its retention period starts."""
    if ended_on < order.ordered_on or ended_on > timezone.localdate():
        raise InvalidInput(
            "invalid_date",
            _("The case ends between the date of the order and today."),
            fields={"ended_on": [_("Give a date between the order and today.")]},
        )
    with transaction.atomic():
        locking.request(order.request_id)
        CourtOrder.objects.filter(pk=order.pk).update(case_ended_on=ended_on)
        order.refresh_from_db()
        audit.append(
            order.request.prefecture.code,
            [
                Change(
                    "court_order.case_ended",
                    "court_order",
                    str(order.pk),
                    actor,
                    request_id=order.request_id,
                    data={"ended_on": ended_on},
                )
            ],
        )
    return order


# --- the person's requests about their data --------------------------------------------------------------

MESSAGE_LIMIT = 2000


def ask(
    request: AppointmentRequest, kind: str, message: str, actor: Actor = audit.APPLICANT
) -> RightsRequest:
    """The person asks to correct or erase their data; staff answer (answer_rights_request). Audited."""

    if kind not in RightsRequest.Kind.values:
        raise InvalidInput(
            "invalid_kind", _("Choose what you ask."), fields={"kind": [_("Choose what you ask.")]}
        )
    message = " ".join(message.split()) if kind == RightsRequest.Kind.ERASURE else message.strip()
    if kind == RightsRequest.Kind.RECTIFICATION and not message:
        raise InvalidInput(
            "message_required",
            _("Say what is wrong and what it should be."),
            fields={"message": [_("Say what is wrong and what it should be.")]},
        )
    if len(message) > MESSAGE_LIMIT:
        raise InvalidInput(
            "too_long",
            _("Your message is too long."),
            fields={"message": [_("Write at most 2,000 characters.")]},
        )
    with transaction.atomic():
        locked = locking.request(request.pk)
        if RightsRequest.objects.filter(request=locked, kind=kind, status=RightsRequest.Status.OPEN).exists():
            raise Conflict("already_asked", _("You already asked this; the prefecture will answer."))
        asked = RightsRequest.objects.create(
            request=locked, kind=kind, message=message, received_at=timezone.now().replace(microsecond=0)
        )
        record_event(
            locked,
            "rights_requested",
            actor,
            audit_data={"rights_request": asked.pk, "kind": kind, "note": message},
            proof=False,
        )
    return asked


def answer(rights_request: RightsRequest, *, decision: str, text: str, user) -> RightsRequest:
    """Staff answer a person's request. Granting an erasure erases at once, within the legal limits
    (erase_now refuses an active request or one held by a court case; the refusal is what staff then
    answer, with its reason)."""

    if decision not in (RightsRequest.Status.GRANTED, RightsRequest.Status.REFUSED):
        raise InvalidInput(
            "invalid_decision", _("Choose an answer."), fields={"decision": [_("Choose an answer.")]}
        )
    text = text.strip()
    if decision == RightsRequest.Status.REFUSED and not text:
        raise InvalidInput(
            "reason_required",
            _("A refusal states its reason and the person's recourse (the CNIL)."),
            fields={"text": [_("Give the reason of the refusal.")]},
        )
    actor = Actor("staff", label=user.get_username(), user_id=user.pk)
    erase = decision == RightsRequest.Status.GRANTED and rights_request.kind == RightsRequest.Kind.ERASURE
    with transaction.atomic():
        locked = locking.request(rights_request.request_id)
        current = RightsRequest.objects.select_for_update().get(pk=rights_request.pk)
        if current.status != RightsRequest.Status.OPEN:
            raise Conflict("already_answered", _("This request was already answered."))
        if erase:
            _check_erasable(locked)
        current.status, current.answer = decision, text
        current.answered_at, current.answered_by = timezone.now().replace(microsecond=0), user
        current.save(update_fields=["status", "answer", "answered_at", "answered_by"])
        record_event(
            locked,
            "rights_answered",
            actor,
            audit_data={
                "rights_request": current.pk,
                "kind": current.kind,
                "decision": decision,
                "note": text,
            },
            proof=False,
        )
    if erase:
        erase_now(locked, actor)
        current.refresh_from_db()
    return current
