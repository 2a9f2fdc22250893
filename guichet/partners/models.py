"""Partner organisations (associations, lawyers, social workers), their members, mandates, and the records
of an « impossibilité constatée » (CESEDA R.431-2)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from guichet import bulk
from guichet.catalog.models import Prefecture
from guichet.waitlist.models import AppointmentRequest


class OrganisationKind(models.TextChoices):
    ASSOCIATION = "association", _("Association")
    LAWYER = "lawyer", _("Lawyer or law firm")
    SOCIAL_WORKER = "social_worker", _("Social service")
    OTHER = "other", _("Other")


class OrganisationStatus(models.TextChoices):
    PENDING = "pending", _("Application waiting for a decision")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    SUSPENDED = "suspended", _("Suspended")


class PartnerOrganisation(models.Model):
    """Structure partenaire: applies to one prefecture; a prefecture administrator approves it."""

    prefecture = models.ForeignKey(Prefecture, on_delete=models.PROTECT, related_name="partner_organisations")
    name = models.CharField(_("name"), max_length=160)
    kind = models.CharField(_("kind"), max_length=16, choices=OrganisationKind.choices)
    registration_number = models.CharField(
        _("registration number (SIRET, RNA or bar)"), max_length=40, blank=True
    )
    email = models.EmailField(_("email"))
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    address = models.TextField(_("postal address"), blank=True)
    # Whether the organisation gets a copy of its clients' notices by email.
    receives_copies = models.BooleanField(_("receive a copy of clients' notices"), default=True)
    status = models.CharField(
        _("status"), max_length=10, choices=OrganisationStatus.choices, default=OrganisationStatus.PENDING
    )
    applied_at = models.DateTimeField(_("applied at"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decision_reason = models.TextField(_("reason for the decision"), blank=True)

    class Meta:
        ordering = ["prefecture", "name"]
        constraints = [
            models.UniqueConstraint(fields=["prefecture", "name"], name="partner_name_unique"),
        ]
        verbose_name = _("partner organisation")
        verbose_name_plural = _("partner organisations")

    def __str__(self) -> str:
        return self.name

    @property
    def is_approved(self) -> bool:
        return self.status == OrganisationStatus.APPROVED


class PartnerMember(models.Model):
    """An account acting for an organisation; an account belongs to at most one organisation."""

    organisation = models.ForeignKey(PartnerOrganisation, on_delete=models.CASCADE, related_name="members")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="partner_membership"
    )
    is_admin = models.BooleanField(_("manages the organisation's members"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organisation", "user"]
        verbose_name = _("partner member")
        verbose_name_plural = _("partner members")

    def __str__(self) -> str:
        return f"{self.user_id} in {self.organisation_id}"


class ConsentMethod(models.TextChoices):
    SIGNED_FORM = "signed_form", _("Signed form")
    IN_PERSON = "in_person", _("Given in person")
    PHONE = "phone", _("By phone")
    EMAIL = "email", _("By email")
    LETTER = "letter", _("By letter")


class MandateStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    REVOKED = "revoked", _("Revoked")


class RevokedBy(models.TextChoices):
    CLIENT = "client", _("the client")
    ORGANISATION = "organisation", _("the organisation")


class MandateQuerySet(models.QuerySet):
    def acting(self) -> MandateQuerySet:
        """Mandates under which an organisation acts now: active, and the organisation approved."""
        return self.filter(status=MandateStatus.ACTIVE, organisation__status=OrganisationStatus.APPROVED)

    def copy_recipients(self, request_ids: list[int]) -> dict[int, list[str]]:
        """Per request, the addresses that get a copy of the notices sent to the applicant: organisations
        acting for them that wish copies (guichet.notifications). A few queries for any number of ids."""
        found: dict[int, set[str]] = {}
        ids = sorted(set(request_ids))
        for start in range(0, len(ids), bulk.BATCH * 2):
            rows = (
                self.acting()
                .filter(request_id__any=ids[start : start + bulk.BATCH * 2])
                .filter(organisation__receives_copies=True)
                .values_list("request_id", "organisation__email")
            )
            for request_id, email in rows:
                if email:
                    found.setdefault(request_id, set()).add(email)
        return {request_id: sorted(emails) for request_id, emails in found.items()}


class Mandate(models.Model):
    """Mandat: a client's consent that an organisation acts on one request for them."""

    organisation = models.ForeignKey(PartnerOrganisation, on_delete=models.PROTECT, related_name="mandates")
    request = models.ForeignKey(AppointmentRequest, on_delete=models.PROTECT, related_name="mandates")
    consent_given_on = models.DateField(_("consent given on"))
    consent_method = models.CharField(
        _("how consent was given"), max_length=16, choices=ConsentMethod.choices
    )
    # Kept outside the public static files; downloaded only through a view that checks the reader's rights.
    consent_form = models.FileField(_("signed form"), upload_to="mandates/%Y/%m/", blank=True)
    consent_form_type = models.CharField(max_length=32, blank=True)
    status = models.CharField(
        _("status"), max_length=8, choices=MandateStatus.choices, default=MandateStatus.ACTIVE
    )
    created_at = models.DateTimeField(_("recorded at"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.CharField(_("revoked by"), max_length=12, choices=RevokedBy.choices, blank=True)
    revoke_reason = models.TextField(_("reason for revoking"), blank=True)

    objects = MandateQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "request"],
                condition=Q(status="active"),
                name="one_active_mandate_per_organisation_and_request",
                violation_error_message=_("This organisation already holds a mandate for this request."),
            ),
        ]
        verbose_name = _("mandate")
        verbose_name_plural = _("mandates")

    def __str__(self) -> str:
        return f"mandate {self.pk} of {self.organisation_id} on {self.request_id}"

    @property
    def is_active(self) -> bool:
        return self.status == MandateStatus.ACTIVE


class ImpossibilityRecord(models.Model):
    """Impossibilité constatée (CESEDA R.431-2): using the online service was impossible for this person.

    Its existence marks the request for the physical substitution route; the person receives the signed
    attestation (a proof of event "impossibility").
    """

    class RecordedBy(models.TextChoices):
        STAFF = "staff", _("an agent of the prefecture")
        PARTNER = "partner", _("a partner organisation")

    request = models.ForeignKey(AppointmentRequest, on_delete=models.PROTECT, related_name="impossibilities")
    recorded_at = models.DateTimeField(_("recorded at"))
    recorded_by_kind = models.CharField(max_length=8, choices=RecordedBy.choices)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(
        PartnerOrganisation, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    circumstances = models.TextField(_("what made the online service impossible to use"))
    accompaniment_tried = models.BooleanField(_("accompaniment was offered and tried"), default=False)
    proof = models.ForeignKey(
        "evidence.Proof", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-recorded_at", "-id"]
        verbose_name = _("impossibility record")
        verbose_name_plural = _("impossibility records")

    def __str__(self) -> str:
        return f"impossibility {self.pk} on {self.request_id}"
