"""Interim documents (DOMAIN.md §4, R5, R14): the récépissé, the attestation de prolongation d'instruction
and the L.433-3 statement, each a signed proof of the request (verifiable at /verify and with openssl) with
its own PDF.

- Récépissé (CESEDA R.431-12): given when a complete file is registered, for the duration its procedure
  sets (InterimRule; by default 4 months for a first application or a change of status, 3 for a renewal,
  counted from the day after the current permit expires when that is later), work and travel as set.
- Attestation de prolongation d'instruction (R.431-15-1): at most 3 months each, renewable until the
  decision, only for a complete file; each one starts the day after the previous document ends, so that
  the person is never without a document.
- L.433-3 statement: an expired card whose renewal was filed stays valid up to 3 months, with its rights.

Every issuance locks the request (its documents are numbered per request and kind) and writes the document,
its proof and the audit entry in one transaction. Nothing is issued once a final decision is recorded.
"""

from __future__ import annotations

import calendar
import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from guichet import locking
from guichet.catalog.models import Prefecture, Procedure
from guichet.errors import Conflict, InvalidInput
from guichet.evidence.audit import SYSTEM, Actor
from guichet.evidence.services import record_event
from guichet.notifications.services import notify
from guichet.waitlist.models import AppointmentRequest

from .models import (
    FINAL_OUTCOMES,
    Decision,
    FileRegistration,
    InterimDocument,
    InterimKind,
    InterimRule,
)

MAX_PROLONGATION_MONTHS = 3  # R.431-15-1
GRACE_MONTHS = 3  # L.433-3
PROOF_EVENTS = {
    InterimKind.RECEPISSE: "recepisse",
    InterimKind.PROLONGATION: "prolongation",
    InterimKind.GRACE: "grace_period",
}


@dataclass(frozen=True)
class RuleValues:
    months: int
    work_allowed: bool
    travel_allowed: bool


# Until a manager sets the procedure's rule: what R.431-12 and practice give by kind of procedure.
DEFAULT_RULES = {
    Procedure.Kind.FIRST_PERMIT: RuleValues(4, False, False),
    Procedure.Kind.CHANGE_OF_STATUS: RuleValues(4, False, False),
    Procedure.Kind.RENEWAL: RuleValues(3, True, True),
    Procedure.Kind.RECEIPT: RuleValues(3, True, True),
    Procedure.Kind.DUPLICATE: RuleValues(3, True, False),
}
NO_RECEPISSE = RuleValues(0, False, False)


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day `months` later (the month's last day when it has no such day), minus one day: a
    document valid 3 months from 10 March is valid until 9 June inclusive."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    same = datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
    return same - datetime.timedelta(days=1)


def rule_for(procedure: Procedure) -> RuleValues:
    rule = InterimRule.objects.filter(procedure=procedure).first()
    if rule is not None:
        return RuleValues(rule.recepisse_months, rule.work_allowed, rule.travel_allowed)
    return DEFAULT_RULES.get(procedure.kind, NO_RECEPISSE)


def _today(request: AppointmentRequest, now: datetime.datetime) -> datetime.date:
    return now.astimezone(request.prefecture.tzinfo).date()


def final_decision(request: AppointmentRequest) -> Decision | None:
    return Decision.objects.filter(request=request, outcome__in=FINAL_OUTCOMES).first()


def _require_open_file(request: AppointmentRequest) -> None:
    if not FileRegistration.objects.filter(request=request, complete=True).exists():
        raise Conflict(
            "file_not_complete", _("Interim documents are given only once a complete file is registered.")
        )
    if final_decision(request) is not None:
        raise Conflict("decided", _("A decision has been made on this file: no interim document is given."))


def _issue(
    request: AppointmentRequest,
    kind: InterimKind,
    valid_from: datetime.date,
    valid_until: datetime.date,
    rule: RuleValues,
    actor: Actor,
    user,
    now: datetime.datetime,
) -> InterimDocument:
    number = InterimDocument.objects.filter(request=request, kind=kind).count() + 1
    details = {
        "document": kind.value,
        "number": number,
        "valid_from": valid_from,
        "valid_until": valid_until,
        "work_allowed": rule.work_allowed,
        "travel_allowed": rule.travel_allowed,
    }
    proof = record_event(request, PROOF_EVENTS[kind], actor, details=details, at=now)
    return InterimDocument.objects.create(
        request=request,
        kind=kind,
        number=number,
        proof=proof,
        valid_from=valid_from,
        valid_until=valid_until,
        work_allowed=rule.work_allowed,
        travel_allowed=rule.travel_allowed,
        issued_at=proof.issued_at,
        issued_by=user,
    )


def issue_on_registration(
    request: AppointmentRequest, actor: Actor, *, user=None, now: datetime.datetime | None = None
) -> InterimDocument | None:
    """The récépissé of a complete file, when its procedure gives one (called by outcomes.register_file)."""
    now = now or timezone.now()
    rule = rule_for(request.procedure)
    if rule.months == 0:
        return None
    with transaction.atomic():
        request = locking.request(request.pk)
        _require_open_file(request)
        if InterimDocument.objects.filter(request=request, kind=InterimKind.RECEPISSE).exists():
            raise Conflict("recepisse_exists", _("A récépissé has already been issued for this file."))
        start = _today(request, now)
        if request.procedure.is_renewal and request.permit_expires_on and request.permit_expires_on >= start:
            # A renewal's récépissé runs from the day after the current permit expires (R.431-12).
            start = request.permit_expires_on + datetime.timedelta(days=1)
        return _issue(
            request, InterimKind.RECEPISSE, start, add_months(start, rule.months), rule, actor, user, now
        )


def _continues_from(request: AppointmentRequest, today: datetime.date) -> datetime.date:
    latest = InterimDocument.objects.filter(request=request).order_by("-valid_until").first()
    if latest is not None and latest.valid_until >= today:
        return latest.valid_until + datetime.timedelta(days=1)
    return today


def issue_prolongation(
    request: AppointmentRequest,
    actor: Actor,
    *,
    months: int = MAX_PROLONGATION_MONTHS,
    user=None,
    now: datetime.datetime | None = None,
) -> InterimDocument:
    """An attestation de prolongation d'instruction: at most 3 months, following the last document."""
    if not isinstance(months, int) or isinstance(months, bool) or not 1 <= months <= MAX_PROLONGATION_MONTHS:
        message = _("An attestation lasts 1 to %(max)d months.") % {"max": MAX_PROLONGATION_MONTHS}
        raise InvalidInput("invalid_months", message, {"months": [message]})
    now = now or timezone.now()
    with transaction.atomic():
        request = locking.request(request.pk)
        _require_open_file(request)
        start = _continues_from(request, _today(request, now))
        rule = rule_for(request.procedure)
        return _issue(
            request, InterimKind.PROLONGATION, start, add_months(start, months), rule, actor, user, now
        )


def issue_grace_statement(
    request: AppointmentRequest, actor: Actor, *, user=None, now: datetime.datetime | None = None
) -> InterimDocument:
    """The L.433-3 statement: the expired card stays valid three months after its expiry, with its rights."""
    now = now or timezone.now()
    with transaction.atomic():
        request = locking.request(request.pk)
        if not request.procedure.is_renewal or request.permit_expires_on is None:
            raise Conflict(
                "not_a_renewal",
                _("The L.433-3 statement is for the renewal of a card whose expiry is known."),
            )
        _require_open_file(request)
        if InterimDocument.objects.filter(request=request, kind=InterimKind.GRACE).exists():
            raise Conflict("grace_exists", _("The L.433-3 statement has already been issued for this file."))
        start = request.permit_expires_on + datetime.timedelta(days=1)
        rights = RuleValues(GRACE_MONTHS, True, True)
        return _issue(
            request, InterimKind.GRACE, start, add_months(start, GRACE_MONTHS), rights, actor, user, now
        )


# --- expiry -------------------------------------------------------------------------------------------------


def expiring(
    prefecture: Prefecture, *, today: datetime.date | None = None, days: int | None = None
) -> list[InterimDocument]:
    """Documents ending within `days` (INTERIM_EXPIRY_NOTICE_DAYS) with no decision and no later document:
    the people who will be without a document unless an agent acts."""
    today = today or timezone.now().astimezone(prefecture.tzinfo).date()
    days = settings.INTERIM_EXPIRY_NOTICE_DAYS if days is None else days
    later = InterimDocument.objects.filter(
        request=OuterRef("request"), valid_until__gt=OuterRef("valid_until")
    )
    decided = Decision.objects.filter(request=OuterRef("request"), outcome__in=FINAL_OUTCOMES)
    return list(
        InterimDocument.objects.filter(
            request__prefecture=prefecture,
            valid_until__gte=today,
            valid_until__lte=today + datetime.timedelta(days=days),
        )
        .filter(~Q(Exists(later)), ~Q(Exists(decided)))
        .select_related("request__procedure")
        .order_by("valid_until", "id")
    )


def remind_expiring(*, now: datetime.datetime | None = None) -> int:
    """Tell each person whose document is about to end (once per document); return how many were told."""
    now = now or timezone.now()
    told = 0
    for prefecture in Prefecture.objects.all():
        for document in expiring(prefecture, today=now.astimezone(prefecture.tzinfo).date()):
            if document.reminded_at is not None:
                continue
            with transaction.atomic():
                updated = InterimDocument.objects.filter(pk=document.pk, reminded_at__isnull=True).update(
                    reminded_at=now
                )
                if updated:
                    notify(
                        document.request,
                        "interim_expiring",
                        {"document_id": document.pk, "valid_until": document.valid_until.isoformat()},
                    )
                    record_event(
                        document.request,
                        "interim_reminder",
                        SYSTEM,
                        audit_data={"document": document.pk, "valid_until": document.valid_until},
                        at=now,
                        proof=False,
                    )
                    told += 1
    return told
