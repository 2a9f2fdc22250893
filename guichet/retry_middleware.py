"""Every view run through guichet.retrying.run: a deadlock's loser is run again, never answered with a 500.

Apart from guichet/retrying.py because it answers pages and API calls (guichet/refusals.py), which the tasks
that also use `run` must not import.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from guichet.refusals import refusal_response
from guichet.retrying import RETRY_AFTER_SECONDS, TryAgain, run


class RetryMiddleware:
    """Runs every view through `run`. Last in MIDDLEWARE, so that every other middleware's process_view
    (CSRF first) has run before the view is called here."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> HttpResponse:
        try:
            return run(
                lambda: view_func(request, *view_args, **view_kwargs), what=f"{request.method} {request.path}"
            )
        except TryAgain as busy:
            return refusal_response(request, busy, retry_after=RETRY_AFTER_SECONDS)
