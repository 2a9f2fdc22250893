"""Public pages that say the same to everybody, kept rendered per process, per language.

The home page and a procedure's page cost three to six times a trivial answer, nearly all of it rendering
the same templates again (docs/benchmarks.md). `@kept` keeps the page's rendered HTML in the process's
local cache `pages` (settings.CACHES), under its address (which holds the language), the skin and, for a
page of the catalogue, the catalogue's version stamp (guichet/catalog/cached.py): an edit of the
catalogue is in the next request's page. The answer's headers are still made for each request by the
middleware (security policy, language, cookies).

Nothing that depends on the person is ever kept or given from what is kept:
- only anonymous visitors' pages are kept or served (staff get their own rendering: their session);
- a rendering that used a CSRF token (a form) or set a cookie is not kept;
- only GET and HEAD without a query string (the language links repeat the query string; and nobody can
  fill the cache with addresses of their own), and only answers 200.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.core.cache import caches
from django.http import HttpRequest, HttpResponse
from django.utils.translation import get_language

from guichet.catalog import cached
from guichet.public import skins

CACHE = "pages"


def _keepable(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    return (
        request.method in ("GET", "HEAD")
        and not request.META.get("QUERY_STRING")
        and (user is None or not user.is_authenticated)
    )


def kept(seconds: int, *, catalogue: bool = False) -> Callable:
    """Keep the view's page `seconds` at most; `catalogue`: the page shows the catalogue (a new version
    stamp makes a new page)."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not _keepable(request):
                return view(request, *args, **kwargs)
            stamp = cached.stamp() if catalogue else ""
            if stamp is None:  # no stamp to know the catalogue by (after a flush): nothing kept
                return view(request, *args, **kwargs)
            key = f"{request.path}|{get_language()}|{skins.current()}|{stamp}"
            store = caches[CACHE]
            page = store.get(key)
            if page is not None:
                body, content_type = page
                return HttpResponse(body, content_type=content_type)
            response = view(request, *args, **kwargs)
            if (
                response.status_code == 200
                and not response.streaming
                and getattr(response, "is_rendered", True)
                and not response.cookies
                and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
            ):
                store.set(key, (response.content, response["Content-Type"]), seconds)
            return response

        return wrapper

    return decorate
