"""What every applicant page shares: access by link, rate-limit answers, domain errors shown as messages."""

import functools
from collections.abc import Callable

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from guichet.errors import DomainError
from guichet.public import ratelimit
from guichet.waitlist import access
from guichet.waitlist.models import AppointmentRequest
from guichet.waitlist.references import parse_reference

# Private pages must not be kept by shared caches or shown by the back button of a shared computer.
PRIVATE = "no-store"


def rate_limited(request: HttpRequest, error: ratelimit.RateLimited) -> HttpResponse:
    response = TemplateResponse(
        request,
        "public/rate_limited.html",
        {"retry_at": ratelimit.retry_at(error), "retry_minutes": ratelimit.retry_minutes(error)},
        status=429,
    )
    response["Retry-After"] = str(error.retry_after)
    return response


def guarded(view: Callable) -> Callable:
    """Turn a RateLimited raised anywhere in the view into the 429 page."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except ratelimit.RateLimited as error:
            return rate_limited(request, error)

    return wrapper


def normalise_reference(text: str) -> str:
    try:
        return parse_reference(text)
    except ValueError:
        return text.strip().upper()


def applicant_page(view: Callable) -> Callable:
    """A page of one request, opened by r/<reference>/<token>/. Unknown reference or wrong token: 404.

    Failed attempts count against the look-up limit of the client's address; once it is used up, even a
    right key waits (otherwise the limit would not stop scanning). The reference's own limit is not applied
    here: a key cannot be guessed (a 32-character token, or a signature), and someone trying birth dates
    against a reference must not lock its owner out of their own link.
    """

    @guarded
    @never_cache
    @functools.wraps(view)
    def wrapper(request: HttpRequest, reference: str, token: str, **kwargs) -> HttpResponse:
        ratelimit.ensure_allowed(request, "lookup")
        found = access.resolve(reference, token)
        if found is None:
            ratelimit.check(request, "lookup")
            raise Http404("no such request")
        request.applicant_request = found
        response = view(request, found, token, **kwargs)
        response.setdefault("Cache-Control", PRIVATE)
        # The address carries the access key: never sent to another site. ("no-referrer" would also make
        # the browser send "Origin: null" with our own forms, which CSRF protection refuses.)
        response.setdefault("Referrer-Policy", "same-origin")
        return response

    return wrapper


def applicant_action(view: Callable) -> Callable:
    """A POST that changes a request; a refused change comes back as a message on the request's page."""

    @require_POST
    @applicant_page
    @functools.wraps(view)
    def wrapper(request: HttpRequest, found: AppointmentRequest, token: str, **kwargs) -> HttpResponse:
        try:
            return view(request, found, token, **kwargs)
        except DomainError as error:
            messages.error(request, str(error.message))
            return redirect(access.request_url(found.reference, token))

    return wrapper


def page_context(found: AppointmentRequest, token: str, **extra) -> dict:
    return {
        "req": found,
        "token": token,
        "request_url": access.request_url(found.reference, token),
        "tz": found.prefecture.timezone,
        **extra,
    }
