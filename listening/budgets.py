"""Shared request budgets: one per (platform, credential), kept in Redis.

One platform app's request budget is shared by every saved search and channel that
uses its credential (X allows 450 recent-search requests per 15 minutes per app).
A budget is a window: `remaining` requests until `reset_at`. It starts from the
configured default (`EARSHOT_REQUEST_BUDGETS`) and follows the platform's own
rate-limit headers (`Page.rate_limit`) once they arrive; each page's `requests`
are counted off it.

Runs *reserve* before they ask the platform for a page: the dispatcher reserves the
first page when it claims a harvest (and hands the reservation to the run through
its claim token), and the run reserves each further page itself, so what is
promised out never exceeds what is left. A source that makes several requests for
one page (a sign-in, a user lookup) can overdraw by those; the platform's headers
correct the count on the next page. Reservations lapse when the window resets, so a
worker that died holding one costs at most one window.

When a platform answers "rate limited", the whole budget is blocked until its reset
(`block`), so every search and channel on that credential waits, not just one.

All times are passed in (`now`), so a test can drive the budget with a fake clock.
"""

from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from urllib.parse import urlsplit

import redis
from django.conf import settings

from listening.sources.base import RateLimitState

PREFIX = "earshot:budget:"
CLAIM_PREFIX = "earshot:budget-claim:"
# Redis keeps a budget a day past its last use; a window is never that long.
TTL_SECONDS = 24 * 3600

# Roll the window if it has passed; then the fields every script works with.
_ROLL = """
local now = tonumber(ARGV[1])
local conf_limit = tonumber(ARGV[2])
local conf_window = tonumber(ARGV[3])
local h = redis.call('HMGET', KEYS[1], 'limit', 'remaining', 'reset_at', 'reserved', 'blocked_until')
local limit = tonumber(h[1]) or conf_limit
local remaining = tonumber(h[2])
local reset_at = tonumber(h[3])
local reserved = tonumber(h[4]) or 0
local blocked = tonumber(h[5]) or 0
if (not reset_at) or reset_at <= now then
  remaining = limit
  reset_at = now + conf_window
  reserved = 0
end
if not remaining then remaining = limit end
"""

_SAVE = """
redis.call('HSET', KEYS[1], 'limit', limit, 'remaining', remaining, 'reset_at', reset_at, 'reserved', reserved)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
"""

# ARGV: now, conf_limit, conf_window, ttl, cost -> 1 reserved, 0 not
_RESERVE = _ROLL + """
local cost = tonumber(ARGV[5])
if blocked > now or remaining - reserved < cost then return 0 end
reserved = reserved + cost
""" + _SAVE + "return 1"

# ARGV: now, conf_limit, conf_window, ttl, requests, release, header limit, header remaining, header reset ('' = none)
_SPEND = _ROLL + """
remaining = remaining - tonumber(ARGV[5])
reserved = math.max(0, reserved - tonumber(ARGV[6]))
if ARGV[7] ~= '' then limit = tonumber(ARGV[7]) end
if ARGV[8] ~= '' then remaining = tonumber(ARGV[8]) end
if ARGV[9] ~= '' then reset_at = tonumber(ARGV[9]) end
""" + _SAVE + "return remaining"

# ARGV: now, conf_limit, conf_window, ttl, count
_RELEASE = _ROLL + """
reserved = math.max(0, reserved - tonumber(ARGV[5]))
""" + _SAVE + "return reserved"

# ARGV: now, conf_limit, conf_window, ttl, until, header limit, header remaining
_BLOCK = _ROLL + """
local hold_until = tonumber(ARGV[5])
if hold_until > blocked then redis.call('HSET', KEYS[1], 'blocked_until', hold_until) end
if ARGV[6] ~= '' then limit = tonumber(ARGV[6]) end
if ARGV[7] ~= '' then remaining = tonumber(ARGV[7]) else remaining = 0 end
reset_at = hold_until  -- the platform's own reset replaces our guess at the window
""" + _SAVE + "return 1"


@lru_cache(maxsize=2)
def _client_for(url: str) -> redis.Redis:
    return redis.Redis.from_url(url)


def redis_client() -> redis.Redis:
    return _client_for(settings.REDIS_URL)


@lru_cache(maxsize=2)
def _scripts(url: str):
    client = _client_for(url)
    return {name: client.register_script(source) for name, source in
            (("reserve", _RESERVE), ("spend", _SPEND), ("release", _RELEASE), ("block", _BLOCK))}


def _script(name: str):
    return _scripts(settings.REDIS_URL)[name]


def _epoch(moment: datetime) -> float:
    return moment.timestamp()


def _moment(value) -> datetime | None:
    try:
        return datetime.fromtimestamp(float(value), tz=timezone.utc) if value not in (None, b"", "") else None
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class BudgetState:
    """What a budget looked like when read; `None` fields were never set."""

    limit: int
    window_seconds: int
    remaining: int | None = None
    reset_at: datetime | None = None
    reserved: int = 0
    blocked_until: datetime | None = None
    deferred: int = 0
    deferred_at: datetime | None = None

    def available(self, now: datetime) -> int:
        if self.reset_at is None or self.reset_at <= now:
            return self.limit
        return (self.limit if self.remaining is None else self.remaining) - self.reserved

    def blocked(self, now: datetime) -> bool:
        return self.blocked_until is not None and self.blocked_until > now


@dataclass(frozen=True)
class Budget:
    """One shared budget: a platform and the credential (or, without one, the server) it is spent through."""

    platform: str
    owner: str  # "cred-<id>", or "host-<host>" for a platform read without a credential
    limit: int
    window_seconds: int

    @property
    def key(self) -> str:
        return f"{PREFIX}{self.platform}:{self.owner}"

    def _args(self, now: datetime, *extra) -> list:
        return [_epoch(now), self.limit, self.window_seconds, TTL_SECONDS, *extra]

    def reserve(self, *, now: datetime, cost: int = 1) -> bool:
        """Promise `cost` requests to a run, if the budget has them and is not blocked."""
        return bool(_script("reserve")(keys=[self.key], args=self._args(now, cost)))

    def spend(self, *, now: datetime, requests: int, release: int = 0, rate_limit: RateLimitState | None = None) -> None:
        """Count a page's requests off the budget (and `release` the reservation they used);
        the platform's own figures, when it sent them, replace ours."""
        header = rate_limit or RateLimitState()
        _script("spend")(
            keys=[self.key],
            args=self._args(
                now,
                max(0, requests),
                max(0, release),
                "" if header.limit is None else header.limit,
                "" if header.remaining is None else header.remaining,
                "" if header.reset_at is None else _epoch(header.reset_at),
            ),
        )

    def release(self, *, now: datetime, count: int) -> None:
        if count > 0:
            _script("release")(keys=[self.key], args=self._args(now, count))

    def block(self, *, now: datetime, until: datetime, rate_limit: RateLimitState | None = None) -> None:
        """The platform said "rate limited": nothing on this budget runs until `until`."""
        header = rate_limit or RateLimitState()
        _script("block")(
            keys=[self.key],
            args=self._args(
                now,
                _epoch(until),
                "" if header.limit is None else header.limit,
                "" if header.remaining is None else header.remaining,
            ),
        )

    def note_deferred(self, *, now: datetime, count: int) -> None:
        """The dispatcher left `count` due runs for later: the health page says so."""
        client = redis_client()
        with client.pipeline() as pipe:
            pipe.hset(self.key, mapping={"deferred": count, "deferred_at": _epoch(now)})
            pipe.expire(self.key, TTL_SECONDS)
            pipe.execute()

    def state_from(self, raw: dict) -> BudgetState:
        def number(name):
            value = raw.get(name.encode()) if raw else None
            try:
                return int(float(value)) if value not in (None, b"") else None
            except ValueError:
                return None

        return BudgetState(
            limit=number("limit") or self.limit,
            window_seconds=self.window_seconds,
            remaining=number("remaining"),
            reset_at=_moment(raw.get(b"reset_at")) if raw else None,
            reserved=number("reserved") or 0,
            blocked_until=_moment(raw.get(b"blocked_until")) if raw else None,
            deferred=number("deferred") or 0,
            deferred_at=_moment(raw.get(b"deferred_at")) if raw else None,
        )


# A credential on a platform with no configured budget still shares one, so a rate
# limit holds all its harvests; its size comes from the platform's headers.
UNCONFIGURED = (1_000_000, 3600)


def budget_for(platform: str, *, credential_id: int | None, base_url: str = "") -> Budget | None:
    """The shared budget a harvest on `platform` spends, or None when there is nothing to
    share: no configured budget and no credential (a news feed: each feed is its own
    server, and a rate limit reschedules only that feed)."""
    configured = settings.EARSHOT_REQUEST_BUDGETS.get(platform)
    if configured is None:
        if not credential_id:
            return None
        configured = UNCONFIGURED
    owner = f"cred-{credential_id}" if credential_id else f"host-{urlsplit(base_url).netloc.lower() or 'default'}"
    return Budget(platform=platform, owner=owner, limit=configured[0], window_seconds=configured[1])


def budget_states(budgets) -> dict[str, BudgetState]:
    """Every budget's state in one round trip, by key."""
    budgets = list({b.key: b for b in budgets if b is not None}.values())
    if not budgets:
        return {}
    with redis_client().pipeline(transaction=False) as pipe:
        for budget in budgets:
            pipe.hgetall(budget.key)
        raws = pipe.execute()
    return {budget.key: budget.state_from(raw) for budget, raw in zip(budgets, raws)}


def claim_reservation_hold(*, token, count: int, lease_seconds: int) -> None:
    """Hand a reservation the dispatcher made to the run that takes over `token`."""
    if count > 0:
        redis_client().set(f"{CLAIM_PREFIX}{token}", count, ex=lease_seconds)


def claim_reservation_take(*, token) -> int:
    value = redis_client().getdel(f"{CLAIM_PREFIX}{token}")
    return int(value) if value else 0
