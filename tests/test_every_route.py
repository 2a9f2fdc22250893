"""Arbitrary text to every route the URL resolver knows, page and API, public and staff: never a 5xx.

The routes are read from the resolver, so a new route is covered without touching this file. Each route
gets a few requests built by Hypothesis: its path parameters (a real reference, token or id of the
scenario, or hostile text), a query string, and a form or JSON body whose fields (the filing's and the
other forms' names) hold hostile text: NUL, lone surrogates, right-to-left overrides, very long strings,
deep JSON. Requests come anonymous, from a signed-in prefecture administrator, or with a staff API token.
A refusal (4xx) must have stored nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import LocalePrefixPattern, RegexPattern, RoutePattern
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from guichet.accounts.services import create_api_token
from guichet.appointments.models import Appointment, Offer
from guichet.evidence.models import AuditEntry, Proof
from guichet.notifications.models import OutboxMessage
from guichet.waitlist.models import AppointmentRequest
from tests.backoffice.helpers import staff, verified_login
from tests.public import scenario as scenarios

pytestmark = pytest.mark.django_db

# Few examples per route keep the test within seconds for ~180 routes; the hostile corpus is drawn often.
EXAMPLES_PER_ROUTE = 3

HOSTILE = [
    "\x00",
    "Zoë\x00",
    "\ud800",
    "a\udfffb",
    "\u202eevil\u202c",
    "\u2067\u0627\u2069",
    "O'Connor",
    "李小龙",
    "x" * 20_000,
    "[" * 5_000,
    "%00",
    "../../etc/passwd",
    "<script>alert(1)</script>",
    "-1",
    "99999999999999999999",
    "",
    " ",
]
hostile_text = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=40))
# What the forms and the API read (the filing's fields first): these are the names filled with hostile text.
FIELDS = [
    "family_names",
    "given_names",
    "birth_date",
    "nationality",
    "email",
    "phone",
    "postal_address",
    "language",
    "permit_expires_on",
    "prefecture",
    "procedure",
    "sites",
    "reference",
    "token",
    "t",
    "q",
    "reason",
    "code",
    "username",
    "password",
    "slot",
    "slot_id",
    "offer",
    "channel",
    "received_at",
    "next",
    "name",
    "role",
    "note",
    "submission",
]


def _walk(patterns, prefix: tuple) -> Iterator[tuple]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, (*prefix, pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield (*prefix, pattern.pattern)


ROUTES = list(_walk(get_resolver().url_patterns, ()))
_PLACEHOLDER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")
LANGUAGES = [code for code, _name in settings.LANGUAGES]


def _describe(chain: tuple) -> str:
    return "".join("<lang>/" if isinstance(part, LocalePrefixPattern) else str(part) for part in chain)


def _encoded(text: str) -> str:
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


def _form(fields: dict[str, str]) -> bytes:
    return "&".join(f"{_encoded(key)}={_encoded(value)}" for key, value in fields.items()).encode("ascii")


def _segment(draw, chain_part, known: dict[str, str]) -> str:
    if isinstance(chain_part, LocalePrefixPattern):
        return draw(st.sampled_from(LANGUAGES)) + "/"
    if isinstance(chain_part, RegexPattern):
        regex = chain_part.regex.pattern
        return _encoded(draw(st.from_regex(regex, fullmatch=True))) if regex not in ("", "^") else ""
    assert isinstance(chain_part, RoutePattern)
    route = str(chain_part._route)

    def fill(match: re.Match) -> str:
        name = match["name"]
        converter = chain_part.converters[name]
        real = known.get(name)
        if match["converter"] in (None, "str"):
            choice = st.one_of(
                hostile_text.filter(lambda text: text and "/" not in text), st.just(real or "x")
            )
        else:
            choice = st.from_regex(converter.regex, fullmatch=True)
            if real is not None:
                choice = st.one_of(choice, st.just(real))
        return _encoded(draw(choice))

    return _PLACEHOLDER.sub(fill, route)


@st.composite
def requests_to(draw, chain: tuple, known: dict[str, str], base: dict[str, str]):
    path = "/" + "".join(_segment(draw, part, known) for part in chain)
    method = draw(st.sampled_from(["GET", "POST"]))
    who = draw(st.sampled_from(["anonymous", "staff", "token"]))
    query = draw(st.dictionaries(st.sampled_from(FIELDS), hostile_text, max_size=3))
    if query:
        path += "?" + _form(query).decode("ascii")
    body: bytes | None = None
    content_type = ""
    if method == "POST":
        fields = {
            **base,
            **draw(st.dictionaries(st.sampled_from(FIELDS), hostile_text, min_size=1, max_size=4)),
        }
        if path.startswith("/api/"):
            content_type = "application/json"
            kind = draw(st.sampled_from(["fields", "deep", "text"]))
            if kind == "fields":
                body = json.dumps(fields).encode()
            elif kind == "deep":
                depth = draw(st.sampled_from([100, 50_000]))
                body = (draw(st.sampled_from(["[", '{"a":'])) * depth).encode()
            else:
                body = draw(hostile_text).encode("utf-8", "surrogatepass")
        else:
            content_type = "application/x-www-form-urlencoded"
            body = _form(fields)
    address = f"10.{draw(st.integers(0, 255))}.{draw(st.integers(0, 255))}.1"  # past the rate limits
    return path, method, who, content_type, body, address


def _stored() -> tuple[int, ...]:
    return tuple(
        model.objects.count()
        for model in (AppointmentRequest, Offer, Appointment, Proof, OutboxMessage, AuditEntry)
    )


@pytest.fixture
def scenario(world):
    return scenarios.build(world)


def test_every_route_has_routes_to_probe():
    described = {_describe(chain) for chain in ROUTES}
    # The resolver is really read: public, staff, API and evidence routes are all there.
    assert {"<lang>/procedures/<str:prefecture>/<slug:code>/request/", "api/v1/requests"} <= described
    assert any(route.startswith("<lang>/staff/") for route in described)
    assert len(ROUTES) > 150


def test_arbitrary_text_to_every_route_never_gives_a_5xx(scenario):
    world = scenario.world
    administrator = staff(world.prefecture, role="prefecture_admin")
    anonymous, signed_in = Client(), Client()
    verified_login(signed_in, administrator)
    _token, raw_token = create_api_token(administrator, name="probe", prefecture=world.prefecture)
    known = {
        "reference": scenario.offered.reference,
        "token": scenario.offered.token,
        "prefecture": world.prefecture.code,
        "code": world.prefecture.code,
        "offer_id": str(scenario.offer.pk),
        "appointment_id": str(scenario.appointment.pk),
        "pk": str(Proof.objects.filter(request=scenario.offered.request).values_list("pk", flat=True)[0]),
    }
    base = {
        "prefecture": world.prefecture.code,
        "procedure": world.procedures["first"].code,
        "family_names": "Nguyễn",
        "given_names": "Văn An",
        "birth_date": "1990-05-17",
        "nationality": "VN",
        "email": "an@example.org",
        "language": "fr",
    }
    for chain in ROUTES:

        @given(request=requests_to(chain, known, base))
        @hypothesis_settings(
            max_examples=EXAMPLES_PER_ROUTE,
            deadline=None,
            database=None,
            suppress_health_check=[
                HealthCheck.too_slow,
                HealthCheck.filter_too_much,
                HealthCheck.data_too_large,
            ],
        )
        def probe(request):
            path, method, who, content_type, body, address = request
            client = signed_in if who == "staff" else anonymous
            headers = {"REMOTE_ADDR": address}
            if who == "token":
                headers["HTTP_AUTHORIZATION"] = f"Bearer {raw_token}"
            before = _stored()
            if method == "GET":
                response = client.get(path, **headers)
            else:
                response = client.post(path, data=body, content_type=content_type, **headers)
            assert response.status_code < 500, (path, method, who, response.status_code)
            if response.status_code >= 400:
                assert _stored() == before, (path, method, response.status_code)

        probe()
