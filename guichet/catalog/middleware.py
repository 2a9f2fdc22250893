"""Every request sees one version of the catalogue (guichet/catalog/cached.py)."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from guichet.catalog import cached


class CatalogueSnapshotMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with cached.per_request():
            return self.get_response(request)
