"""Login throttling over the cache: failed passwords and codes lock an account, and an address, for a while.

Counters live in the cache (Redis in production, shared by every worker), so a restart forgets them;
that only shortens a lockout, it never locks anyone out for good.
"""

import hashlib
import time

from django.conf import settings
from django.core.cache import cache


def _key(kind: str, value: str) -> str:
    digest = hashlib.sha256(value.strip().lower().encode()).hexdigest()[:32]
    return f"guichet:login:{kind}:{digest}"


def _limit(kind: str) -> int:
    return settings.LOGIN_FAILURES_PER_ACCOUNT if kind == "account" else settings.LOGIN_FAILURES_PER_ADDRESS


def locked_for(username: str, address: str) -> int:
    """Seconds until the account or the address may try again; 0 when neither is locked."""
    now = time.time()
    remaining = 0
    for kind, value in (("account", username), ("address", address)):
        if not value:
            continue
        until = cache.get(_key(f"{kind}-lock", value))
        if until is not None and until > now:
            remaining = max(remaining, int(until - now) + 1)
    return remaining


def register_failure(username: str, address: str) -> bool:
    """Count one failure; returns True when it locks the account or the address."""
    window = settings.LOGIN_LOCKOUT_SECONDS
    locked = False
    for kind, value in (("account", username), ("address", address)):
        if not value:
            continue
        key = _key(f"{kind}-fail", value)
        cache.add(key, 0, timeout=window)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=window)
            count = 1
        if count >= _limit(kind):
            cache.set(_key(f"{kind}-lock", value), time.time() + window, timeout=window)
            cache.delete(key)
            locked = True
    return locked


def reset(username: str) -> None:
    """A successful login clears the account's failures (not the address's: one good password must not
    reset a spraying address)."""
    cache.delete_many([_key("account-fail", username), _key("account-lock", username)])


def allow(scope: str, value: str, *, limit: int, window: int) -> bool:
    """Count one attempt of `scope` by `value` (an address); False once `limit` is passed within `window`."""
    key = _key(f"rate-{scope}", value or "unknown")
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=window)
        count = 1
    return count <= limit
