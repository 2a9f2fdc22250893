"""Offers (propositions) and appointments (rendez-vous)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from guichet.capacity.models import Slot
from guichet.catalog.models import Counter
from guichet.waitlist.models import AppointmentRequest


class OfferStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for an answer")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    LAPSED = "lapsed", _("Lapsed without an answer")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class OfferSource(models.TextChoices):
    QUEUE = "queue", _("Given by the queue")
    CHOSEN = "chosen", _("Chosen by the applicant (open mode)")


class Offer(models.Model):
    """Proposition: a slot held for one request until accepted, declined or lapsed."""

    request = models.ForeignKey(AppointmentRequest, on_delete=models.PROTECT, related_name="offers")
    slot = models.ForeignKey(Slot, on_delete=models.PROTECT, related_name="offers")
    source = models.CharField(max_length=8, choices=OfferSource.choices, default=OfferSource.QUEUE)
    status = models.CharField(
        _("status"), max_length=10, choices=OfferStatus.choices, default=OfferStatus.PENDING
    )
    created_at = models.DateTimeField(_("made at"))
    expires_at = models.DateTimeField(_("answer before"))
    decided_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    decline_reason = models.TextField(_("reason for declining"), blank=True)
    # An interpreter to book for this slot (language code): the counter does not speak the person's
    # language, and the slot was given anyway so that nobody waits for a counter that never comes.
    interpreter_language = models.CharField(_("interpreter to book"), max_length=8, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["slot"], condition=Q(status="pending"), name="one_pending_offer_per_slot"
            ),
            models.UniqueConstraint(
                fields=["request"], condition=Q(status="pending"), name="one_pending_offer_per_request"
            ),
            models.CheckConstraint(
                condition=Q(expires_at__gt=models.F("created_at")), name="offer_expires_later"
            ),
        ]
        indexes = [models.Index(fields=["status", "expires_at"], name="offer_status_expiry")]
        verbose_name = _("offer")
        verbose_name_plural = _("offers")

    def __str__(self) -> str:
        return f"offer {self.pk} to {self.request_id}"


class AppointmentStatus(models.TextChoices):
    CONFIRMED = "confirmed", _("Confirmed")
    CHECKED_IN = "checked_in", _("Checked in")
    SERVED = "served", _("Served")
    NO_SHOW = "no_show", _("Did not come")
    REFUSED = "refused", _("Refused at the counter")
    CANCELLED = "cancelled", _("Cancelled")


# The slot is taken while the appointment is in one of these; served and no-show keep the record.
ACTIVE_APPOINTMENT_STATUSES = (AppointmentStatus.CONFIRMED, AppointmentStatus.CHECKED_IN)


class CancelledBy(models.TextChoices):
    APPLICANT = "applicant", _("the applicant")
    PREFECTURE = "prefecture", _("the prefecture")


class Appointment(models.Model):
    """Rendez-vous: a confirmed slot for a request, bound to the person's identity."""

    request = models.ForeignKey(AppointmentRequest, on_delete=models.PROTECT, related_name="appointments")
    slot = models.ForeignKey(Slot, on_delete=models.PROTECT, related_name="appointments")
    offer = models.OneToOneField(
        Offer, on_delete=models.PROTECT, null=True, blank=True, related_name="appointment"
    )
    # Copied from the slot so that PostgreSQL can refuse two overlapping appointments at one counter.
    counter = models.ForeignKey(Counter, on_delete=models.PROTECT, related_name="appointments")
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    status = models.CharField(
        _("status"), max_length=10, choices=AppointmentStatus.choices, default=AppointmentStatus.CONFIRMED
    )
    confirmed_at = models.DateTimeField(_("confirmed at"))
    checked_in_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.CharField(max_length=10, choices=CancelledBy.choices, blank=True)
    cancel_reason = models.TextField(_("reason"), blank=True)
    outcome = models.CharField(_("outcome"), max_length=40, blank=True)
    # An interpreter to book for this slot (language code): the counter does not speak the person's
    # language, and the slot was given anyway so that nobody waits for a counter that never comes.
    interpreter_language = models.CharField(_("interpreter to book"), max_length=8, blank=True)
    staff_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Set when staff move the appointment: this one is cancelled and its convocation replaced by the new
    # appointment's, which the convocation checks (/convocation/, /verify/) then point to.
    replaced_by = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="replaces"
    )

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["slot"],
                condition=Q(status__in=ACTIVE_APPOINTMENT_STATUSES),
                name="one_active_appointment_per_slot",
            ),
            models.UniqueConstraint(
                fields=["request"],
                condition=Q(status__in=ACTIVE_APPOINTMENT_STATUSES),
                name="one_active_appointment_per_request",
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="appointment_ends_after_start"
            ),
        ]
        verbose_name = _("appointment")
        verbose_name_plural = _("appointments")

    def __str__(self) -> str:
        return f"appointment {self.pk} for {self.request_id}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_APPOINTMENT_STATUSES
