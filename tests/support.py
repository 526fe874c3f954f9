"""Helpers for tests that start real processes against the test database."""

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def test_database_url() -> str:
    """A DATABASE_URL naming the database the tests run on (pytest-django's test_… copy)."""
    s = connection.settings_dict
    user = quote(s["USER"] or "", safe="")
    password = f":{quote(s['PASSWORD'], safe='')}" if s["PASSWORD"] else ""
    host = s["HOST"] or ""
    if host.startswith("/"):
        return f"postgresql://{user}{password}@/{s['NAME']}?host={quote(host, safe='/')}"
    port = f":{s['PORT']}" if s["PORT"] else ""
    return f"postgresql://{user}{password}@{host}{port}/{s['NAME']}"


def process_env(**extra) -> dict:
    from django.conf import settings

    env = dict(os.environ)
    env.update(DATABASE_URL=test_database_url(), REDIS_URL=settings.REDIS_URL, DJANGO_SETTINGS_MODULE="config.settings")
    env.update({k: str(v) for k, v in extra.items()})
    return env


def start_celery_worker(queue: str, log_path: Path, **env) -> subprocess.Popen:
    log = open(log_path, "wb")
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--concurrency=1",
         "--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "info", "-Q", queue],
        cwd=ROOT, env=process_env(EARSHOT_CELERY_QUEUE=queue, **env), stdout=log, stderr=subprocess.STDOUT,
    )


def wait_for(predicate, timeout: float, interval: float = 0.25, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def dispatch_concurrently(dispatchers: int = 2) -> list:
    """Run `harvest_dispatch_due` in several threads released at once; their claims, per thread."""
    import threading

    from django.db import connection

    from listening import services

    barrier = threading.Barrier(dispatchers)
    results = []

    def dispatch():
        barrier.wait()
        try:
            results.append(services.harvest_dispatch_due())
        finally:
            connection.close()

    threads = [threading.Thread(target=dispatch) for _ in range(dispatchers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def totp_code(device) -> str:
    """The code an authenticator app would give for `device` now.

    A code is accepted once. If this 30-second step's code was used already (two
    sign-ins in quick succession), it is the next step's, which the device accepts as
    one step of clock drift.
    """
    from django_otp.oath import TOTP

    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    if totp.t() <= device.last_t:
        totp.time += device.step
    return f"{totp.token():0{device.digits}d}"


def totp_device_for(user):
    """A confirmed authenticator device for `user`, as if they had enrolled."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
