"""Tests that need a real Redis (TEST_REDIS_URL, by default db 2 on 127.0.0.1): skipped with the reason
without one, failed in CI, where `.ci/run` starts it."""

import os
import socket
import urllib.parse
import uuid

import pytest

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/2")


def redis_answers() -> bool:
    parsed = urllib.parse.urlparse(REDIS_URL)
    try:
        with socket.create_connection((parsed.hostname, parsed.port or 6379), timeout=2):
            return True
    except OSError:
        return False


def require_redis() -> None:
    """Skip the test (fail it in CI) when Redis does not answer."""
    if not redis_answers():
        if os.environ.get("CI"):
            pytest.fail(f"Redis is required in CI and does not answer at {REDIS_URL}")
        pytest.skip(f"needs Redis at {REDIS_URL} (TEST_REDIS_URL)")


def use_redis_cache(settings) -> None:
    """Make the default cache Guichet's Redis backend on REDIS_URL, under keys of this test's own (other tests
    and runs share the Redis); skip (fail in CI) without Redis."""
    require_redis()
    settings.CACHES = {
        "default": {
            "BACKEND": "guichet.redis_cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": f"guichet-test-{uuid.uuid4().hex}",
        }
    }
