"""Partner organisations: application and approval, members, mandates, copies of notices, and the
« impossibilité constatée » (CESEDA R.431-2). Every change is audited with who did it and why."""

import datetime
import uuid

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guichet.accounts import permissions
from guichet.accounts import services as accounts
from guichet.accounts.models import Role
from guichet.catalog.models import Prefecture
from guichet.errors import Conflict, Forbidden, InvalidInput, NotFound
from guichet.evidence import audit
from guichet.evidence.audit import Change
from guichet.evidence.services import record_change, record_event
from guichet.waitlist.models import AppointmentRequest, Channel
from guichet.waitlist.services import file_request
from guichet.waitlist.validation import clean_text

from .models import (
    ConsentMethod,
    ImpossibilityRecord,
    Mandate,
    MandateStatus,
    OrganisationKind,
    OrganisationStatus,
    PartnerMember,
    PartnerOrganisation,
    RevokedBy,
)
from .uploads import check_mandate_form

MAX_CIRCUMSTANCES = 2000


def _audit_org(organisation: PartnerOrganisation, action: str, actor, data: dict | None = None) -> None:
    record_change(
        organisation.prefecture.code,
        Change(
            action,
            "partner_organisation",
            str(organisation.pk),
            actor,
            data={"name": organisation.name, **(data or {})},
        ),
    )


def _require_admin(by, organisation: PartnerOrganisation) -> None:
    if not permissions.has_role(by, organisation.prefecture_id, Role.PREFECTURE_ADMIN):
        raise Forbidden("forbidden", _("Only an administrator of this prefecture can decide on partners."))


def _member_of(by, organisation: PartnerOrganisation, *, admin: bool = False) -> PartnerMember:
    member = permissions.partner_member(by)
    if member is None or member.organisation_id != organisation.pk or (admin and not member.is_admin):
        raise Forbidden("forbidden", _("You do not act for this organisation."))
    return member


# --- organisations ---------------------------------------------------------------------------------------


def apply(
    prefecture: Prefecture,
    *,
    name: str,
    kind: str,
    email: str,
    contact_username: str,
    contact_password: str,
    contact_email: str = "",
    phone: str = "",
    address: str = "",
    registration_number: str = "",
) -> PartnerOrganisation:
    """An organisation applies; its contact's account stays disabled until an administrator approves."""
    name = (name or "").strip()
    errors: dict[str, list] = {}
    if not name:
        errors["name"] = [_("Give the organisation's name.")]
    elif PartnerOrganisation.objects.filter(prefecture=prefecture, name__iexact=name).exists():
        errors["name"] = [_("An organisation of this name has already applied to this prefecture.")]
    if kind not in OrganisationKind.values:
        errors["kind"] = [_("Choose a kind of organisation.")]
    if not (email or "").strip():
        errors["email"] = [_("Give the organisation's email address.")]
    for field, messages in accounts.account_errors(
        contact_username, contact_password, email=contact_email
    ).items():
        errors[f"contact_{field}"] = messages
    if errors:
        raise InvalidInput("invalid", _("The application is incomplete."), fields=errors)
    with transaction.atomic():
        user = accounts.create_account(
            contact_username, password=contact_password, email=contact_email or email, chain=prefecture.code
        )
        user.is_active = False
        user.save(update_fields=["is_active"])
        organisation = PartnerOrganisation.objects.create(
            prefecture=prefecture,
            name=name,
            kind=kind,
            email=email.strip(),
            phone=phone.strip(),
            address=address.strip(),
            registration_number=registration_number.strip(),
            applied_at=timezone.now(),
        )
        PartnerMember.objects.create(organisation=organisation, user=user, is_admin=True)
        _audit_org(
            organisation,
            "partner.applied",
            permissions.actor_for(user),
        )
    return organisation


def decide(organisation: PartnerOrganisation, *, approve: bool, by, reason: str = "") -> PartnerOrganisation:
    """Approve or reject an application (a refusal needs a reason). Approval enables the members' accounts."""
    _require_admin(by, organisation)
    reason = clean_text(reason, required=not approve)
    allowed_from = (
        (OrganisationStatus.PENDING, OrganisationStatus.SUSPENDED)
        if approve
        else (OrganisationStatus.PENDING,)
    )
    if organisation.status not in allowed_from:
        raise Conflict("already_decided", _("A decision was already made on this organisation."))
    with transaction.atomic():
        organisation.status = OrganisationStatus.APPROVED if approve else OrganisationStatus.REJECTED
        organisation.decided_at = timezone.now()
        organisation.decided_by = by
        organisation.decision_reason = reason
        organisation.save(update_fields=["status", "decided_at", "decided_by", "decision_reason"])
        users = [m.user for m in organisation.members.select_related("user").filter(is_active=True)]
        for user in users:
            if user.is_active != approve:
                user.is_active = approve
                user.save(update_fields=["is_active"])
        _audit_org(
            organisation,
            "partner.approved" if approve else "partner.rejected",
            permissions.actor_for(by),
            {"reason": reason},
        )
    return organisation


def suspend(organisation: PartnerOrganisation, *, by, reason: str) -> PartnerOrganisation:
    """Stop an organisation acting (its members lose access; mandates stay recorded)."""
    _require_admin(by, organisation)
    reason = clean_text(reason, required=True)
    with transaction.atomic():
        organisation.status = OrganisationStatus.SUSPENDED
        organisation.decided_at = timezone.now()
        organisation.decided_by = by
        organisation.decision_reason = reason
        organisation.save(update_fields=["status", "decided_at", "decided_by", "decision_reason"])
        _audit_org(organisation, "partner.suspended", permissions.actor_for(by), {"reason": reason})
    return organisation


def add_member(
    organisation: PartnerOrganisation,
    *,
    username: str,
    password: str,
    email: str = "",
    is_admin: bool = False,
    by,
) -> PartnerMember:
    """An organisation's administrator (or the prefecture's) adds a member; 2FA is enrolled at first login."""
    if not permissions.has_role(by, organisation.prefecture_id, Role.PREFECTURE_ADMIN):
        _member_of(by, organisation, admin=True)
    if not organisation.is_approved:
        raise Conflict("not_approved", _("The organisation is not approved."))
    with transaction.atomic():
        user = accounts.create_account(
            username, password=password, email=email, by=by, chain=organisation.prefecture.code
        )
        member = PartnerMember.objects.create(organisation=organisation, user=user, is_admin=is_admin)
        _audit_org(
            organisation,
            "partner.member_added",
            permissions.actor_for(by),
            {"member": user.get_username(), "admin": is_admin},
        )
    return member


def deactivate_member(member: PartnerMember, *, by) -> None:
    organisation = member.organisation
    if not permissions.has_role(by, organisation.prefecture_id, Role.PREFECTURE_ADMIN):
        _member_of(by, organisation, admin=True)
    with transaction.atomic():
        member.is_active = False
        member.save(update_fields=["is_active"])
        member.user.api_tokens.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        _audit_org(
            organisation,
            "partner.member_removed",
            permissions.actor_for(by),
            {"member": member.user.get_username()},
        )


# --- mandates --------------------------------------------------------------------------------------------


def _validate_consent(consent_given_on, consent_method, consent_form) -> dict[str, list]:
    errors: dict[str, list] = {}
    if consent_method not in ConsentMethod.values:
        errors["consent_method"] = [_("Say how the client gave their consent.")]
    if not isinstance(consent_given_on, datetime.date):
        errors["consent_given_on"] = [_("Give the date of the client's consent.")]
    elif consent_given_on > timezone.localdate():
        errors["consent_given_on"] = [_("The consent cannot be dated in the future.")]
    elif consent_given_on < timezone.localdate() - datetime.timedelta(days=365):
        errors["consent_given_on"] = [_("The consent is more than a year old: ask the client again.")]
    if consent_method == ConsentMethod.SIGNED_FORM and consent_form is None:
        errors["consent_form"] = [_("Upload the signed form, or choose another way of consent.")]
    return errors


def create_mandate(
    organisation: PartnerOrganisation,
    request: AppointmentRequest,
    *,
    consent_given_on: datetime.date,
    consent_method: str,
    consent_form: UploadedFile | None = None,
    by,
) -> Mandate:
    """Record the client's consent that `organisation` acts on `request`."""
    if not organisation.is_approved:
        raise Conflict("not_approved", _("The organisation is not approved."))
    if organisation.prefecture_id != request.prefecture_id:
        raise Forbidden("forbidden", _("This request belongs to another prefecture."))
    errors = _validate_consent(consent_given_on, consent_method, consent_form)
    form_type = ""
    if consent_form is not None and "consent_form" not in errors:
        try:
            form_type, extension = check_mandate_form(consent_form)
        except InvalidInput as exc:
            errors.update(exc.fields)
    if errors:
        raise InvalidInput("invalid", _("The mandate is incomplete."), fields=errors)
    try:
        with transaction.atomic():
            mandate = Mandate(
                organisation=organisation,
                request=request,
                consent_given_on=consent_given_on,
                consent_method=consent_method,
                consent_form_type=form_type,
                created_at=timezone.now(),
                created_by=by,
            )
            if consent_form is not None:
                # The stored name comes from the content, never from the name the uploader chose.
                mandate.consent_form.save(f"{uuid.uuid4().hex}.{extension}", consent_form, save=False)
            mandate.save()
            record_event(
                request,
                "mandate_recorded",
                permissions.actor_for(by),
                audit_data={
                    "organisation": organisation.pk,
                    "organisation_name": organisation.name,
                    "consent_given_on": consent_given_on.isoformat(),
                    "consent_method": consent_method,
                    "signed_form": bool(form_type),
                },
                proof=False,
            )
    except IntegrityError as exc:
        raise Conflict(
            "mandate_exists", _("This organisation already holds a mandate for this request.")
        ) from exc
    return mandate


def file_for_client(
    organisation: PartnerOrganisation,
    data,
    *,
    by,
    consent_given_on: datetime.date,
    consent_method: str,
    consent_form: UploadedFile | None = None,
    received_at: datetime.datetime | None = None,
):
    """A partner member files a request for a client, under a mandate recorded in the same transaction.

    `data` is the IntakeData of guichet.waitlist.validation. When the person already has an active request
    for this procedure, nothing is recorded: the partner must attach a mandate to it with its reference
    (attach_mandate), so that a name and birth date alone never open someone's file.
    Returns (IntakeResult, Mandate).
    """

    _member_of(by, organisation)
    if not organisation.is_approved:
        raise Conflict("not_approved", _("The organisation is not approved."))
    errors = _validate_consent(consent_given_on, consent_method, consent_form)
    if consent_form is not None and "consent_form" not in errors:
        try:
            check_mandate_form(consent_form)
        except InvalidInput as exc:
            errors.update(exc.fields)
    if errors:
        raise InvalidInput("invalid", _("The mandate is incomplete."), fields=errors)
    with transaction.atomic():
        result = file_request(
            data,
            prefecture=organisation.prefecture,
            channel=Channel.PARTNER,
            actor=permissions.actor_for(by),
            received_at=received_at,
            created_by=by,
        )
        if not result.created:
            raise Conflict(
                "already_registered",
                _(
                    "This person already has an active request for this procedure. Ask them for its "
                    "reference and attach your mandate to it."
                ),
            )
        mandate = create_mandate(
            organisation,
            result.request,
            consent_given_on=consent_given_on,
            consent_method=consent_method,
            consent_form=consent_form,
            by=by,
        )
    return result, mandate


def attach_mandate(
    organisation: PartnerOrganisation,
    *,
    reference: str,
    birth_date: datetime.date,
    by,
    consent_given_on: datetime.date,
    consent_method: str,
    consent_form: UploadedFile | None = None,
) -> Mandate:
    """Attach a mandate to a client's existing request, found by its reference and the client's birth date."""
    _member_of(by, organisation)
    request = AppointmentRequest.objects.filter(
        reference=(reference or "").strip().upper(), prefecture=organisation.prefecture, birth_date=birth_date
    ).first()
    if request is None:
        raise NotFound(
            "not_found",
            _("No request of this prefecture has this reference and birth date."),
            fields={"reference": [_("Check the reference and the birth date.")]},
        )
    return create_mandate(
        organisation,
        request,
        consent_given_on=consent_given_on,
        consent_method=consent_method,
        consent_form=consent_form,
        by=by,
    )


def revoke_mandate(mandate: Mandate, *, revoked_by: str, reason: str = "", by=None) -> Mandate:
    """End a mandate. The organisation revokes through its members; the client revokes themselves
    (`by` None: the applicant's own page) or through an agent of the prefecture who records it."""
    if revoked_by not in RevokedBy.values:
        raise InvalidInput(
            "invalid", _("Say who revokes the mandate."), fields={"revoked_by": [_("Unknown.")]}
        )
    if by is None:
        if revoked_by != RevokedBy.CLIENT:
            raise Forbidden("forbidden", _("Only the client can revoke without an account."))
        actor = audit.APPLICANT
    elif permissions.has_role(by, mandate.request.prefecture_id, Role.AGENT):
        actor = permissions.actor_for(by)
    else:
        _member_of(by, mandate.organisation)
        if revoked_by != RevokedBy.ORGANISATION:
            raise Forbidden("forbidden", _("An organisation revokes its own mandates only."))
        actor = permissions.actor_for(by)
    if not mandate.is_active:
        raise Conflict("already_revoked", _("This mandate is already revoked."))
    with transaction.atomic():
        mandate.status = MandateStatus.REVOKED
        mandate.revoked_at = timezone.now()
        mandate.revoked_by = revoked_by
        mandate.revoke_reason = (reason or "").strip()
        mandate.save(update_fields=["status", "revoked_at", "revoked_by", "revoke_reason"])
        record_event(
            mandate.request,
            "mandate_revoked",
            actor,
            audit_data={
                "organisation": mandate.organisation_id,
                "revoked_by": revoked_by,
                "reason": mandate.revoke_reason,
            },
            proof=False,
        )
    return mandate


def active_mandates(request: AppointmentRequest):
    return request.mandates.acting()


def partner_copies(request: AppointmentRequest) -> list[str]:
    """Addresses that get a copy of the notices sent to this applicant (Mandate.objects.copy_recipients)."""
    return Mandate.objects.copy_recipients([request.pk]).get(request.pk, [])


# --- impossibilité constatée ------------------------------------------------------------------------------


def record_impossibility(
    request: AppointmentRequest, *, by, circumstances: str, accompaniment_tried: bool
) -> ImpossibilityRecord:
    """Record that using the online service was impossible for this person (CESEDA R.431-2).

    The person gets a signed attestation (proof event "impossibility") and the request is marked for the
    physical substitution route. An agent of the prefecture or a partner holding a mandate may record it.
    """
    circumstances = (circumstances or "").strip()
    if not circumstances:
        raise InvalidInput(
            "invalid",
            _("Describe what made the online service impossible to use."),
            fields={"circumstances": [_("This field is required.")]},
        )
    if len(circumstances) > MAX_CIRCUMSTANCES:
        raise InvalidInput(
            "invalid",
            _("Keep the description under %(n)d characters.") % {"n": MAX_CIRCUMSTANCES},
            fields={"circumstances": [_("Too long.")]},
        )
    if permissions.has_role(by, request.prefecture_id, Role.AGENT):
        kind, organisation = ImpossibilityRecord.RecordedBy.STAFF, None
    else:
        member = permissions.partner_member(by)
        if member is None or not active_mandates(request).filter(organisation=member.organisation).exists():
            raise Forbidden("forbidden", _("You cannot act on this request."))
        kind, organisation = ImpossibilityRecord.RecordedBy.PARTNER, member.organisation
    if not request.is_active:
        raise Conflict("not_active", _("This request is no longer active."))
    with transaction.atomic():
        record = ImpossibilityRecord.objects.create(
            request=request,
            recorded_at=timezone.now(),
            recorded_by_kind=kind,
            recorded_by=by,
            organisation=organisation,
            circumstances=circumstances,
            accompaniment_tried=accompaniment_tried,
        )
        details = {
            "rule": "CESEDA R.431-2",
            "route": "physical_substitution",
            "recorded_by": kind,
            "accompaniment_tried": accompaniment_tried,
            "circumstances": circumstances,
        }
        if organisation is not None:
            details["organisation"] = organisation.name
        proof = record_event(request, "impossibility", permissions.actor_for(by), details=details)
        record.proof = proof
        record.save(update_fields=["proof"])
    return record


def substitution_route(request: AppointmentRequest) -> bool:
    """Whether the request is marked for the physical substitution route (an impossibility was recorded)."""
    return request.impossibilities.exists()
