"""Private links and tokens out of every log line (access log, error log, Django's own warnings).

An applicant's pages live under /<lang>/r/<reference>/<token>/… and some addresses carry ?token= or ?key=:
whoever reads a log must not be able to open a request with what it says. The reference stays (it is what
support staff search for); the secret becomes "[redacted]".
"""

from __future__ import annotations

import logging
import re

REDACTED = "[redacted]"
_PRIVATE_LINK = re.compile(r"(/r/[^/\s?#\"']+/)[^/\s?#\"']+")
_SECRET_PARAMETER = re.compile(r"([?&;](?:token|key|access_token|x-access-token)=)[^&\s#\"']*", re.IGNORECASE)


def redact(text: str) -> str:
    """The text with every private-link token and secret query parameter replaced."""
    if "/r/" not in text and "=" not in text:
        return text
    return _SECRET_PARAMETER.sub(r"\1" + REDACTED, _PRIVATE_LINK.sub(r"\1" + REDACTED, text))


class RedactingFilter(logging.Filter):
    """Rewrites a record's message (arguments merged in) and its exception text, for every handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True
