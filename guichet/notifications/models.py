"""The outbox: every message to a person is written in the transaction of its event, sent later."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from guichet.waitlist.models import AppointmentRequest


class MessageChannel(models.TextChoices):
    EMAIL = "email", _("email")
    SMS = "sms", _("SMS")
    LETTER = "letter", _("letter")


class MessageStatus(models.TextChoices):
    PENDING = "pending", _("waiting to be sent")
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed for good")
    SKIPPED = "skipped", _("not sent")


class OutboxMessage(models.Model):
    request = models.ForeignKey(
        AppointmentRequest, on_delete=models.PROTECT, null=True, blank=True, related_name="messages"
    )
    channel = models.CharField(max_length=8, choices=MessageChannel.choices)
    kind = models.CharField(max_length=40)
    language = models.CharField(max_length=8)
    recipient = models.TextField()
    context = models.JSONField(default=dict)
    status = models.CharField(max_length=8, choices=MessageStatus.choices, default=MessageStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="outbox_due")]

    def __str__(self) -> str:
        return f"{self.kind} by {self.channel} to request {self.request_id}"
