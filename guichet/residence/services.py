"""Which prefecture is competent for a person, from where they live (CESEDA R.431-20): the prefect of the
département of residence and, in Paris, the préfet de police.

Settings: PREFECTURE_DE_POLICE_DEPARTMENTS lists the départements whose residents go to the préfecture de
police (its code in Guichet is 75); by default Paris alone, as the article says.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from guichet import locking
from guichet.allocation.tasks import enqueue_allocation
from guichet.catalog.models import Prefecture, Procedure
from guichet.catalog.services import current_checklist
from guichet.dossiers.models import Document, DocumentStatus, Dossier, DossierState
from guichet.errors import Conflict, InvalidInput
from guichet.evidence import audit
from guichet.evidence.audit import Actor, Change
from guichet.evidence.services import chain_for, record_change, record_event
from guichet.notifications.services import notify
from guichet.waitlist import references
from guichet.waitlist.models import ACTIVE_STATUSES, AppointmentRequest, RequestStatus
from guichet.waitlist.services import close_request

from . import communes
from .models import Transfer

POSTAL_CODE = re.compile(r"^\d{5}$")
PREFECTURE_DE_POLICE = "75"


@dataclass(frozen=True)
class Routing:
    """Where a place of residence leads: its communes, the competent prefecture's code, and that
    prefecture when Guichet serves it."""

    communes: tuple[communes.Commune, ...]
    competent_code: str
    prefecture: Prefecture | None

    def is_competent(self, prefecture: Prefecture) -> bool:
        return prefecture.code == self.competent_code

    def procedure_like(self, procedure: Procedure) -> Procedure | None:
        """The competent prefecture's active procedure of the same kind, to file there instead."""
        if self.prefecture is None:
            return None
        return (
            Procedure.objects.filter(prefecture=self.prefecture, kind=procedure.kind, is_active=True)
            .order_by("name")
            .first()
        )


def competent_code(department: str) -> str:
    if department in settings.PREFECTURE_DE_POLICE_DEPARTMENTS:
        return PREFECTURE_DE_POLICE
    return department


def _refuse(field: str, message: str) -> InvalidInput:
    return InvalidInput("invalid", message, fields={field: [message]})


def route(*, postal_code: str = "", commune_code: str = "") -> Routing:
    """The competent prefecture for a commune (INSEE code) or a postal code. A postal code shared by
    communes of different départements needs the commune: the error lists them (field `commune`)."""
    if commune_code:
        commune = communes.by_code(commune_code)
        if commune is None:
            raise _refuse("commune", _("This commune is not in the list of communes."))
        found: tuple[communes.Commune, ...] = (commune,)
    else:
        postal_code = (postal_code or "").strip()
        if not POSTAL_CODE.match(postal_code):
            raise _refuse("postal_code", _("Give the 5 digits of your postal code, for example 93000."))
        found = communes.by_postal_code(postal_code)
        if not found:
            raise _refuse("postal_code", _("No commune has this postal code. Check it on your mail."))
    codes = {competent_code(commune.department) for commune in found}
    if len(codes) > 1:
        raise InvalidInput(
            "ambiguous",
            _("This postal code covers communes of several départements: choose your commune."),
            fields={"commune": [f"{c.code} {c.name}" for c in found]},
        )
    code = codes.pop()
    return Routing(
        communes=found, competent_code=code, prefecture=Prefecture.objects.filter(code=code).first()
    )


# --- transfer after a move ---------------------------------------------------------------------------------

MAX_REASON = 500


def transfer_request(
    request: AppointmentRequest,
    *,
    postal_code: str,
    commune_code: str = "",
    reason: str,
    actor: Actor,
    user=None,
) -> Transfer:
    """Move a request to the prefecture competent for the person's new residence.

    One transaction: the old request is closed with the reason the person reads (its chain records it,
    and the person and their partner organisations are told); the new one enters the new prefecture's
    queue with the same received time and due date, its own signed "received" proof naming the old
    request and its proofs, and the dossier follows it (documents to be reviewed again there). Both
    chains record the transfer."""
    reason = " ".join((reason or "").split())
    if not reason or len(reason) > MAX_REASON:
        raise _refuse("reason", _("Say why the request is transferred (at most 500 characters)."))
    routing = route(postal_code=postal_code, commune_code=commune_code)
    if routing.is_competent(request.prefecture):
        raise _refuse("postal_code", _("This address is in the same prefecture: nothing to transfer."))
    if routing.prefecture is None:
        raise _refuse(
            "postal_code",
            _(
                "The competent prefecture (département %(code)s) does not use Guichet: the person must file "
                "there directly."
            )
            % {"code": routing.competent_code},
        )
    procedure = routing.procedure_like(request.procedure)
    if procedure is None:
        raise Conflict(
            "no_procedure",
            _("%(prefecture)s has no procedure of this kind: it cannot receive the request.")
            % {"prefecture": routing.prefecture.name},
        )
    if not request.is_active:
        raise Conflict("not_active", _("Only an active request can be transferred."))
    token = references.new_access_token()
    with transaction.atomic():
        locking.request(request.pk)
        lock_chains(chain_for(request), routing.prefecture.code)
        old = close_request(request, actor, closing_reason(request, routing.prefecture, reason))
        new = _copy_into(old, routing.prefecture, procedure, token, user)
        old_proofs = list(old.proofs.order_by("issued_at", "id").values_list("pk", "event"))
        record_event(
            new,
            "received",
            actor,
            details={
                "transferred_from": old.reference,
                "from_prefecture": old.prefecture.code,
                "due_reason": new.due_reason,
            },
            audit_data={"previous_proofs": [{"id": pk, "event": event} for pk, event in old_proofs]},
        )
        transfer = Transfer.objects.create(
            from_request=old,
            to_request=new,
            postal_code=postal_code,
            reason=reason,
            at=timezone.now(),
            by=user,
        )
        _move_dossier(old, new)
        for chain, action, subject, other in (
            (old.prefecture.code, "residence.transferred_out", old, new),
            (new.prefecture.code, "residence.transferred_in", new, old),
        ):
            record_change(
                chain,
                Change(
                    action=action,
                    object_type="appointment_request",
                    object_id=subject.reference,
                    actor=actor,
                    request_id=subject.pk,
                    data={
                        "other": other.reference,
                        "other_prefecture": other.prefecture.code,
                        "transfer": transfer.pk,
                    },
                ),
            )
        notify(
            new,
            "received",
            {"due_date": new.due_date.isoformat(), "due_reason": new.due_reason, "access_token": token},
        )
        enqueue_allocation(new.prefecture_id)
    return transfer


def closing_reason(request: AppointmentRequest, prefecture: Prefecture, reason: str) -> str:
    """The closing reason the person reads, in the person's language (the acting agent may use another):
    the agent's own words are quoted as typed."""
    with translation.override(request.language):
        return _("Transferred to %(prefecture)s after a move: %(reason)s") % {
            "prefecture": prefecture.name,
            "reason": reason,
        }


def lock_chains(*chains: str) -> None:
    """Lock the heads of both prefectures' audit chains, in a fixed order (by code), before anything is
    appended to either.

    A transfer appends to two chains. Without this, a transfer 93 → 75 holding a head of 93 and waiting for
    one of 75 and a transfer 75 → 93 holding one of 75 and waiting for one of 93 wait for each other for ever
    (PostgreSQL aborts one: a deadlock) whenever no other strand of the second chain is free (always, with
    AUDIT_CHAIN_STRANDS=1). Taken in code order, the second transfer waits for the first one's whole
    transaction instead. The request row is locked before (docs/concurrency.md: audit heads come last);
    the appends of the transaction then reuse these heads, which it already holds."""
    for chain in sorted(set(chains)):
        audit.lock_chain(chain)


def _copy_into(old: AppointmentRequest, prefecture: Prefecture, procedure: Procedure, token: str, user):
    copied = {
        field: getattr(old, field)
        for field in (
            "family_names",
            "given_names",
            "birth_date",
            "nationality",
            "foreign_national_number",
            "passport_number",
            "identity_key",
            "foreign_number_key",
            "email",
            "phone",
            "postal_address",
            "language",
            "permit_expires_on",
            "interpreter_language",
            "needs_step_free",
            "needs_other",
            "unavailable_weekdays",
            "unavailable_dates",
            "earliest_date",
            "vulnerability_reason",
            "urgency_circumstances",
            "channel",
            "received_at",
            "due_date",
            "due_reason",
        )
    }
    now = timezone.now()
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return AppointmentRequest.objects.create(
                    prefecture=prefecture,
                    procedure=procedure,
                    reference=references.new_reference(prefecture.code),
                    access_token_hash=references.hash_token(token),
                    checklist_version=current_checklist(procedure),
                    status=RequestStatus.WAITING,
                    status_changed_at=now,
                    created_by=user,
                    **copied,
                )
        except IntegrityError:
            if AppointmentRequest.objects.filter(
                prefecture=prefecture,
                procedure=procedure,
                identity_key=old.identity_key,
                status__in=ACTIVE_STATUSES,
            ).exists():
                raise Conflict(
                    "duplicate",
                    _("This person already has an active request for this procedure in %(prefecture)s.")
                    % {"prefecture": prefecture.name},
                ) from None
    raise RuntimeError("could not draw a free reference")


def _move_dossier(old: AppointmentRequest, new: AppointmentRequest) -> None:

    dossier = Dossier.objects.filter(request=old).first()
    if dossier is None:
        return
    dossier.request = new
    has_documents = dossier.documents.filter(replaced_at__isnull=True).exists()
    dossier.state = DossierState.SUBMITTED if has_documents else DossierState.IN_PROGRESS
    dossier.state_changed_at = timezone.now()
    dossier.revision += 1
    dossier.save(update_fields=["request", "state", "state_changed_at", "revision"])
    # The new prefecture reviews the documents itself.
    Document.objects.filter(dossier=dossier, replaced_at__isnull=True).update(
        status=DocumentStatus.PENDING, reason="", reviewed_by=None, reviewed_at=None
    )
