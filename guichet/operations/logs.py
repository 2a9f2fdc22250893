"""Structured logs: one JSON object per line, with the request id, and never a private link or token.

LOG_FORMAT=json (the default) or text, in settings.LOGGING; the gunicorn access and error logs use the same
formatter and filters (guichet.operations.gunicorn_logging).
"""

from __future__ import annotations

import datetime
import json
import logging

from . import request_id


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", ""):
            record.request_id = request_id.current.get()
        return True


class JsonFormatter(logging.Formatter):
    """time, level, logger, message, request_id, the exception if any, and the `fields` given in `extra`."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if getattr(record, "request_id", ""):
            entry["request_id"] = record.request_id
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False, default=str)
