"""SMS through a gateway interface: a console or file backend for development, a generic HTTP gateway.

A backend has one method, `send(to, text)`, which raises on any failure so that the outbox retries later.
"""

import json
import logging
import sys
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

# GSM 03.38: the characters one 7-bit SMS can carry (160 of them per message). Anything else switches the
# whole message to UCS-2, where one message holds only 70 characters (Arabic, Cyrillic, Chinese).
GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENDED = set("^{}\\[~]|€\f")


class SmsError(Exception):
    """The gateway did not take the message."""


@dataclass(frozen=True)
class SmsLength:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # characters as the network counts them (extended GSM characters count twice)
    segments: int


def sms_length(text: str) -> SmsLength:
    """How many SMS segments a text costs, as the network counts them."""
    if all(char in GSM_BASIC or char in GSM_EXTENDED for char in text):
        units = sum(2 if char in GSM_EXTENDED else 1 for char in text)
        single, multi, encoding = 160, 153, "GSM-7"
    else:
        # UCS-2 counts UTF-16 code units: characters outside the BMP take two.
        units = len(text.encode("utf-16-le")) // 2
        single, multi, encoding = 70, 67, "UCS-2"
    segments = 1 if units <= single else -(-units // multi)
    return SmsLength(encoding, units, segments)


class BaseBackend:
    def send(self, to: str, text: str) -> str:
        """Send `text` to the E.164 number `to`; return the gateway's id. Raise SmsError on failure."""
        raise NotImplementedError


class ConsoleBackend(BaseBackend):
    """Development: print the SMS on standard output."""

    def send(self, to: str, text: str) -> str:
        sys.stdout.write(f"--- SMS to {to} ---\n{text}\n")
        sys.stdout.flush()
        return f"console-{uuid.uuid4().hex[:12]}"


class FileBackend(BaseBackend):
    """Development: one file per SMS in SMS_FILE_PATH (var/sms/ by default), to read them back."""

    def send(self, to: str, text: str) -> str:
        folder = Path(settings.SMS_FILE_PATH)
        folder.mkdir(parents=True, exist_ok=True)
        message_id = f"{timezone.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:8]}"
        (folder / f"{message_id}.txt").write_text(f"To: {to}\n\n{text}\n", encoding="utf-8")
        return message_id


class HttpGatewayBackend(BaseBackend):
    """A generic HTTP gateway: POST {"to", "text", "sender"} as JSON, API key in the X-Api-Key header.

    Any answer outside 2xx, a time-out or a refused connection raises, so the outbox retries with backoff.
    """

    def __init__(self, url: str | None = None, key: str | None = None, timeout: float | None = None):
        self.url = url or settings.SMS_GATEWAY_URL
        self.key = key if key is not None else settings.SMS_GATEWAY_KEY
        self.timeout = timeout or settings.SMS_GATEWAY_TIMEOUT
        if not self.url:
            raise SmsError("SMS_GATEWAY_URL is not set")

    def send(self, to: str, text: str) -> str:
        body = json.dumps({"to": to, "text": text, "sender": settings.SMS_SENDER}).encode()
        request = urllib.request.Request(
            self.url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "Accept": "application/json", "X-Api-Key": self.key},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                payload = response.read(65536)
        except urllib.error.HTTPError as error:
            detail = error.read(500).decode(errors="replace")
            raise SmsError(f"gateway answered {error.code}: {detail}") from error
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            raise SmsError(f"gateway unreachable: {error}") from error
        try:
            answer = json.loads(payload or b"{}")
        except ValueError:
            answer = {}
        return str(answer.get("id", "")) if isinstance(answer, dict) else ""


def get_backend() -> BaseBackend:
    return import_string(settings.SMS_BACKEND)()
