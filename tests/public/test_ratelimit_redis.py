"""Rate limits on a real Redis: the counters of one attempt (address, then identity or reference) are counted
in one round trip, with the same answers as counting them one by one (tests/public/test_ratelimit.py runs
the same rules on the local-memory cache)."""

import time

import pytest
import redis
from django.core.cache import cache
from django.test import RequestFactory

from guichet.public import ratelimit
from guichet.waitlist.models import AppointmentRequest
from tests.real_redis import REDIS_URL, use_redis_cache

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def on_redis(settings):
    use_redis_cache(settings)
    settings.GUICHET_RATE_LIMITS = {
        "filing_address": "4/h",
        "filing_identity": "2/h",
        "lookup_address": "3/h",
        "lookup_reference": "2/h",
    }
    yield
    keys = [key for key in redis.Redis.from_url(REDIS_URL).scan_iter(cache.make_key("*"))]
    if keys:
        redis.Redis.from_url(REDIS_URL).delete(*keys)


@pytest.fixture
def round_trips(monkeypatch):
    """Commands sent to Redis (a pipeline or a script counts once)."""
    sent = []
    original = redis.connection.Connection.send_packed_command

    def counting(self, command, check_health=True):
        sent.append(command)
        return original(self, command, check_health)

    monkeypatch.setattr(redis.connection.Connection, "send_packed_command", counting)
    return sent


def attempt(kind="filing", identity="haddad|1990-04-05", address="192.0.2.1"):
    ratelimit.check(RequestFactory().post("/", REMOTE_ADDR=address), kind, identity)


def test_one_attempt_is_one_round_trip(round_trips):
    attempt(identity="first")  # the script is loaded once per Redis (EVALSHA, then EVAL the first time)
    round_trips.clear()
    attempt(identity="second")
    assert len(round_trips) == 1


def test_the_identity_limit_counts_across_addresses():
    for number in range(2):
        attempt(address=f"192.0.2.{number}")
    with pytest.raises(ratelimit.RateLimited) as refused:
        attempt(address="192.0.2.9")
    assert refused.value.scope == "filing_identity"
    assert 0 < refused.value.retry_after <= 3600


def test_an_address_over_its_limit_is_refused_before_the_identity_is_counted():
    for number in range(4):
        attempt(identity=f"person {number}")
    with pytest.raises(ratelimit.RateLimited) as refused:
        attempt(identity="someone else")
    assert refused.value.scope == "filing_address"
    # "someone else" was not counted: from another address it still has its two attempts.
    for _ in range(2):
        attempt(identity="someone else", address="198.51.100.4")


def test_the_counters_expire_with_their_window_and_the_look_ups_read_them():
    now = time.time()
    for _ in range(3):
        attempt(kind="lookup", identity=None)
    address_key = cache.make_key(ratelimit._Counter.of("lookup_address", "192.0.2.1", now).key)
    ttl = redis.Redis.from_url(REDIS_URL).ttl(address_key)
    assert 0 < ttl <= 3601
    assert cache.get(ratelimit._Counter.of("lookup_address", "192.0.2.1", now).key) == 3
    # blocked() (the look-up's check before it counts) sees them.
    assert ratelimit.blocked("lookup_address", "192.0.2.1") > 0
    assert ratelimit.blocked("lookup_address", "192.0.2.2") == 0


def test_the_filing_api_answers_429_on_redis(client, world):
    body = {
        "prefecture": world.prefecture.code,
        "procedure": world.procedures["first"].code,
        "given_names": "Nour",
        "birth_date": "1990-04-05",
        "nationality": "LB",
        "email": "nour@example.org",
        "language": "en",
    }
    answers = [
        client.post("/api/v1/requests", {**body, "family_names": name}, content_type="application/json")
        for name in ("Alpha", "Beta", "Gamma", "Delta", "Epsilon")
    ]
    assert [answer.status_code for answer in answers] == [201, 201, 201, 201, 429]
    assert int(answers[-1]["Retry-After"]) > 0
    assert AppointmentRequest.objects.count() == 4
