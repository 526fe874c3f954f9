"""/healthz: PostgreSQL, Redis, the dispatcher's tick and the workers' heartbeat."""

import shutil
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from django.db import connection

from config import heartbeat
from tests.support import ROOT

pytestmark = [pytest.mark.django_db, pytest.mark.timeout(60)]


@pytest.fixture
def silent_server():
    """A TCP port that accepts connections (through the backlog) and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


def _seconds_ago(key, seconds):
    heartbeat.redis_client().set(key, repr(time.time() - seconds))


def _health(client):
    response = client.get("/healthz", HTTP_HOST="localhost")
    return response.status_code, response.json()


def test_it_answers_200_when_every_check_passes(client):
    heartbeat.record_dispatcher_tick()
    heartbeat.record_worker_heartbeat()
    status, body = _health(client)
    assert status == 200, body
    assert body["status"] == "ok" and body["reasons"] == []
    checks = body["checks"]
    assert checks["postgres"]["ok"] and checks["redis"]["ok"]
    assert checks["dispatcher"]["ok"] and 0 <= checks["dispatcher"]["age_seconds"] < 60
    assert checks["worker"]["ok"] and 0 <= checks["worker"]["age_seconds"] < 60
    assert checks["dispatcher"]["max_age_seconds"] == 180 and checks["worker"]["max_age_seconds"] == 120


def test_it_answers_503_naming_redis_when_redis_is_unreachable(client, settings, closed_port):
    heartbeat.record_dispatcher_tick()
    heartbeat.record_worker_heartbeat()
    settings.REDIS_URL = f"redis://127.0.0.1:{closed_port}/0"
    status, body = _health(client)
    assert status == 503
    assert body["status"] == "fail"
    assert body["reasons"] == ["redis: unreachable (ConnectionError)"]
    assert body["checks"]["postgres"]["ok"] is True
    assert body["checks"]["dispatcher"]["ok"] is None  # unknown, not judged, while Redis is down
    assert f"{closed_port}" not in str(body)  # addresses go to the log, not to whoever asks


def test_it_gives_up_on_a_redis_that_accepts_but_never_answers(client, settings, silent_server):
    settings.REDIS_URL = f"redis://127.0.0.1:{silent_server}/0"
    settings.EARSHOT_HEALTH_CHECK_TIMEOUT_SECONDS = 1
    status, body = _health(client)
    assert status == 503
    assert body["reasons"] == ["redis: unreachable (TimeoutError)"]


def test_it_answers_503_naming_postgres_when_the_database_is_unreachable(client, monkeypatch, closed_port):
    heartbeat.record_dispatcher_tick()
    heartbeat.record_worker_heartbeat()
    # New connections go to a dead port; the test's own connection stays open.
    monkeypatch.setitem(connection.settings_dict, "HOST", "127.0.0.1")
    monkeypatch.setitem(connection.settings_dict, "PORT", str(closed_port))
    status, body = _health(client)
    assert status == 503
    assert body["reasons"] == ["postgres: unreachable (OperationalError)"]
    assert body["checks"]["redis"]["ok"] is True


def test_it_answers_503_when_the_dispatcher_tick_is_stale(client):
    _seconds_ago(heartbeat.DISPATCHER_KEY, 181)
    heartbeat.record_worker_heartbeat()
    status, body = _health(client)
    assert status == 503
    assert body["reasons"] == ["dispatcher: last 181s ago, more than 180s"]
    assert body["checks"]["dispatcher"]["ok"] is False
    assert body["checks"]["worker"]["ok"] is True


def test_it_answers_503_when_no_worker_heartbeat_is_recent(client, settings):
    settings.EARSHOT_HEALTH_WORKER_MAX_AGE_SECONDS = 45
    heartbeat.record_dispatcher_tick()
    _seconds_ago(heartbeat.WORKER_KEY, 50)
    status, body = _health(client)
    assert status == 503
    assert body["reasons"] == ["worker: last 50s ago, more than 45s"]


def test_a_fresh_process_waits_for_the_first_tick_before_failing(client, monkeypatch):
    # Just started, nothing recorded yet: healthy, and it says why.
    monkeypatch.setattr(heartbeat, "PROCESS_STARTED", datetime.now(UTC) - timedelta(seconds=10))
    status, body = _health(client)
    assert status == 200, body
    assert body["checks"]["dispatcher"]["last"] is None
    assert "none yet" in body["checks"]["dispatcher"]["note"]

    # Up longer than the thresholds and still nothing: both fail.
    monkeypatch.setattr(heartbeat, "PROCESS_STARTED", datetime.now(UTC) - timedelta(seconds=181))
    status, body = _health(client)
    assert status == 503
    assert body["reasons"] == ["dispatcher: none recorded", "worker: none recorded"]


def test_it_takes_no_login_and_only_get(client):
    heartbeat.record_dispatcher_tick()
    heartbeat.record_worker_heartbeat()
    assert client.get("/healthz", HTTP_HOST="localhost").status_code == 200
    assert client.post("/healthz", HTTP_HOST="localhost").status_code == 405


def _container_check(live_server):
    env = {"PATH": "/usr/bin:/bin", "ALLOWED_HOSTS": "*,localhost",
           "EARSHOT_HEALTHCHECK_PORT": str(urlsplit(live_server.url).port)}
    return subprocess.run([sys.executable, str(ROOT / "config/healthcheck.py")], env=env, capture_output=True,
                          text=True, timeout=30)


@pytest.mark.django_db(transaction=True)
def test_the_container_health_check_passes_only_on_200_and_prints_the_reasons(live_server):
    heartbeat.record_dispatcher_tick()
    heartbeat.record_worker_heartbeat()
    ok = _container_check(live_server)
    assert (ok.returncode, ok.stdout.strip()) == (0, "GET /healthz 200")

    _seconds_ago(heartbeat.DISPATCHER_KEY, 181)
    failing = _container_check(live_server)
    assert failing.returncode == 1
    assert failing.stdout.strip() == "GET /healthz 503: dispatcher: last 181s ago, more than 180s"


@pytest.mark.skipif(not shutil.which("docker-compose"), reason="Debian's docker-compose (v1) is not installed")
def test_the_compose_file_validates_with_docker_compose_v1_and_checks_web_through_healthz():
    out = subprocess.run(
        ["docker-compose", "-f", str(ROOT / "docker-compose.yml"), "config"],
        env={"PATH": "/usr/bin:/bin:/usr/local/bin", "SECRET_KEY": "only-for-config"},
        capture_output=True, text=True, timeout=60,
    )
    assert out.returncode == 0, out.stderr
    web = out.stdout.split("\n  web:\n", 1)[1].split("\n  worker:\n", 1)[0]
    assert "- config/healthcheck.py" in web
