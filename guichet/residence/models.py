"""A request transferred to the competent prefecture after a move (CESEDA R.431-20)."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from guichet.waitlist.models import AppointmentRequest


class Transfer(models.Model):
    """The old request (closed, in the old prefecture's chain) and the new one, with its due date kept."""

    from_request = models.OneToOneField(
        AppointmentRequest, on_delete=models.PROTECT, related_name="transferred_to"
    )
    to_request = models.OneToOneField(
        AppointmentRequest, on_delete=models.PROTECT, related_name="transferred_from"
    )
    postal_code = models.CharField(max_length=5)
    reason = models.TextField()
    at = models.DateTimeField()
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(from_request=F("to_request")), name="transfer_to_another"),
        ]

    def __str__(self) -> str:
        return f"transfer {self.from_request_id} → {self.to_request_id}"
