"""What arrives from outside is checked here, once, for every route: NUL characters and hostile JSON.

PostgreSQL text cannot hold a NUL character (psycopg refuses to send one), a string holding a lone
surrogate cannot be encoded to UTF-8, and Python's JSON parser recurses once per nesting level. Any of
them reaching a query or the parser was a 500. `HostileInputMiddleware` refuses them before any view runs
(400: a translated page, or the API's structured error), so nothing is stored and no view has to care;
`parse_json` is the one JSON parser of the API (its hand-written bodies and django-ninja's, `EdgeParser`).
Cookies are the exception: a cookie holding a NUL is dropped rather than refused, so that a browser
carrying one is not locked out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import HttpRequest, HttpResponse, UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext
from ninja.parser import Parser

from guichet.errors import DomainError
from guichet.refusals import refusal_response

# Far deeper than any body the API reads (its deepest is an object of lists of objects), far shallower than
# the interpreter's recursion limit.
MAX_JSON_DEPTH = 64

_REFUSED_CHARACTER = re.compile("[\x00\ud800-\udfff]")
# A JSON string, escapes included (the "unrolled loop" form: linear time).
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_A_BRACKET = bytes(byte for byte in range(256) if byte not in b"[]{}")
_JSON_TYPES = ("application/json", "application/problem+json")


class UnsafeInput(DomainError):
    """The input holds something no field may hold; nothing was read from it."""

    status = 400


def _nul_refused() -> UnsafeInput:
    return UnsafeInput(
        "nul_character",
        gettext(
            "The address or a field contains a NUL character (code 0), which is not allowed."
            " Nothing was stored."
        ),
    )


def _holds_nul(texts: Iterable[str]) -> bool:
    return any("\x00" in text for text in texts)


def _too_deep() -> UnsafeInput:
    return UnsafeInput(
        "too_deep",
        gettext("The JSON body is nested more than %(depth)d levels deep.") % {"depth": MAX_JSON_DEPTH},
    )


def _json_depth(raw: bytes) -> int:
    brackets = _JSON_STRING.sub(b"", raw).translate(None, _NOT_A_BRACKET)
    openers = brackets.count(b"[") + brackets.count(b"{")
    if openers <= MAX_JSON_DEPTH:
        return openers
    depth = deepest = 0
    for byte in brackets:
        if byte in b"[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_JSON_DEPTH:
                    break
        else:
            depth -= 1
    return deepest


def _refused_text(value: Any) -> str | None:
    """The code of the first refused character in any string (key or value) of a parsed JSON value."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str):
            found = _REFUSED_CHARACTER.search(item)
            if found:
                return "nul_character" if found.group() == "\x00" else "lone_surrogate"
    return None


def parse_json(raw: bytes) -> Any:
    """json.loads(raw) for bodies from outside: bounded depth, no NUL, no lone surrogate.

    Like json.loads, raises ValueError (UnicodeDecodeError included) for what is not JSON in UTF-8; raises
    UnsafeInput (400, structured) for JSON holding what no field may hold.
    """
    text = raw.decode("utf-8")
    if _json_depth(raw) > MAX_JSON_DEPTH:
        raise _too_deep()
    try:
        value = json.loads(text)
    except RecursionError:
        raise _too_deep() from None
    refused = _refused_text(value)
    if refused == "nul_character":
        raise _nul_refused()
    if refused == "lone_surrogate":
        raise _lone_surrogate()
    return value


def _lone_surrogate() -> UnsafeInput:
    return UnsafeInput(
        "lone_surrogate",
        gettext(
            "The JSON body contains a lone surrogate escape (such as \\ud800), which is not a character."
        ),
    )


# The refusal is found before the language of the request is known (LocaleMiddleware comes later), so
# process_view words it again by its code, in that language.
_REFUSALS: dict[str, Callable[[], UnsafeInput]] = {
    "nul_character": _nul_refused,
    "too_deep": _too_deep,
    "lone_surrogate": _lone_surrogate,
}


class EdgeParser(Parser):
    """django-ninja's body parser, through parse_json."""

    def parse_body(self, request: HttpRequest) -> Any:
        return parse_json(request.body)


def _check(request: HttpRequest) -> None:
    """Raise UnsafeInput if the path, query, headers, form or JSON body hold what no field may hold."""
    if "\x00" in request.path_info or _holds_nul(_query_texts(request.GET.lists())):
        raise _nul_refused()
    if _holds_nul(value for key, value in request.META.items() if key.startswith("HTTP_")):
        raise _nul_refused()
    content_type = request.content_type or ""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    try:
        if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            _keep_body(request)
            if _holds_nul(_query_texts(request.POST.lists())) or _holds_nul(
                upload.name or "" for upload in request.FILES.values()
            ):
                raise _nul_refused()
        elif content_type in _JSON_TYPES and request.body:
            parse_json(request.body)
    except (ValueError, SuspiciousOperation, MultiPartParserError, UnreadablePostError):
        # Not JSON, too large, unreadable: the view meets the same error and answers it in its own words.
        return


def _keep_body(request: HttpRequest) -> None:
    """Read the raw body before the form, so that a view may still read it (Django allows body then form,
    not form then body); an upload beyond the in-memory limit is left to be parsed from the stream."""
    try:
        request.body  # noqa: B018 (read for its side effect: the body is kept on the request)
    except RequestDataTooBig:
        pass


def _query_texts(lists: Iterable[tuple[str, list[str]]]) -> Iterable[str]:
    for key, values in lists:
        yield key
        yield from values


def _drop_nul_cookies(request: HttpRequest) -> None:
    for name, value in list(request.COOKIES.items()):
        if "\x00" in name or "\x00" in value:
            del request.COOKIES[name]


class HostileInputMiddleware:
    """Drops cookies holding NUL, then refuses a request whose other input holds what no field may hold.

    It comes before the session middleware (which reads the session cookie at once). The refusal is
    answered in process_view, after every other middleware has prepared the request (language, user),
    so that the page is rendered like any other.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        _drop_nul_cookies(request)
        try:
            _check(request)
        except UnsafeInput as refused:
            request.edge_refusal = refused
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> HttpResponse | None:

        refused = getattr(request, "edge_refusal", None)
        return None if refused is None else refusal_response(request, _REFUSALS[refused.code]())
