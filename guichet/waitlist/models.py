"""Demandes de rendez-vous: the queue entries, one per person and procedure, from every channel."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from guichet.catalog.models import Prefecture, Procedure, Site


class Channel(models.TextChoices):
    WEB = "web", _("Website")
    COUNTER = "counter", _("At the counter")
    PHONE = "phone", _("By phone")
    POST = "post", _("By post")
    PARTNER = "partner", _("Through a partner organisation")


class RequestStatus(models.TextChoices):
    WAITING = "waiting", _("Waiting for an offer")
    OFFERED = "offered", _("Offer made")
    SCHEDULED = "scheduled", _("Appointment confirmed")
    SERVED = "served", _("Served")
    PAUSED = "paused", _("Paused")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    CLOSED = "closed", _("Closed by the prefecture")


# A person may hold one request per procedure among these; served, withdrawn and closed ones free the place.
ACTIVE_STATUSES = (
    RequestStatus.WAITING,
    RequestStatus.OFFERED,
    RequestStatus.SCHEDULED,
    RequestStatus.PAUSED,
)


class DueReason(models.TextChoices):
    TARGET_WAIT = "target_wait", _("the procedure's target wait")
    VULNERABILITY = "vulnerability", _("the shorter wait for a recorded vulnerability")
    PERMIT_EXPIRY = "permit_expiry", _("the expiry of the current permit")
    COURT_ORDER = "court_order", _("the deadline set by a court")


class AppointmentRequest(models.Model):
    """Demande de rendez-vous: one person's request for one procedure."""

    prefecture = models.ForeignKey(Prefecture, on_delete=models.PROTECT, related_name="requests")
    procedure = models.ForeignKey(Procedure, on_delete=models.PROTECT, related_name="requests")
    reference = models.CharField(_("reference"), max_length=16, unique=True)
    access_token_hash = models.CharField(max_length=64)

    # Identity, as the person gave it; the keys below are what the duplicate check compares.
    family_names = models.CharField(_("family names"), max_length=150)
    given_names = models.CharField(_("given names"), max_length=150, blank=True)
    birth_date = models.DateField(_("birth date"), null=True)
    nationality = models.CharField(_("nationality"), max_length=2)
    foreign_national_number = models.CharField(_("foreign national number"), max_length=10, blank=True)
    passport_number = models.CharField(_("passport number"), max_length=20, blank=True)
    identity_key = models.CharField(max_length=64)
    foreign_number_key = models.CharField(max_length=64, blank=True)

    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("mobile phone"), max_length=20, blank=True)
    postal_address = models.TextField(_("postal address"), blank=True)
    language = models.CharField(_("language"), max_length=8, default="fr")

    sites = models.ManyToManyField(
        Site, blank=True, related_name="requests", verbose_name=_("acceptable sites")
    )
    permit_expires_on = models.DateField(_("current permit expires on"), null=True, blank=True)
    interpreter_language = models.CharField(_("interpreter language"), max_length=8, blank=True)
    needs_step_free = models.BooleanField(_("needs step-free access"), default=False)
    needs_other = models.TextField(_("other needs"), blank=True)
    unavailable_weekdays = models.JSONField(_("weekdays unavailable"), default=list, blank=True)
    unavailable_dates = models.JSONField(_("dates unavailable"), default=list, blank=True)
    earliest_date = models.DateField(_("available from"), null=True, blank=True)
    vulnerability_reason = models.TextField(_("recorded vulnerability"), blank=True)
    urgency_circumstances = models.TextField(_("circumstances of urgency"), blank=True)

    # The list of documents in force when the request was filed (R17; empty only for rows older than it).
    checklist_version = models.ForeignKey(
        "catalog.ChecklistVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="requests",
        verbose_name=_("list of documents"),
    )
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    received_at = models.DateTimeField(_("received at"))
    due_date = models.DateField(_("due date"))
    due_reason = models.CharField(_("due date reason"), max_length=16, choices=DueReason.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=RequestStatus.choices, default=RequestStatus.WAITING
    )
    status_changed_at = models.DateTimeField(_("status changed at"))
    consecutive_lapses = models.PositiveSmallIntegerField(default=0)
    closing_reason = models.TextField(_("closing reason"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # When the personal data was erased (retention over, or the person's request): the row stays, without
    # anything about the person, for the figures and for the proofs' register (docs/privacy.md).
    erased_at = models.DateTimeField(_("personal data erased at"), null=True, blank=True)

    class Meta:
        ordering = ["due_date", "received_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(erased_at__isnull=False) | (Q(birth_date__isnull=False) & ~Q(family_names="")),
                name="request_identity_until_erased",
                violation_error_message=_("A request names its person until it is erased."),
            ),
            models.CheckConstraint(
                condition=Q(erased_at__isnull=True) | ~Q(status__in=ACTIVE_STATUSES),
                name="request_erased_only_when_ended",
                violation_error_message=_("An active request cannot be erased."),
            ),
            models.UniqueConstraint(
                fields=["prefecture", "procedure", "identity_key"],
                condition=Q(status__in=ACTIVE_STATUSES),
                name="one_active_request_per_identity",
                violation_error_message=_("This person already has an active request for this procedure."),
            ),
            models.UniqueConstraint(
                fields=["prefecture", "procedure", "foreign_number_key"],
                condition=Q(status__in=ACTIVE_STATUSES) & ~Q(foreign_number_key=""),
                name="one_active_request_per_foreign_number",
                violation_error_message=_("This foreign national number already has an active request."),
            ),
        ]
        indexes = [
            models.Index(
                fields=["prefecture", "status", "due_date", "received_at"], name="request_queue_order"
            ),
            models.Index(fields=["identity_key"], name="request_identity"),
            # The freed-slot path (guichet/allocation/freed_slot.py) walks one procedure's waiting requests
            # in serving order and stops at the first that suits: an index scan of a few rows, not a sort.
            models.Index(
                fields=["prefecture", "procedure", "due_date", "received_at", "id"],
                condition=Q(status=RequestStatus.WAITING),
                name="request_waiting_by_procedure",
            ),
        ]
        verbose_name = _("appointment request")
        verbose_name_plural = _("appointment requests")

    def __str__(self) -> str:
        return self.reference

    @property
    def documents(self) -> list[str]:
        """What this person was asked to bring: the list in force when they filed (else the current one)."""
        if self.checklist_version_id is not None:
            return list(self.checklist_version.documents)
        return list(self.procedure.documents or [])

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def reachable_only_by_post(self) -> bool:
        return not self.email and not self.phone
