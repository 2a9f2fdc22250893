"""Test backends: an SMS backend that keeps what it sends, and ones that fail like a server that is down."""

import smtplib

from django.core.mail.backends.base import BaseEmailBackend

from guichet.notifications.sms import BaseBackend, SmsError


class MemorySms(BaseBackend):
    sent: list[tuple[str, str]] = []

    def send(self, to: str, text: str) -> str:
        MemorySms.sent.append((to, text))
        return str(len(MemorySms.sent))


class BrokenSms(BaseBackend):
    def send(self, to: str, text: str) -> str:
        raise SmsError("gateway answered 503: try later")


class BrokenEmail(BaseEmailBackend):
    """Like an SMTP server that refuses connections."""

    calls = 0

    def send_messages(self, email_messages):
        BrokenEmail.calls += 1
        raise smtplib.SMTPConnectError(421, "service not available")
