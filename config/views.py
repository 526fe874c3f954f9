import logging
import time
from datetime import UTC, datetime

import psycopg
import redis
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config import heartbeat

logger = logging.getLogger(__name__)


def _check_postgres(timeout: int) -> str | None:
    """None if PostgreSQL answers within ``timeout`` seconds, else why not.

    A connection of its own, not Django's: the request's connection has no connect
    timeout, and a health check must not wait on a server that stopped answering.
    """
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params.update(connect_timeout=timeout, options=f"-c statement_timeout={timeout * 1000}")
    try:
        with psycopg.connect(**params, autocommit=True) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        logger.warning("health: PostgreSQL check failed: %s", exc)
        return f"unreachable ({type(exc).__name__})"
    return None


def _check_redis(timeout: int) -> str | None:
    try:
        heartbeat.redis_client(timeout=timeout).ping()
    except (redis.RedisError, OSError) as exc:
        logger.warning("health: Redis check failed: %s", exc)
        return f"unreachable ({type(exc).__name__})"
    return None


def _age_report(last: datetime | None, max_age: int, now: datetime) -> tuple[dict, str | None]:
    report = {"last": last.isoformat() if last else None, "max_age_seconds": max_age}
    if last is not None:
        report["age_seconds"] = round((now - last).total_seconds(), 1)
    if not heartbeat.is_stale(last, max_age, now):
        if last is None:
            report["note"] = "none yet; allowed while this process is younger than max_age_seconds"
        return report, None
    if last is None:
        return report, "none recorded"
    return report, f"last {report['age_seconds']:.0f}s ago, more than {max_age}s"


@never_cache
@require_GET
def healthz(request):
    """Health for load balancers, compose and monitoring: 200 when all is well, else 503.

    Checks that PostgreSQL and Redis answer (each within EARSHOT_HEALTH_CHECK_TIMEOUT_SECONDS)
    and that the dispatcher ticked and a worker ran a heartbeat recently enough (see
    config/heartbeat.py for both, and for the grace period a fresh install gets). The body
    names every failed check in ``reasons``; error details go to the log, not the answer,
    since anyone who can reach the port can read it.
    """
    timeout = settings.EARSHOT_HEALTH_CHECK_TIMEOUT_SECONDS
    checks: dict[str, dict] = {}
    reasons: list[str] = []
    for name, check in (("postgres", _check_postgres), ("redis", _check_redis)):
        started = time.monotonic()
        problem = check(timeout)
        checks[name] = {"ok": problem is None, "ms": round((time.monotonic() - started) * 1000)}
        if problem:
            reasons.append(f"{name}: {problem}")

    if checks["redis"]["ok"]:
        now = datetime.now(UTC)
        tick, beat = heartbeat.last_dispatcher_tick(), heartbeat.last_worker_heartbeat()
        for name, last, max_age in (
            ("dispatcher", tick, settings.EARSHOT_HEALTH_DISPATCHER_MAX_AGE_SECONDS),
            ("worker", beat, settings.EARSHOT_HEALTH_WORKER_MAX_AGE_SECONDS),
        ):
            report, problem = _age_report(last, max_age, now)
            checks[name] = {"ok": problem is None, **report}
            if problem:
                reasons.append(f"{name}: {problem}")
    else:
        # The timestamps live in Redis: unknown, not stale, while it is down.
        for name in ("dispatcher", "worker"):
            checks[name] = {"ok": None, "note": "unknown while Redis is unreachable"}

    body = {"status": "fail" if reasons else "ok", "reasons": reasons, "checks": checks}
    return JsonResponse(body, status=503 if reasons else 200)
