"""When the dispatcher last ticked and a worker last proved it consumes the queue.

Two timestamps live in Redis, each under a key with a TTL:

- the dispatcher tick, written by the worker each time ``listening.tasks.dispatch_due_harvests``
  succeeds (wired in config/celery.py). It ticks only when beat sends the task *and* a
  worker runs it, so a stale tick means harvesting has stopped;
- the worker heartbeat, written by the small ``earshot.heartbeat`` task that beat sends
  every ``EARSHOT_HEALTH_WORKER_HEARTBEAT_SECONDS``: a worker only records it by taking
  the task off the queue, so a fresh one proves a worker is consuming.

Readers and writers never raise into their callers: when Redis is down a write is dropped
(with a log line) and a read returns None, because a health check or a page must still
answer when the thing it reports on is broken.

A missing timestamp (a brand-new install, a Redis that lost its data, or a key whose TTL
ran out because nothing wrote it for a day) counts as stale only once the process asking
has been up longer than the threshold: a fresh install gets that long to produce its
first tick before the health check or the banners complain.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import redis
from django.conf import settings
from redis.backoff import NoBackoff
from redis.retry import Retry

logger = logging.getLogger(__name__)

DISPATCHER_KEY = "earshot:heartbeat:dispatcher"
WORKER_KEY = "earshot:heartbeat:worker"
# Long enough that an operator still sees "last tick 5 hours ago"; short enough that keys
# from an abandoned install go away.
KEY_TTL_SECONDS = 24 * 60 * 60
# The grace period for a missing timestamp counts from when this module was imported.
PROCESS_STARTED = datetime.now(UTC)

_clients: dict[tuple[str, float], redis.Redis] = {}


def redis_client(*, url: str | None = None, timeout: float | None = None) -> redis.Redis:
    """A redis-py client that gives up after ``timeout`` seconds and never retries.

    redis-py retries a failed command three times with backoff by default, which would
    make a health check on a dead Redis take seconds; one short try is the truth we want.
    """
    url = url or settings.REDIS_URL
    timeout = float(timeout if timeout is not None else settings.EARSHOT_HEALTH_CHECK_TIMEOUT_SECONDS)
    key = (url, timeout)
    client = _clients.get(key)
    if client is None:
        client = redis.Redis.from_url(
            url, socket_connect_timeout=timeout, socket_timeout=timeout, retry=Retry(NoBackoff(), 0)
        )
        _clients[key] = client
    return client


def _record(key: str) -> None:
    try:
        redis_client().set(key, repr(time.time()), ex=KEY_TTL_SECONDS)
    except (redis.RedisError, OSError) as exc:
        logger.warning("could not record %s in Redis: %s", key, exc)


def _read(*keys: str) -> list[datetime | None]:
    try:
        values = redis_client().mget(keys)
    except (redis.RedisError, OSError) as exc:
        logger.warning("could not read %s from Redis: %s", ", ".join(keys), exc)
        return [None] * len(keys)
    out: list[datetime | None] = []
    for value in values:
        try:
            out.append(datetime.fromtimestamp(float(value), UTC) if value is not None else None)
        except (TypeError, ValueError, OverflowError):
            out.append(None)  # not ours to interpret; treat as never recorded
    return out


def record_dispatcher_tick() -> None:
    _record(DISPATCHER_KEY)


def record_worker_heartbeat() -> None:
    _record(WORKER_KEY)


def last_dispatcher_tick() -> datetime | None:
    return _read(DISPATCHER_KEY)[0]


def last_worker_heartbeat() -> datetime | None:
    return _read(WORKER_KEY)[0]


def dispatcher_interval_seconds() -> int:
    return int(settings.EARSHOT_DISPATCH_EVERY_SECONDS)


def is_stale(last: datetime | None, max_age_seconds: float, now: datetime | None = None) -> bool:
    """True when ``last`` is older than ``max_age_seconds``.

    A missing ``last`` is stale only after this process has been up for ``max_age_seconds``.
    """
    now = now or datetime.now(UTC)
    since = last if last is not None else PROCESS_STARTED
    return now - since > timedelta(seconds=max_age_seconds)


def dispatcher_stale(now: datetime | None = None) -> bool:
    """True when the dispatcher has not ticked for three dispatcher intervals."""
    return is_stale(last_dispatcher_tick(), 3 * dispatcher_interval_seconds(), now)


def worker_stale(now: datetime | None = None) -> bool:
    """True when no worker heartbeat is newer than EARSHOT_HEALTH_WORKER_MAX_AGE_SECONDS."""
    return is_stale(last_worker_heartbeat(), settings.EARSHOT_HEALTH_WORKER_MAX_AGE_SECONDS, now)


@dataclass(frozen=True)
class Pipeline:
    """What the harvest health page shows about the dispatcher and the workers."""

    last_dispatcher_tick: datetime | None
    last_worker_heartbeat: datetime | None
    dispatcher_stale: bool
    worker_stale: bool
    dispatch_every_seconds: int


def pipeline(now: datetime | None = None) -> Pipeline:
    """Both timestamps in one Redis round trip, with their staleness."""
    now = now or datetime.now(UTC)
    tick, beat = _read(DISPATCHER_KEY, WORKER_KEY)
    interval = dispatcher_interval_seconds()
    return Pipeline(
        last_dispatcher_tick=tick,
        last_worker_heartbeat=beat,
        dispatcher_stale=is_stale(tick, 3 * interval, now),
        worker_stale=is_stale(beat, settings.EARSHOT_HEALTH_WORKER_MAX_AGE_SECONDS, now),
        dispatch_every_seconds=interval,
    )
