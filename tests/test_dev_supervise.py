"""`dev.py run` keeps what it started alive: children that exit, embedded servers that die.

The first two tests run dev.py's Supervisor over small real processes through
tests/supervise_harness.py; the last runs `dev.py run` itself on embedded servers in a
throwaway var directory, kills its Redis and then its PostgreSQL, and checks that
/healthz says so, that both come back, and that harvesting goes on storing each post once.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from datetime import datetime

import psycopg
import pytest

from config import embedded
from tests.support import ROOT, wait_for

HARNESS = ROOT / "tests" / "supervise_harness.py"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _harness(config: dict, log_path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(HARNESS), json.dumps(config)],
        cwd=ROOT, stdout=open(log_path, "w"), stderr=subprocess.STDOUT, env={**os.environ, "NO_COLOR": "1"},
    )


def _lines(log_path) -> list[str]:
    return log_path.read_text(errors="replace").splitlines()


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", textwrap.dedent(code)]


@pytest.mark.timeout(60)
def test_a_child_that_exits_is_started_again_and_ctrl_c_stops_everything(tmp_path):
    marker, log = tmp_path / "crashed-once", tmp_path / "harness.log"
    flaky = _python(f"""
        import os, sys, time
        if not os.path.exists({str(marker)!r}):
            open({str(marker)!r}, "w").close()
            sys.exit(3)
        print("up as", os.getpid(), flush=True)
        time.sleep(600)
    """)
    steady = _python("import os, time; print('up as', os.getpid(), flush=True); time.sleep(600)")
    harness = _harness({"children": [["flaky", flaky], ["steady", steady]], "backoff_seconds": 0.1}, log)
    try:
        pids = wait_for(
            lambda: [int(line.split()[-1]) for line in _lines(log) if " up as " in line] if
            sum(" up as " in line for line in _lines(log)) == 2 else None,
            timeout=30, what="both children running",
        )
        assert "dev   | flaky exited unexpectedly (code 3); restarting it in 0.1s" in _lines(log)
        assert "dev   | restarting flaky" in _lines(log)

        harness.send_signal(signal.SIGINT)
        assert harness.wait(timeout=30) == 0
    finally:
        if harness.poll() is None:
            harness.kill()
    assert "dev   | stopping flaky, steady" in _lines(log)
    assert not any(_pid_alive(pid) for pid in pids)


@pytest.mark.timeout(60)
def test_it_gives_up_on_a_child_that_keeps_failing_soon_after_starting(tmp_path):
    log = tmp_path / "harness.log"
    broken = _python("import sys; print('cannot start: port in use', flush=True); sys.exit(2)")
    steady = _python("import time; time.sleep(600)")
    config = {"children": [["web", broken], ["beat", steady]], "backoff_seconds": 0.1, "max_quick_failures": 4}
    harness = _harness(config, log)
    try:
        assert harness.wait(timeout=45) == 1
    finally:
        if harness.poll() is None:
            harness.kill()
    lines = _lines(log)
    # The pause doubles with each quick failure; the fourth one in a row ends it.
    restarts = [line for line in lines if line.startswith("dev   | web exited unexpectedly")]
    assert [line.rsplit(" ", 1)[-1] for line in restarts] == ["0.1s", "0.2s", "0.4s"]
    assert lines.count("web   | cannot start: port in use") == 4
    assert "dev   | web exited (code 2) 4 times in a row, each within 60s of starting; giving up." in lines[-2]
    assert lines[-1] == "dev   | stopping web, beat"


# --------------------------------------------------------------------------- dev.py run


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _health(port: int) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())
    except OSError:
        return 0, {}


def _mentions(database_url: str) -> list[tuple[int, str, str]]:
    with psycopg.connect(database_url, connect_timeout=5) as conn:
        return conn.execute("SELECT id, platform, external_id FROM listening_mention ORDER BY id").fetchall()


def _make_searches_due(database_url: str) -> None:
    with psycopg.connect(database_url, connect_timeout=5) as conn:
        conn.execute("UPDATE listening_savedsearchplatform SET next_run_at = now()")


def _since(report: dict, moment: datetime) -> bool:
    return report.get("last") is not None and datetime.fromisoformat(report["last"]) > moment


@pytest.mark.celery
@pytest.mark.timeout(150)
def test_dev_run_heals_a_killed_embedded_redis_and_postgres_and_harvesting_resumes(tmp_path):
    var, log, port = tmp_path / "var", tmp_path / "dev-run.log", _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        EARSHOT_VAR_DIR=str(var), EARSHOT_PORT=str(port), NO_COLOR="1",
        EARSHOT_DISPATCH_EVERY_SECONDS="2", EARSHOT_HEALTH_DISPATCHER_MAX_AGE_SECONDS="30",
        EARSHOT_HEALTH_WORKER_HEARTBEAT_SECONDS="2", EARSHOT_HEALTH_WORKER_MAX_AGE_SECONDS="30",
    )
    run = subprocess.Popen(
        [sys.executable, "dev.py", "run"], cwd=ROOT, env=env, stdout=open(log, "w"), stderr=subprocess.STDOUT
    )
    try:
        wait_for(lambda: _health(port)[0] == 200, timeout=90, interval=0.5, what="/healthz to answer 200")
        database_url = next(
            line.split("DATABASE_URL=", 1)[1] for line in _lines(log) if "embedded postgres" in line
        )
        wait_for(lambda: _mentions(database_url), timeout=60, interval=0.5, what="the first harvest")

        for name, reason in (("redis", "redis: unreachable (ConnectionError)"),
                             ("postgres", "postgres: unreachable (OperationalError)")):
            seen = {row[0] for row in _mentions(database_url)}
            # Pause dev.py (not its children) so the dead server stays dead while we look.
            run.send_signal(signal.SIGSTOP)
            try:
                pid = embedded.running_pid(var, name)
                os.kill(pid, signal.SIGKILL)
                wait_for(lambda: embedded.running_pid(var, name) is None, timeout=10, what=f"{name} to die")
                killed_at = datetime.now().astimezone()
                status, body = _health(port)
                assert status == 503, body
                assert body["reasons"] == [reason]
            finally:
                run.send_signal(signal.SIGCONT)

            wait_for(lambda: any(line.startswith(f"dev   | {name} died; restarting it") for line in _lines(log)),
                     timeout=10, what=f"dev.py to notice {name} died")
            wait_for(lambda: f"dev   | embedded {name} restarted" in _lines(log), timeout=60,
                     what=f"dev.py to restart {name}")
            assert embedded.running_pid(var, name) not in (None, pid)

            # Health comes back once the worker has run a heartbeat and a dispatch after the kill.
            def healthy_again():
                status, body = _health(port)
                checks = body.get("checks", {})
                return status == 200 and _since(checks["worker"], killed_at) and _since(
                    checks["dispatcher"], killed_at
                )

            wait_for(healthy_again, timeout=60, interval=0.5, what=f"/healthz 200 after {name} came back")

            # Harvesting resumes: new posts arrive, and every post is stored once.
            _make_searches_due(database_url)
            wait_for(lambda: {row[0] for row in _mentions(database_url)} - seen, timeout=60, interval=0.5,
                     what=f"new mentions after {name} came back")
            keys = [(platform, external_id) for _, platform, external_id in _mentions(database_url)]
            assert len(keys) == len(set(keys))

        run.send_signal(signal.SIGINT)
        assert run.wait(timeout=60) == 0
        assert embedded.running_pid(var, "redis") is None and embedded.running_pid(var, "postgres") is None
    finally:
        if run.poll() is None:
            run.send_signal(signal.SIGCONT)
            run.send_signal(signal.SIGTERM)
            try:
                run.wait(timeout=30)
            except subprocess.TimeoutExpired:
                run.kill()
        embedded.stop_all(var)
        print("\n".join(_lines(log)[-80:]))
