"""Slots (créneaux) generated from opening rules, and the hold that makes a slot someone's."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from guichet.catalog.models import Counter, OpeningRule


class Slot(models.Model):
    """Créneau: one bookable period of one counter, in UTC. Free while it has no hold."""

    counter = models.ForeignKey(Counter, on_delete=models.PROTECT, related_name="slots")
    # The rule that produced it: its procedures are the ones the slot serves. A slot made by hand
    # (an extra slot opened for a court order) carries its procedures itself.
    rule = models.ForeignKey(
        OpeningRule, on_delete=models.SET_NULL, null=True, blank=True, related_name="slots"
    )
    extra_procedures = models.ManyToManyField(
        "catalog.Procedure", blank=True, related_name="extra_slots", verbose_name=_("procedures (extra slot)")
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["counter", "starts_at"], name="slot_counter_start_unique"),
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="slot_ends_after_start"
            ),
        ]
        indexes = [models.Index(fields=["starts_at"], name="slot_starts_at")]
        verbose_name = _("slot")
        verbose_name_plural = _("slots")

    def __str__(self) -> str:
        return f"{self.counter} {self.starts_at:%Y-%m-%d %H:%M} UTC"


class Hold(models.Model):
    """Whoever holds a slot: a pending offer or an active appointment.

    One row per held slot, unique on the slot: this is the database's guarantee that a slot is never
    given to two people, whatever table (offers, appointments) the holder lives in. Releasing a slot
    deletes its hold; the history stays in the offers and appointments.
    """

    class Kind(models.TextChoices):
        OFFER = "offer", _("offer")
        APPOINTMENT = "appointment", _("appointment")

    slot = models.OneToOneField(Slot, on_delete=models.PROTECT, related_name="hold")
    request = models.ForeignKey("waitlist.AppointmentRequest", on_delete=models.PROTECT, related_name="holds")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("hold")
        verbose_name_plural = _("holds")

    def __str__(self) -> str:
        return f"{self.kind} on slot {self.slot_id} for request {self.request_id}"
