"""A request id for every request: taken from a trusted proxy's X-Request-ID when it is sane, else made here.

It is sent back in the X-Request-ID header, added to every log record written while the request runs (see
guichet.operations.logs) and to the access log line, so that one request's lines can be found together.
"""

from __future__ import annotations

import contextvars
import re
import uuid

from django.core.signals import request_finished
from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
_SANE = re.compile(r"[A-Za-z0-9._-]{8,64}")
current: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.headers.get(HEADER, "")
        request_id = given if _SANE.fullmatch(given) else uuid.uuid4().hex
        request.request_id = request_id
        # Kept until the response is closed, not just until this middleware returns: Django logs a 4xx or 5xx
        # answer after the whole middleware chain.
        current.set(request_id)
        response = self.get_response(request)
        response[HEADER] = request_id
        return response


def _forget(**kwargs) -> None:
    current.set("")


request_finished.connect(_forget, dispatch_uid="guichet.operations.request_id")
