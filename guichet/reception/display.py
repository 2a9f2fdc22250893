"""The waiting room's screen: the tickets called and their counters, never a name.

The page works on a cheap TV browser: large high-contrast text, no JavaScript needed (it reloads itself
every REFRESH_SECONDS by meta refresh, inside <noscript>). With JavaScript it listens to a server-sent
event stream instead, which sends the list again as soon as a call changes it. A stream lasts at most
STREAM_SECONDS, checking a version number in the cache (set after each call commits) every POLL_SECONDS;
the browser then reconnects by itself (EventSource), so a screen holds a server worker only briefly.
"""

from __future__ import annotations

import logging
import time

from django.core.cache import cache
from django.db import DatabaseError, close_old_connections
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.views.decorators.cache import never_cache

from guichet.catalog.models import Site

from .calls import display_version_key
from .models import Visit, VisitStatus
from .services import local_day

logger = logging.getLogger(__name__)

REFRESH_SECONDS = 10
STREAM_SECONDS = 25
POLL_SECONDS = 1
SHOWN = 8


def called_now(site: Site) -> list[Visit]:
    """The latest calls of the day at the site, newest first (each ticket once)."""
    return list(
        Visit.objects.filter(site=site, day=local_day(site), status=VisitStatus.CALLED)
        .select_related("counter")
        .order_by("-called_at", "-id")[:SHOWN]
    )


def _site(site_id: int) -> Site:
    return get_object_or_404(Site, pk=site_id, is_active=True)


@never_cache
def screen(request: HttpRequest, site_id: int) -> HttpResponse:
    site = _site(site_id)
    return render(
        request,
        "reception/display.html",
        {"site": site, "called": called_now(site), "refresh": REFRESH_SECONDS},
    )


def _event(site: Site) -> str:
    html = render_to_string("reception/_called.html", {"called": called_now(site)})
    lines = "".join(f"data: {line}\n" for line in html.splitlines() or [""])
    return f"retry: 2000\n{lines}\n"


def _stream(site: Site, seconds: float):
    """Send the list, then again at each change, until `seconds` have passed. A read that fails (the
    database busy or failing over) ends the stream early: the screen reconnects two seconds later."""
    deadline = time.monotonic() + seconds
    seen = cache.get(display_version_key(site.pk))
    try:
        yield _event(site)
        while time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)
            version = cache.get(display_version_key(site.pk))
            if version != seen:
                seen = version
                yield _event(site)
            else:
                yield ": still here\n\n"
    except DatabaseError:
        logger.warning("display stream of site %s ended by a database error", site.pk, exc_info=True)
    finally:
        close_old_connections()


@never_cache
def events(request: HttpRequest, site_id: int) -> StreamingHttpResponse:
    site = _site(site_id)
    response = StreamingHttpResponse(_stream(site, STREAM_SECONDS), content_type="text/event-stream")
    response["X-Accel-Buffering"] = "no"
    return response
