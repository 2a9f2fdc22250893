"""Rate limits on filing and on look-ups, per address and per identity or reference; a clear 429 page."""

import pytest
from django.test import RequestFactory

from guichet.public import ratelimit
from guichet.waitlist.models import AppointmentRequest
from tests.public import scenario as scenarios
from tests.public.test_filing import form_url, valid

pytestmark = pytest.mark.django_db


@pytest.fixture
def limits(settings):
    settings.GUICHET_RATE_LIMITS = {
        "filing_address": "4/h",
        "filing_identity": "2/h",
        "lookup_address": "3/h",
        "lookup_reference": "2/h",
    }
    return settings.GUICHET_RATE_LIMITS


def test_limits_parse():
    assert ratelimit.Limit.parse("20/h") == ratelimit.Limit(20, 3600)
    assert ratelimit.Limit.parse("5/10m") == ratelimit.Limit(5, 600)
    assert ratelimit.Limit.parse("1/d") == ratelimit.Limit(1, 86400)
    for bad in ("", "ten/h", "5/y", "5"):
        with pytest.raises(ValueError):
            ratelimit.Limit.parse(bad)


def test_client_address(settings):
    factory = RequestFactory()
    request = factory.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 5.6.7.8")
    settings.TRUSTED_PROXY_HOPS = 0
    assert ratelimit.client_address(request) == "10.0.0.1"
    settings.TRUSTED_PROXY_HOPS = 1
    assert ratelimit.client_address(request) == "5.6.7.8"
    settings.TRUSTED_PROXY_HOPS = 0
    # One IPv6 /64 is one client: it could rotate the rest at will.
    first = factory.get("/", REMOTE_ADDR="2001:db8:1:2::1")
    second = factory.get("/", REMOTE_ADDR="2001:db8:1:2:ffff::9")
    assert ratelimit.client_address(first) == ratelimit.client_address(second) == "2001:db8:1:2::/64"
    assert ratelimit.client_address(factory.get("/", REMOTE_ADDR="::ffff:1.2.3.4")) == "1.2.3.4"


def test_filing_is_limited_per_identity(client, world, limits):
    # The same person sending and sending again (each attempt refused as a duplicate, or not).
    for attempt in range(2):
        assert client.post(form_url(world), valid(world, submission=f"s{attempt}")).status_code in (200, 302)
    response = client.post(form_url(world), valid(world, submission="s3"))
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "Too many attempts" in response.content.decode()
    assert AppointmentRequest.objects.count() == 1


def test_filing_is_limited_per_address(client, world, limits):
    for number in range(4):
        client.post(
            form_url(world), valid(world, family_names=f"Person {'abcd'[number]}", submission=str(number))
        )
    response = client.post(form_url(world), valid(world, family_names="Someone Else", submission="x"))
    assert response.status_code == 429
    # Another address is not concerned.
    response = client.post(
        form_url(world), valid(world, family_names="Someone Else", submission="y"), REMOTE_ADDR="192.0.2.7"
    )
    assert response.status_code == 302


def test_lookups_are_limited_per_reference_from_any_address(client, world, limits):
    filed = scenarios.file(world)
    for number in range(2):
        client.post(
            "/en/status/",
            {"reference": filed.reference, "birth_date": "1970-01-01"},
            REMOTE_ADDR=f"192.0.2.{number}",
        )
    # Even the right birth date waits now: otherwise the limit would not stop guessing.
    response = client.post(
        "/en/status/",
        {"reference": filed.reference, "birth_date": scenarios.BIRTH_DATE},
        REMOTE_ADDR="192.0.2.99",
    )
    assert response.status_code == 429
    # The owner's private link still opens: a key cannot be guessed, and guessing birth dates must not lock
    # the owner out.
    assert client.get(filed.url(language="en"), REMOTE_ADDR="192.0.2.99").status_code == 200


def test_wrong_private_links_are_limited_per_address(client, world, limits):
    filed = scenarios.file(world)
    others = [scenarios.file(world) for _ in range(3)]
    for other in others:
        assert client.get(f"/en/r/{other.reference}/wrong-token/").status_code == 404
    assert client.get(filed.url(language="en")).status_code == 429
    assert client.get(filed.url(language="en"), REMOTE_ADDR="192.0.2.50").status_code == 200


def test_successful_lookups_are_not_counted(client, world, limits):
    filed = scenarios.file(world)
    for _ in range(10):
        assert client.get(filed.url(language="en")).status_code == 200
        response = client.post(
            "/en/status/", {"reference": filed.reference, "birth_date": scenarios.BIRTH_DATE}
        )
        assert response.status_code == 302


def test_the_429_page_is_in_the_page_language(client, world, limits):
    filed = scenarios.file(world)
    for _ in range(3):
        client.get(f"/ar/r/{filed.reference}/nope/")
    response = client.get(f"/ar/r/{filed.reference}/nope/")
    assert response.status_code == 429
    assert 'lang="ar"' in response.content.decode() and 'dir="rtl"' in response.content.decode()
