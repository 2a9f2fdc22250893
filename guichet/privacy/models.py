"""What a person asks about their data; the rest of their data lives in the other apps' models."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from guichet.waitlist.models import AppointmentRequest


class RightsRequest(models.Model):
    """A person's request to correct or erase their data (GDPR art. 16, 17), answered by staff.

    The answer states the legal limits when it refuses (docs/privacy.md, "The person's rights").
    """

    class Kind(models.TextChoices):
        RECTIFICATION = "rectification", _("Correct my data")
        ERASURE = "erasure", _("Erase my data")

    class Status(models.TextChoices):
        OPEN = "open", _("waiting for an answer")
        GRANTED = "granted", _("done")
        REFUSED = "refused", _("refused")

    request = models.ForeignKey(AppointmentRequest, on_delete=models.PROTECT, related_name="rights_requests")
    kind = models.CharField(_("what you ask"), max_length=16, choices=Kind.choices)
    message = models.TextField(_("your message"), blank=True)
    received_at = models.DateTimeField(_("received at"))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.OPEN)
    answer = models.TextField(_("answer"), blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["received_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open", answered_at__isnull=True)
                | (~Q(status="open") & Q(answered_at__isnull=False)),
                name="rights_request_answered_when_closed",
            ),
            # One open request of a kind per request: a second click does not ask twice.
            models.UniqueConstraint(
                fields=["request", "kind"], condition=Q(status="open"), name="rights_request_one_open"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.request_id}"
