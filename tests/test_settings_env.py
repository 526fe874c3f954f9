"""Settings helpers fail loudly on a value they cannot read."""

import pytest

from config.env import (
    ImproperSetting,
    database_from_url,
    email_from_url,
    env_bool,
    env_float,
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


def test_it_reads_decimal_seconds_and_refuses_what_is_not_a_finite_number(monkeypatch):
    monkeypatch.setenv("EARSHOT_TRY_IT_BUDGET_SECONDS", "0.5")
    assert env_float("EARSHOT_TRY_IT_BUDGET_SECONDS", 0.25, minimum=0) == 0.5
    for raw, message in [("quick", "not a number"), ("nan", "not a finite number"), ("-1", "too small")]:
        monkeypatch.setenv("EARSHOT_TRY_IT_BUDGET_SECONDS", raw)
        with pytest.raises(ImproperSetting, match=message):
            env_float("EARSHOT_TRY_IT_BUDGET_SECONDS", 0.25, minimum=0)
    monkeypatch.delenv("EARSHOT_TRY_IT_BUDGET_SECONDS")
    assert env_float("EARSHOT_TRY_IT_BUDGET_SECONDS", 0.25) == 0.25


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


def _settings_import(**env_changes):
    """Import the settings in a fresh process; None in env_changes unsets a variable."""
    import subprocess
    import sys

    from tests.support import ROOT, process_env

    env = process_env()
    for name in ("DEBUG", "EARSHOT_PRODUCTION", "SECRET_KEY", "ALLOWED_HOSTS", "BEHIND_PROXY", "TRUSTED_PROXY_COUNT"):
        env.pop(name, None)
    for name, value in env_changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return subprocess.run([sys.executable, "-c", "import config.settings"], cwd=ROOT, env=env, capture_output=True, text=True)


def test_it_refuses_a_number_below_its_minimum(monkeypatch):
    monkeypatch.setenv("TRUSTED_PROXY_COUNT", "0")
    with pytest.raises(ImproperSetting, match="TRUSTED_PROXY_COUNT='0' is too small: use 1 or more"):
        env_int("TRUSTED_PROXY_COUNT", 1, minimum=1)


def test_behind_a_proxy_it_needs_at_least_one_trusted_proxy():
    result = _settings_import(BEHIND_PROXY="1", TRUSTED_PROXY_COUNT="0")
    assert result.returncode != 0 and "TRUSTED_PROXY_COUNT='0' is too small: use 1 or more" in result.stderr


def test_it_refuses_a_trusted_proxy_count_when_not_behind_a_proxy():
    result = _settings_import(TRUSTED_PROXY_COUNT="2")
    assert result.returncode != 0 and "TRUSTED_PROXY_COUNT=2 but BEHIND_PROXY is off" in result.stderr


def test_it_reads_the_trusted_proxy_count_behind_a_proxy():
    import subprocess
    import sys

    from tests.support import ROOT, process_env

    env = process_env(BEHIND_PROXY="1", TRUSTED_PROXY_COUNT="2")
    code = "import django; django.setup(); from django.conf import settings; print(settings.TRUSTED_PROXY_COUNT, settings.AXES_CLIENT_IP_CALLABLE)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["2", "governance.services.client_ip"]


STRONG_KEY = "n7Qe2pVx" * 7  # 56 characters, 8 different
FERNET_KEY = "x" * 43 + "="  # 32 url-safe base64 bytes: a valid, if silly, Fernet key
PRODUCTION = {
    "EARSHOT_PRODUCTION": "1", "SECRET_KEY": STRONG_KEY, "ALLOWED_HOSTS": "earshot.example.gov.uk",
    "EARSHOT_SECRETS_KEY": FERNET_KEY,
}


@pytest.mark.parametrize("weak,message", [
    ({"DEBUG": "1"}, "DEBUG is on: set DEBUG=0 or leave it unset"),
    ({"EARSHOT_SECRETS_KEY": ""}, "EARSHOT_SECRETS_KEY is not set"),
    ({"SECRET_KEY": "short"}, "SECRET_KEY is weak (it has 5 characters, fewer than 50)"),
    ({"SECRET_KEY": "ab" * 30}, "SECRET_KEY is weak (it has 2 different characters, fewer than 5)"),
    ({"SECRET_KEY": "django-insecure-" + STRONG_KEY}, "SECRET_KEY is weak (it starts 'django-insecure-'"),
    ({"ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS is empty: set it to the host names the site is served on"),
    ({"ALLOWED_HOSTS": " , "}, "ALLOWED_HOSTS is empty"),
])
def test_production_refuses_to_start_with_a_weak_setting(weak, message):
    result = _settings_import(**{**PRODUCTION, **weak})
    assert result.returncode != 0
    assert "EARSHOT_PRODUCTION=1 refuses to start" in result.stderr and message in result.stderr
    assert STRONG_KEY not in result.stderr  # the key is never printed


def test_production_names_every_weak_setting_at_once():
    result = _settings_import(**{**PRODUCTION, "DEBUG": "1", "SECRET_KEY": "short", "ALLOWED_HOSTS": ""})
    assert result.returncode != 0
    for name in ("DEBUG is on", "SECRET_KEY is weak", "ALLOWED_HOSTS is empty"):
        assert name in result.stderr


@pytest.mark.parametrize("extra", [{}, {"DEBUG": "0"}])
def test_production_starts_with_strong_settings(extra):
    result = _settings_import(**PRODUCTION, **extra)
    assert result.returncode == 0, result.stderr


def test_weak_settings_still_start_outside_production():
    result = _settings_import(DEBUG="1", SECRET_KEY="short", ALLOWED_HOSTS="")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("key", [
    "short", "a" * 60, "abcd" * 13, "abcde" * 10, "abcde" * 10 + "f", "django-insecure-" + "x7Kp2" * 10, STRONG_KEY, "x" * 49 + "abcd",
])
def test_the_secret_key_rule_is_djangos(key):
    from django.core.checks.security.base import _check_secret_key

    from config.env import secret_key_weaknesses

    assert (not secret_key_weaknesses(key)) is _check_secret_key(key)
