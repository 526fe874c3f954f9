"""Small typed readers for settings from the environment.

Each fails loudly on a value it cannot read, so a typo in production stops the
process at start instead of silently falling back to a default.
"""

import os
from urllib.parse import parse_qs, unquote, urlsplit


class ImproperSetting(ValueError):
    pass


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperSetting(f"{name}={raw!r} is not a boolean: use one of 1/0, true/false, yes/no, on/off")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperSetting(f"{name}={raw!r} is not a whole number") from None
    if minimum is not None and value < minimum:
        raise ImproperSetting(f"{name}={raw!r} is too small: use {minimum} or more")
    return value


def env_float(name: str, default: float, *, minimum: float | None = None) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperSetting(f"{name}={raw!r} is not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ImproperSetting(f"{name}={raw!r} is not a finite number")
    if minimum is not None and value < minimum:
        raise ImproperSetting(f"{name}={raw!r} is too small: use {minimum} or more")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def database_from_url(url: str) -> dict:
    """Django DATABASES entry from postgresql://user:pass@host:port/name?opt=…"""
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql", "pgsql"):
        raise ImproperSetting(f"DATABASE_URL must be a postgresql:// URL, got scheme {parts.scheme!r}")
    options = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    host = options.pop("host", None) or (unquote(parts.hostname) if parts.hostname else "")
    name = unquote(parts.path.lstrip("/"))
    if not name:
        raise ImproperSetting("DATABASE_URL names no database (postgresql://user@host:5432/NAME)")
    try:
        port = parts.port
    except ValueError:
        raise ImproperSetting(f"DATABASE_URL has a bad port: {url!r}") from None
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": host,
        "PORT": str(port or ""),
        "OPTIONS": options,
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }


def redis_url_checked(url: str) -> str:
    """REDIS_URL as given, once it is a URL redis-py can use."""
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss", "unix"):
        raise ImproperSetting(f"REDIS_URL must be redis://, rediss:// or unix://, got {url!r}")
    if parts.scheme != "unix" and not parts.hostname:
        raise ImproperSetting(f"REDIS_URL names no host: {url!r}")
    if parts.scheme == "unix" and not parts.path:
        raise ImproperSetting(f"REDIS_URL names no socket path: {url!r}")
    return url


def email_from_url(url: str) -> dict:
    """EMAIL_* settings from smtp://user:pass@host:port, smtp+tls://…, console:// or memory://"""
    parts = urlsplit(url)
    backends = {
        "console": "django.core.mail.backends.console.EmailBackend",
        "memory": "django.core.mail.backends.locmem.EmailBackend",
        "smtp": "django.core.mail.backends.smtp.EmailBackend",
        "smtp+tls": "django.core.mail.backends.smtp.EmailBackend",
        "smtp+ssl": "django.core.mail.backends.smtp.EmailBackend",
    }
    if parts.scheme not in backends:
        raise ImproperSetting(f"EMAIL_URL scheme {parts.scheme!r} is not one of {', '.join(sorted(backends))}")
    settings = {"EMAIL_BACKEND": backends[parts.scheme]}
    if parts.scheme.startswith("smtp"):
        settings.update(
            EMAIL_HOST=parts.hostname or "localhost",
            EMAIL_PORT=parts.port or (465 if parts.scheme == "smtp+ssl" else 587 if parts.scheme == "smtp+tls" else 25),
            EMAIL_HOST_USER=unquote(parts.username or ""),
            EMAIL_HOST_PASSWORD=unquote(parts.password or ""),
            EMAIL_USE_TLS=parts.scheme == "smtp+tls",
            EMAIL_USE_SSL=parts.scheme == "smtp+ssl",
        )
    return settings


# Django's rule for a strong key, as its deploy check (security.W009) applies it.
SECRET_KEY_MIN_LENGTH = 50
SECRET_KEY_MIN_UNIQUE_CHARACTERS = 5
SECRET_KEY_INSECURE_PREFIX = "django-insecure-"
NEW_SECRET_KEY_COMMAND = "python3 -c 'import secrets; print(secrets.token_urlsafe(50))'"


def secret_key_weaknesses(key: str) -> list[str]:
    """What makes a key weak by Django's rule; empty when it is strong. Never the key itself."""
    weaknesses = []
    if len(key) < SECRET_KEY_MIN_LENGTH:
        weaknesses.append(f"it has {len(key)} characters, fewer than {SECRET_KEY_MIN_LENGTH}")
    if len(set(key)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS:
        weaknesses.append(f"it has {len(set(key))} different characters, fewer than {SECRET_KEY_MIN_UNIQUE_CHARACTERS}")
    if key.startswith(SECRET_KEY_INSECURE_PREFIX):
        weaknesses.append(f"it starts {SECRET_KEY_INSECURE_PREFIX!r}, the mark of a development key")
    return weaknesses


def production_settings_checked(*, debug: bool, secret_key: str, allowed_hosts: list[str], secrets_key: str = "set") -> None:
    """Stop a production process at start on settings `check --deploy` would only warn about.

    A warning in a log nobody reads leaves a live site with debug pages or a guessable
    key, so every problem is named at once, each with what to set instead.
    """
    problems = []
    if debug:
        problems.append("DEBUG is on: set DEBUG=0 or leave it unset (debug pages show settings and code to anyone)")
    if weaknesses := secret_key_weaknesses(secret_key):
        problems.append(f"SECRET_KEY is weak ({'; '.join(weaknesses)}): make a new one with {NEW_SECRET_KEY_COMMAND}")
    if not allowed_hosts:
        problems.append(
            "ALLOWED_HOSTS is empty: set it to the host names the site is served on, "
            "comma-separated, e.g. ALLOWED_HOSTS=earshot.example.gov.uk"
        )
    if not secrets_key:
        problems.append(
            "EARSHOT_SECRETS_KEY is not set: platform secrets are encrypted under it; make one with "
            "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
        )
    if problems:
        raise ImproperSetting("EARSHOT_PRODUCTION=1 refuses to start:\n" + "\n".join(f"  - {p}" for p in problems))
