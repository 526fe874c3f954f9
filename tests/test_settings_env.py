"""Settings helpers fail loudly on a value they cannot read."""

import pytest

from config.env import (
    ImproperSetting,
    database_from_url,
    email_from_url,
    env_bool,
    env_int,
    env_list,
    redis_url_checked,
)


@pytest.mark.parametrize("raw,expected", [("1", True), ("true", True), ("Yes", True), ("0", False), ("off", False), ("", False)])
def test_it_reads_booleans(monkeypatch, raw, expected):
    monkeypatch.setenv("DEBUG", raw)
    assert env_bool("DEBUG") is expected


def test_it_refuses_a_boolean_it_cannot_read(monkeypatch):
    monkeypatch.setenv("DEBUG", "ture")
    with pytest.raises(ImproperSetting, match="DEBUG='ture' is not a boolean"):
        env_bool("DEBUG")


def test_it_refuses_a_bad_number(monkeypatch):
    monkeypatch.setenv("SESSION_COOKIE_AGE", "eight hours")
    with pytest.raises(ImproperSetting, match="not a whole number"):
        env_int("SESSION_COOKIE_AGE", 1)


def test_it_splits_lists_and_keeps_defaults(monkeypatch):
    monkeypatch.setenv("ALLOWED_HOSTS", "earshot.example.gov.uk, localhost,")
    assert env_list("ALLOWED_HOSTS", []) == ["earshot.example.gov.uk", "localhost"]
    monkeypatch.delenv("ALLOWED_HOSTS")
    assert env_list("ALLOWED_HOSTS", ["a"]) == ["a"]


def test_it_reads_a_database_url_with_a_socket_host():
    db = database_from_url("postgresql://earshot:p%40ss@/earshot?host=/tmp/pg&sslmode=disable")
    assert (db["NAME"], db["USER"], db["PASSWORD"], db["HOST"]) == ("earshot", "earshot", "p@ss", "/tmp/pg")
    assert db["OPTIONS"] == {"sslmode": "disable"}
    tcp = database_from_url("postgres://postgres@127.0.0.1:5432/earshot")
    assert (tcp["HOST"], tcp["PORT"]) == ("127.0.0.1", "5432")


@pytest.mark.parametrize("url,message", [
    ("mysql://root@localhost/earshot", "postgresql://"),
    ("postgresql://postgres@localhost:5432/", "names no database"),
    ("postgresql://postgres@localhost:notaport/earshot", "bad port"),
])
def test_it_refuses_a_bad_database_url(url, message):
    with pytest.raises(ImproperSetting, match=message):
        database_from_url(url)


@pytest.mark.parametrize("url", ["localhost:6379", "http://redis:6379/0", "redis:///0", "unix://"])
def test_it_refuses_a_bad_redis_url(url):
    with pytest.raises(ImproperSetting, match="REDIS_URL"):
        redis_url_checked(url)


def test_it_accepts_redis_urls():
    for url in ("redis://127.0.0.1:6379/0", "rediss://:pw@cache.internal:6380/1", "unix:///tmp/r.sock?db=0"):
        assert redis_url_checked(url) == url


def test_it_reads_email_urls():
    smtp = email_from_url("smtp+tls://mailer:secret@mail.example.gov.uk:587")
    assert smtp["EMAIL_HOST"] == "mail.example.gov.uk" and smtp["EMAIL_USE_TLS"] and smtp["EMAIL_PORT"] == 587
    assert email_from_url("console://")["EMAIL_BACKEND"].endswith("console.EmailBackend")
    with pytest.raises(ImproperSetting, match="EMAIL_URL scheme"):
        email_from_url("pigeon://loft")


def test_the_settings_module_stops_on_a_bad_value():
    """Importing settings with a typo in DEBUG fails at start, with the variable named."""
    import os
    import subprocess
    import sys

    from tests.support import ROOT

    env = dict(os.environ, DEBUG="maybe", DATABASE_URL="postgresql://postgres@127.0.0.1:5432/x", REDIS_URL="redis://127.0.0.1:6379/0")
    result = subprocess.run([sys.executable, "-c", "import config.settings"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode != 0 and "DEBUG='maybe' is not a boolean" in result.stderr


def test_production_settings_pass_the_deploy_checks():
    import os
    import subprocess
    import sys

    from tests.support import ROOT, process_env

    env = process_env(EARSHOT_PRODUCTION="1", SECRET_KEY="k" * 20 + "Zx9!" * 10, ALLOWED_HOSTS="earshot.example.gov.uk",
                      EARSHOT_SECRETS_KEY="rQ3yb0AiUJrOEGsWfAoMBOHBsdNxjwD8XlhYw_lJqfk=")
    env.pop("DEBUG", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set by the browser tests for their own process
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    import subprocess
    import sys

    from tests.support import ROOT, process_env

    env = process_env(EARSHOT_PRODUCTION="1")
    env.pop("SECRET_KEY", None)
    result = subprocess.run([sys.executable, "-c", "import config.settings"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode != 0 and "SECRET_KEY must be set in production" in result.stderr
