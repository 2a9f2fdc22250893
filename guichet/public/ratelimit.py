"""Rate limits for the public pages, counted in Django's cache (Redis in production, local memory by default).

No CAPTCHA: it blocks people who use assistive technology and does not stop the bots that resell slots
(DOMAIN.md §5). A queue makes speed worthless; these limits only stop brute force on look-ups and floods of
filings. Each limit is a fixed window: the first hit of a window creates the counter with the window as its
lifetime, later hits increment it. The answer says when the window ends, so the page can tell the person
when to try again.

On Redis, the counters of one attempt (the address's, then the identity's or reference's) are counted in one
round trip, by a script that Redis runs atomically; other cache backends count them one by one.
"""

import datetime
import hashlib
import ipaddress
import time
from collections.abc import Mapping
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.http import HttpRequest
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.translation import gettext, ngettext

from guichet.waitlist.identity import normalise_names

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class RateLimited(Exception):
    """Too many attempts; `retry_after` is the number of seconds until the next one is allowed."""

    def __init__(self, scope: str, retry_after: int):
        super().__init__(f"rate limit {scope}: retry after {retry_after} s")
        self.scope = scope
        self.retry_after = max(1, retry_after)
        # explain()'s text, when the caller made it in the language of its answer (the API's body).
        self.explained: str | None = None


@dataclass(frozen=True)
class Limit:
    count: int
    period: int  # seconds

    @classmethod
    def parse(cls, text: str) -> "Limit":
        """ "20/h" → 20 per hour; "5/10m" → 5 per 10 minutes."""
        count, _, per = text.strip().partition("/")
        unit = per[-1:]
        if unit not in PERIODS or not count.isdigit():
            raise ValueError(f"a rate limit looks like '20/h' or '5/10m', not {text!r}")
        multiple = per[:-1]
        return cls(int(count), PERIODS[unit] * (int(multiple) if multiple.isdigit() else 1))


def retry_minutes(error: RateLimited) -> int:
    return max(1, -(-error.retry_after // 60))


def retry_at(error: RateLimited) -> datetime.datetime:
    return timezone.localtime() + datetime.timedelta(seconds=error.retry_after)


def explain(error: RateLimited) -> str:
    """What the 429 page says, as one text for the API, in the active language."""
    minutes = retry_minutes(error)
    when = ngettext(
        "Please try again in %(minutes)s minute, after %(time)s.",
        "Please try again in %(minutes)s minutes, after %(time)s.",
        minutes,
    ) % {"minutes": minutes, "time": date_format(retry_at(error), "H:i")}
    why = gettext(
        "To protect everybody's requests, the number of attempts from one connection, and for one request, "
        "is limited."
    )
    return f"{when} {why}"


def filing_identity(data: Mapping) -> str:
    """What the per-identity filing limit counts: the names as the duplicate check folds them, the birth date
    as given (whatever the form or the JSON holds, valid or not)."""

    names = normalise_names(str(data.get("family_names", ""))[:200], str(data.get("given_names", ""))[:200])
    return f"{names}|{str(data.get('birth_date', ''))[:40]}"


def limit_for(scope: str) -> Limit:
    return Limit.parse(settings.GUICHET_RATE_LIMITS[scope])


def client_address(request: HttpRequest) -> str:
    """The client's address; behind TRUSTED_PROXY_HOPS proxies, the one they saw.

    IPv6 addresses are grouped by /64: one household or phone gets a whole /64 and could otherwise
    rotate addresses at will.
    """
    address = request.META.get("REMOTE_ADDR", "")
    hops = settings.TRUSTED_PROXY_HOPS
    if hops:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= hops:
            address = forwarded[-hops]
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address or "unknown"
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def _key(scope: str, value: str, window_start: int) -> str:
    # Hashed: the cache never holds an address, a reference or an identity in clear.
    digest = hashlib.sha256(f"{scope}\x00{value}".encode()).hexdigest()[:32]
    return f"guichet:rl:{scope}:{digest}:{window_start}"


@dataclass(frozen=True)
class _Counter:
    """One scope's counter for the current window."""

    scope: str
    limit: Limit
    key: str
    retry_after: int

    @classmethod
    def of(cls, scope: str, value: str, now: float) -> "_Counter":
        limit = limit_for(scope)
        window_start = int(now // limit.period) * limit.period
        return cls(scope, limit, _key(scope, value, window_start), int(window_start + limit.period - now) + 1)


# KEYS: the counters in order; ARGV: each one's limit, then its lifetime in seconds. Counts each in turn and
# stops after the first that goes over its limit, as hit() one after the other would. Returns the counts.
_COUNT_SCRIPT = """
local counts = {}
for i, key in ipairs(KEYS) do
  local count = redis.call('INCR', key)
  if count == 1 or redis.call('TTL', key) == -1 then
    redis.call('EXPIRE', key, ARGV[2 * i])
  end
  counts[i] = count
  if count > tonumber(ARGV[2 * i - 1]) then
    break
  end
end
return counts
"""
_script = None


def _redis_count(counters: list[_Counter]) -> list[int] | None:
    """The counts after one attempt, in one round trip; None when the cache is not Redis."""
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return None
    global _script  # one per process: it is only the script's text and digest
    # Django's Redis backend stores integers as Redis integers, so cache.get() reads these counters as ints
    # and blocked() works on them unchanged. Django has no public way to its Redis client: this is its own.
    client = backend._cache.get_client(write=True)
    if _script is None:
        _script = client.register_script(_COUNT_SCRIPT)
    script = _script
    args: list[int] = []
    for counter in counters:
        args += [counter.limit.count, counter.limit.period + 1]
    keys = [backend.make_and_validate_key(counter.key) for counter in counters]
    return [int(count) for count in script(keys=keys, args=args, client=client)]


def _count(counters: list[_Counter]) -> None:
    """Count one attempt on each counter in order; raise RateLimited at the first over its limit."""
    counts = _redis_count(counters)
    if counts is None:
        counts = []
        for counter in counters:
            counts.append(_count_one(counter))
            if counts[-1] > counter.limit.count:
                break
    for counter, count in zip(counters, counts, strict=False):
        if count > counter.limit.count:
            raise RateLimited(counter.scope, counter.retry_after)


def hit(scope: str, value: str, *, now: float | None = None) -> None:
    """Count one attempt for `value` under `scope`; raise RateLimited when over the limit."""
    _count([_Counter.of(scope, value, time.time() if now is None else now)])


def _count_one(counter: _Counter) -> int:
    key, limit = counter.key, counter.limit
    # add() is atomic in every backend: only the first attempt of a window creates the counter.
    if cache.add(key, 1, timeout=limit.period + 1):
        count = 1
    else:
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add() and incr()
            cache.add(key, 1, timeout=limit.period + 1)
            count = 1
    return count


def blocked(scope: str, value: str, *, now: float | None = None) -> int:
    """Seconds until `value` may try again under `scope` (0: it may), without counting an attempt."""
    limit = limit_for(scope)
    now = time.time() if now is None else now
    window_start = int(now // limit.period) * limit.period
    count = cache.get(_key(scope, value, window_start)) or 0
    return int(window_start + limit.period - now) + 1 if count >= limit.count else 0


def ensure_allowed(request: HttpRequest, kind: str, identity: str | None = None) -> None:
    """Raise RateLimited if this client, or this identity or reference, has used up its attempts."""
    scopes = [(f"{kind}_address", client_address(request))]
    if identity:
        scopes.append((f"{kind}_identity" if kind == "filing" else f"{kind}_reference", identity))
    for scope, value in scopes:
        wait = blocked(scope, value)
        if wait:
            raise RateLimited(scope, wait)


def check(request: HttpRequest, kind: str, identity: str | None = None) -> None:
    """Count an attempt of `kind` ("filing" or "lookup") by this client, and for this identity or reference.

    The address is counted first, so that an attacker spraying many references from one address is stopped
    by the address limit; a reference under attack from many addresses is stopped by its own limit.
    """
    now = time.time()
    counters = [_Counter.of(f"{kind}_address", client_address(request), now)]
    if identity:
        scope = f"{kind}_identity" if kind == "filing" else f"{kind}_reference"
        counters.append(_Counter.of(scope, identity, now))
    _count(counters)
