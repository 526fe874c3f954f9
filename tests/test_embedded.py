"""The embedded PostgreSQL and Redis (config/embedded.py) that run when no URLs are set.

These tests start real servers in a temporary var directory and talk to them with
psycopg and redis-py directly; they use no Django database access.
"""

import json
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
import redis

from config import embedded

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def var(tmp_path):
    path = tmp_path / "var"
    yield path
    embedded.stop_all(path)


def test_servers_answer_are_reused_and_keep_data_across_restart(var):
    pg_url = embedded.postgres_url(var)
    redis_url = embedded.redis_url(var)
    assert pg_url.startswith("postgresql://postgres@/earshot?host=/")
    assert redis_url.startswith("unix:///") and redis_url.endswith("redis.sock?db=0")

    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
        conn.execute("CREATE TABLE kept (note text)")
        conn.execute("INSERT INTO kept VALUES ('survives a restart')")
    client = redis.Redis.from_url(redis_url)
    assert client.ping() is True
    client.set("earshot:kept", "survives a restart")
    client.close()

    pg_pid = embedded.postgres_info(var)["pid"]
    redis_pid = embedded.redis_info(var)["pid"]

    # A second call (as from another process of the app) reuses the running servers.
    assert embedded.postgres_url(var) == pg_url
    assert embedded.redis_url(var) == redis_url
    assert embedded.postgres_info(var)["pid"] == pg_pid
    assert embedded.redis_info(var)["pid"] == redis_pid

    embedded.stop_all(var)
    assert embedded.postgres_info(var) is None
    assert embedded.redis_info(var) is None

    # Started again from the same var directory: new processes, same data.
    assert embedded.postgres_url(var) == pg_url
    assert embedded.redis_url(var) == redis_url
    assert embedded.postgres_info(var)["pid"] != pg_pid
    assert embedded.redis_info(var)["pid"] != redis_pid
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT note FROM kept").fetchall() == [("survives a restart",)]
    client = redis.Redis.from_url(redis_url)
    assert client.get("earshot:kept") == b"survives a restart"
    client.close()


def test_concurrent_starts_share_one_server_even_from_a_deep_var_dir(tmp_path):
    # Deep enough that a socket inside it would pass the unix socket path limit (~107).
    var = tmp_path.joinpath(*["a-rather-long-directory-name"] * 4) / "var"
    assert len(str(var / "redis" / "redis.sock")) > 107
    script = (
        "import json, sys; from config import embedded; "
        "urls = embedded.start_all(sys.argv[1]); "
        "print(json.dumps([urls, embedded.postgres_info(sys.argv[1])['pid'], embedded.redis_info(sys.argv[1])['pid']]))"
    )
    try:
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", script, str(var)],
                cwd=PROJECT_ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(4)
        ]
        results = []
        for proc in procs:
            out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
            results.append(json.loads(out))
        assert all(result == results[0] for result in results), results
        urls = results[0][0]
        for url in urls.values():
            socket_path = url.split("host=")[-1] if url.startswith("postgresql") else url[len("unix://") :].split("?")[0]
            assert len(socket_path) < 100

        with psycopg.connect(urls["DATABASE_URL"]) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
        client = redis.Redis.from_url(urls["REDIS_URL"])
        assert client.ping() is True
        client.close()
    finally:
        embedded.stop_all(var)


def test_celery_url_spells_a_unix_socket_the_way_kombu_reads_it():
    assert (
        embedded.celery_url("unix:///tmp/earshot-x/redis.sock?db=2")
        == "redis+socket:///tmp/earshot-x/redis.sock?virtual_host=2"
    )
    assert embedded.celery_url("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"


def test_celery_broker_and_result_backend_reach_the_embedded_redis(var):
    from celery import Celery

    url = embedded.celery_url(embedded.redis_url(var))
    app = Celery("embedded-check", broker=url, backend=url)
    with app.connection_for_write() as conn:
        queue = conn.SimpleQueue("embedded-check")
        queue.put({"hello": "worker"})
        message = queue.get(timeout=5)
        assert message.payload == {"hello": "worker"}
        message.ack()
        queue.close()
    assert app.backend.client.ping() is True


def test_var_dir_honours_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("EARSHOT_VAR_DIR", str(tmp_path / "elsewhere"))
    assert embedded.var_dir() == (tmp_path / "elsewhere").resolve()
    monkeypatch.delenv("EARSHOT_VAR_DIR")
    assert embedded.var_dir() == PROJECT_ROOT / "var"
