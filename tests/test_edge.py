"""NUL characters and hostile JSON are refused at the edge, for every route: 400, clear words, nothing stored.

On PostgreSQL each of these was a 500 before guichet/edge.py ("text fields cannot contain NUL", a lone
surrogate that cannot be encoded, a RecursionError in the JSON parser); on SQLite the NUL was stored.
"""

import json
import time

import pytest
from django.utils import translation

from guichet.edge import MAX_JSON_DEPTH, UnsafeInput, parse_json
from guichet.waitlist.models import AppointmentRequest
from tests.backoffice.helpers import staff, verified_login
from tests.public.test_filing import form_url, valid
from tests.waitlist.intake_helpers import raw_request

pytestmark = pytest.mark.django_db

API = "/api/v1/requests"


def api_body(world, **overrides) -> dict:
    return {"prefecture": world.prefecture.code, **raw_request(world, **overrides)}


def post_json(client, text: str | bytes):
    return client.post(API, data=text, content_type="application/json")


def assert_refused_in_json(response, code: str) -> None:
    assert response.status_code == 400, response.content[:300]
    body = response.json()
    assert body["code"] == code and body["message"] and body["fields"] == {}


def test_the_refusal_is_worded_in_the_language_of_the_page_not_of_the_last_request(client, world):
    translation.activate("en")
    try:
        response = client.post(form_url(world, language="fr"), valid(world, family_names="Zoë\x00"))
    finally:
        translation.deactivate()
    assert response.status_code == 400
    assert "caractère NUL" in response.content.decode()


def test_a_nul_in_a_form_field_is_refused_with_a_translated_page(client, world):
    response = client.post(form_url(world, language="fr"), valid(world, family_names="Zoë\x00"))
    assert response.status_code == 400
    page = response.content.decode()
    assert 'lang="fr"' in page and "caractère NUL" in page
    assert AppointmentRequest.objects.count() == 0


def test_the_refusal_page_speaks_arabic_right_to_left(client, world):
    response = client.post(form_url(world, language="ar"), valid(world, given_names="\x00"))
    assert response.status_code == 400
    page = response.content.decode()
    assert 'lang="ar"' in page and 'dir="rtl"' in page
    with translation.override("ar"):
        assert translation.gettext("What you sent was not accepted") in page
    assert AppointmentRequest.objects.count() == 0


def test_a_nul_in_the_query_string_of_a_page_and_of_the_staff_search(client, world):
    assert client.get("/fr/status/?reference=93-\x00").status_code == 400
    verified_login(client, staff(world.prefecture))
    assert client.get(f"/fr/staff/{world.prefecture.code}/queue/", {"q": "O'Connor\x00"}).status_code == 400
    assert client.get("/fr/staff/search/", {"q": "\x00"}).status_code == 400


def test_a_nul_in_the_path_is_refused(client, world):
    assert client.get("/fr/convocation/93-AAAA\x00BBBB/").status_code == 400
    assert client.get("/fr/figures/93\x00/").status_code == 400


def test_a_nul_in_the_query_string_of_the_api(client, world):
    response = client.get("/api/v1/statistics", {"prefecture": "93\x00"})
    assert_refused_in_json(response, "nul_character")


def test_a_cookie_holding_a_nul_is_dropped_not_refused(client, world):
    client.cookies["sessionid"] = "abcdefgh\x00ijkl"
    assert client.get("/fr/").status_code == 200


def test_a_nul_in_a_json_string_is_refused_and_nothing_is_stored(client, world):
    response = post_json(client, json.dumps(api_body(world, family_names="Li\u0000")))
    assert_refused_in_json(response, "nul_character")
    assert AppointmentRequest.objects.count() == 0


def test_a_nul_in_a_json_key_is_refused(client, world):
    response = post_json(client, json.dumps({**api_body(world), "a\u0000": 1}))
    assert_refused_in_json(response, "nul_character")


def test_a_lone_surrogate_escape_is_refused(client, world):
    text = json.dumps(api_body(world)).replace('"Nguy\\u1ec5n"', '"\\ud800"')
    assert "\\ud800" in text
    assert_refused_in_json(post_json(client, text), "lone_surrogate")
    assert AppointmentRequest.objects.count() == 0


@pytest.mark.parametrize("opening", ["[", '{"a":'])
def test_fifty_thousand_levels_of_nesting_are_refused_quickly(client, world, opening):
    closing = "]" if opening == "[" else "}"
    text = opening * 50_000 + "1" + closing * 50_000
    # The first request of a process loads the URLs and the views (seconds on a busy machine): not timed.
    assert_refused_in_json(post_json(client, opening * 100 + "1" + closing * 100), "too_deep")
    started = time.perf_counter()
    response = post_json(client, text)
    assert time.perf_counter() - started < 2
    assert_refused_in_json(response, "too_deep")


def test_nesting_is_refused_on_every_json_route_even_without_the_json_content_type(client, world):
    deep = ("[" * 1_000 + "]" * 1_000).encode()  # within the verifier's size limit
    response = client.post("/api/v1/proofs/verify", data=deep, content_type="text/plain")
    assert_refused_in_json(response, "too_deep")


def test_the_depth_limit_counts_nesting_not_brackets_inside_strings():
    assert parse_json(b'{"a": "' + b"[" * 10_000 + b'"}') == {"a": "[" * 10_000}
    assert parse_json(b'["\\"[[[", "\\\\", [1]]') == ['"[[[', "\\", [1]]
    at_limit = b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH
    assert parse_json(at_limit) is not None
    with pytest.raises(UnsafeInput):
        parse_json(b"[" + at_limit + b"]")
    # Many siblings are not depth.
    assert len(parse_json(b"[" + b",".join([b"[]"] * 10_000) + b"]")) == 10_000


def test_what_is_not_json_is_still_a_value_error():
    for raw in (b"{", b"\xff", b"[1,]"):
        with pytest.raises(ValueError):
            parse_json(raw)
