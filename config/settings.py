"""Earshot settings: one file, read from the environment.

Required in production: SECRET_KEY, DATABASE_URL, REDIS_URL, ALLOWED_HOSTS.
When DATABASE_URL / REDIS_URL are unset, an embedded PostgreSQL and Redis are
started under EARSHOT_VAR_DIR (default ./var) so a machine with only Python runs
the whole system.
"""

import os
from pathlib import Path

from config.env import (
    ImproperSetting,
    database_from_url,
    email_from_url,
    env_bool,
    env_int,
    env_list,
    env_str,
    production_settings_checked,
    redis_url_checked,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("EARSHOT_VAR_DIR") or BASE_DIR / "var").resolve()

DEBUG = env_bool("DEBUG", False)
# Production (docker-compose) turns on secure cookies, HSTS and hashed static files.
PRODUCTION = env_bool("EARSHOT_PRODUCTION", False)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperSetting("SECRET_KEY must be set in production")
    # A key per installation, kept under var/, so sessions survive restarts.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        import secrets

        with os.fdopen(os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as handle:
            handle.write(secrets.token_urlsafe(50))
    SECRET_KEY = key_file.read_text().strip()

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
if PRODUCTION:
    production_settings_checked(debug=DEBUG, secret_key=SECRET_KEY, allowed_hosts=ALLOWED_HOSTS)

DATABASE_URL = env_str("DATABASE_URL")
REDIS_URL = env_str("REDIS_URL")
if not DATABASE_URL or not REDIS_URL:
    from config import embedded

    if not DATABASE_URL:
        DATABASE_URL = embedded.postgres_url(VAR_DIR)
    if not REDIS_URL:
        REDIS_URL = embedded.redis_url(VAR_DIR)

DATABASES = {"default": database_from_url(DATABASE_URL)}
REDIS_URL = redis_url_checked(REDIS_URL)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "config.admin.EarshotAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_htmx",
    "template_partials",
    "axes",
    "accounts",
    "governance",
    "listening",
    "triage",
    "foi_monitoring",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "accounts.backends.AccessGrantBackend"]

# Login throttling: five failures for one username from one address lock it for 15 minutes.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 15) / 60
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# The lockout keys on the same client address as the audit log.
AXES_CLIENT_IP_CALLABLE = "governance.services.client_ip"
# Behind a reverse proxy the connecting address is the proxy's. The client's address is
# read from X-Forwarded-For, trusting only the entries our own proxies appended.
BEHIND_PROXY = env_bool("BEHIND_PROXY", False)
if BEHIND_PROXY:
    TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 1, minimum=1)
else:
    if count := env_int("TRUSTED_PROXY_COUNT", 0, minimum=0):
        raise ImproperSetting(
            f"TRUSTED_PROXY_COUNT={count} but BEHIND_PROXY is off: set BEHIND_PROXY=1 as well, or unset TRUSTED_PROXY_COUNT"
        )
    TRUSTED_PROXY_COUNT = 0
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.access",
            ],
        },
    },
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION

# Sessions: a working day, and gone when the browser closes.
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 60 * 60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie

SECURE = env_bool("SECURE", PRODUCTION)
SESSION_COOKIE_SECURE = SECURE
CSRF_COOKIE_SECURE = SECURE
SECURE_SSL_REDIRECT = SECURE and env_bool("SECURE_SSL_REDIRECT", True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # health checks come over plain http inside the network
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000) if SECURE else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE
SECURE_HSTS_PRELOAD = SECURE
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_PROXY else None
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)

globals().update(email_from_url(env_str("EMAIL_URL") or ("console://" if DEBUG else "memory://")))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "earshot@localhost")

CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}


from config.embedded import celery_url  # noqa: E402  (redis-py's unix:// in Celery's spelling)

CELERY_BROKER_URL = celery_url(REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_DEFAULT_QUEUE = env_str("EARSHOT_CELERY_QUEUE", "earshot")
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
EARSHOT_DISPATCH_EVERY_SECONDS = env_int("EARSHOT_DISPATCH_EVERY_SECONDS", 60)

# Health: /healthz and the harvest health page's banners (config/heartbeat.py, config/views.py).
# Each PostgreSQL / Redis check gives up after this long, so a dead service can't hang it.
EARSHOT_HEALTH_CHECK_TIMEOUT_SECONDS = env_int("EARSHOT_HEALTH_CHECK_TIMEOUT_SECONDS", 2)
# Stale after this long without a successful dispatcher run (default: three dispatch intervals).
EARSHOT_HEALTH_DISPATCHER_MAX_AGE_SECONDS = env_int(
    "EARSHOT_HEALTH_DISPATCHER_MAX_AGE_SECONDS", 3 * EARSHOT_DISPATCH_EVERY_SECONDS
)
# Beat sends a heartbeat task this often; a worker that has run none for the max age is stale.
EARSHOT_HEALTH_WORKER_HEARTBEAT_SECONDS = env_int("EARSHOT_HEALTH_WORKER_HEARTBEAT_SECONDS", 30)
EARSHOT_HEALTH_WORKER_MAX_AGE_SECONDS = env_int("EARSHOT_HEALTH_WORKER_MAX_AGE_SECONDS", 120)
for _name in (
    "EARSHOT_DISPATCH_EVERY_SECONDS",
    "EARSHOT_HEALTH_CHECK_TIMEOUT_SECONDS",
    "EARSHOT_HEALTH_DISPATCHER_MAX_AGE_SECONDS",
    "EARSHOT_HEALTH_WORKER_HEARTBEAT_SECONDS",
    "EARSHOT_HEALTH_WORKER_MAX_AGE_SECONDS",
):
    if globals()[_name] < 1:
        raise ImproperSetting(f"{_name} must be at least 1 second")
if EARSHOT_HEALTH_DISPATCHER_MAX_AGE_SECONDS <= EARSHOT_DISPATCH_EVERY_SECONDS:
    raise ImproperSetting(
        "EARSHOT_HEALTH_DISPATCHER_MAX_AGE_SECONDS must be longer than EARSHOT_DISPATCH_EVERY_SECONDS, "
        "or every tick would arrive stale"
    )
if EARSHOT_HEALTH_WORKER_HEARTBEAT_SECONDS >= EARSHOT_HEALTH_WORKER_MAX_AGE_SECONDS:
    raise ImproperSetting(
        "EARSHOT_HEALTH_WORKER_HEARTBEAT_SECONDS must be shorter than EARSHOT_HEALTH_WORKER_MAX_AGE_SECONDS, "
        "or every heartbeat would arrive stale"
    )

# Where each platform's API lives, so tests and self-hosted servers can point anywhere.
EARSHOT_X_BASE_URL = env_str("EARSHOT_X_BASE_URL", "https://api.x.com")
# Bluesky calls are signed in, so they go to the account's PDS (bsky.social for most accounts).
EARSHOT_BLUESKY_BASE_URL = env_str("EARSHOT_BLUESKY_BASE_URL", "https://bsky.social")
EARSHOT_MASTODON_BASE_URL = env_str("EARSHOT_MASTODON_BASE_URL", "https://mastodon.social")
EARSHOT_X_QUERY_MAX_LENGTH = env_int("EARSHOT_X_QUERY_MAX_LENGTH", 512)
# News feeds: a bigger body is refused; entries past the cap in one document are left unread.
EARSHOT_FEED_MAX_BYTES = env_int("EARSHOT_FEED_MAX_BYTES", 5 * 1024 * 1024)
EARSHOT_FEED_MAX_ENTRIES = env_int("EARSHOT_FEED_MAX_ENTRIES", 500)
# The demo source: posts per page and pages per harvest.
EARSHOT_DEMO_PAGE_SIZE = env_int("EARSHOT_DEMO_PAGE_SIZE", 10)
EARSHOT_DEMO_PAGES_PER_RUN = env_int("EARSHOT_DEMO_PAGES_PER_RUN", 2)

# FOI monitoring (foi_monitoring/): the five-day rule and its ceiling, in days; the scan of
# monitoring hits reads only hits older than the lag, so an ingest transaction still open
# when the scan passes cannot be skipped.
EARSHOT_FOI_PURGE_DAYS_AFTER_MEETING = env_int("EARSHOT_FOI_PURGE_DAYS_AFTER_MEETING", 5, minimum=1)
EARSHOT_FOI_PURGE_CEILING_DAYS = env_int("EARSHOT_FOI_PURGE_CEILING_DAYS", 30, minimum=1)
EARSHOT_FOI_PURGE_EVERY_MINUTES = env_int("EARSHOT_FOI_PURGE_EVERY_MINUTES", 15, minimum=1)
EARSHOT_FOI_SCAN_EVERY_SECONDS = env_int("EARSHOT_FOI_SCAN_EVERY_SECONDS", 60, minimum=1)
EARSHOT_FOI_SCAN_LAG_SECONDS = env_int("EARSHOT_FOI_SCAN_LAG_SECONDS", 60, minimum=0)
if EARSHOT_FOI_PURGE_CEILING_DAYS < EARSHOT_FOI_PURGE_DAYS_AFTER_MEETING:
    raise ImproperSetting("EARSHOT_FOI_PURGE_CEILING_DAYS must be at least EARSHOT_FOI_PURGE_DAYS_AFTER_MEETING")
if EARSHOT_FOI_PURGE_EVERY_MINUTES > 30:
    # The purge starts an hour before each deadline; a longer period could miss it.
    raise ImproperSetting("EARSHOT_FOI_PURGE_EVERY_MINUTES must be 30 or less")
CELERY_BEAT_SCHEDULE = {
    "foi monitoring scan": {
        "task": "foi_monitoring.tasks.scan_monitoring_hits",
        "schedule": float(EARSHOT_FOI_SCAN_EVERY_SECONDS),
        "options": {"expires": float(EARSHOT_FOI_SCAN_EVERY_SECONDS)},
    },
    "foi five-day purge": {
        "task": "foi_monitoring.tasks.run_purges",
        "schedule": 60.0 * EARSHOT_FOI_PURGE_EVERY_MINUTES,
        "options": {"expires": 60.0 * EARSHOT_FOI_PURGE_EVERY_MINUTES},
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
