"""Earshot settings: one file, read from the environment.

Required in production: SECRET_KEY, DATABASE_URL, REDIS_URL, ALLOWED_HOSTS.
When DATABASE_URL / REDIS_URL are unset, an embedded PostgreSQL and Redis are
started under EARSHOT_VAR_DIR (default ./var) so a machine with only Python runs
the whole system.
"""

import os
import re
from pathlib import Path

from celery.schedules import crontab as _crontab

from config.env import (
    ImproperSetting,
    database_from_url,
    email_from_url,
    env_bool,
    env_float,
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

# Platform secrets (listening.PlatformCredential) are encrypted at rest under
# EARSHOT_SECRETS_KEY: comma-separated Fernet keys; the first encrypts, every one
# decrypts, so a new key can be put first and `manage.py rotate_secrets` run.
EARSHOT_SECRETS_KEY = env_str("EARSHOT_SECRETS_KEY", "").strip()
if not EARSHOT_SECRETS_KEY and not PRODUCTION:  # production refuses to start without it (below)
    # Like SECRET_KEY: one per installation, kept under var/, so stored secrets stay readable.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    _secrets_key_file = VAR_DIR / "secrets_key"
    if not _secrets_key_file.exists():
        from cryptography.fernet import Fernet

        try:
            with os.fdopen(os.open(_secrets_key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as handle:
                handle.write(Fernet.generate_key().decode())
        except FileExistsError:
            pass  # another process made it first
    EARSHOT_SECRETS_KEY = _secrets_key_file.read_text().strip()


def _fernet_keys_checked(value: str) -> str:
    from cryptography.fernet import Fernet

    keys = [key.strip() for key in value.split(",") if key.strip()]
    for number, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except ValueError:
            raise ImproperSetting(
                f"EARSHOT_SECRETS_KEY: key {number} is not a Fernet key (32 url-safe base64-encoded bytes)"
            ) from None
    return ",".join(keys)


EARSHOT_SECRETS_KEY = _fernet_keys_checked(EARSHOT_SECRETS_KEY)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
if PRODUCTION:
    production_settings_checked(
        debug=DEBUG, secret_key=SECRET_KEY, allowed_hosts=ALLOWED_HOSTS, secrets_key=EARSHOT_SECRETS_KEY
    )

DATABASE_URL = env_str("DATABASE_URL")
REDIS_URL = env_str("REDIS_URL")
if not DATABASE_URL or not REDIS_URL:
    from config import embedded

    if not DATABASE_URL:
        DATABASE_URL = embedded.postgres_url(VAR_DIR)
    if not REDIS_URL:
        REDIS_URL = embedded.redis_url(VAR_DIR)

DATABASES = {"default": database_from_url(DATABASE_URL)}
# Every connection starts with JIT compilation and parallel workers off. Earshot's queries
# are short and index-driven (keyset pages, bounded windows, batches); on them JIT's
# compile time (10-25 ms on an inbox page at a million mentions) and parallel workers'
# start-up cost more than they save, and the planner's cost guesses switch both on for
# pages that read a few hundred rows. Options given in DATABASE_URL (`?options=-c …`) come
# after these, so they win.
DATABASES["default"]["OPTIONS"]["options"] = " ".join(
    filter(None, ["-c jit=off -c max_parallel_workers_per_gather=0", DATABASES["default"]["OPTIONS"].get("options")])
)
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
    # Before accounts, whose admin module takes their devices out of Django admin.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "accounts",
    "governance",
    "listening",
    "triage",
    "foi_monitoring",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.middleware.ContentSecurityPolicyMiddleware",
    "config.request_guard.RequestGuardMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "accounts.middleware.SessionLimitsMiddleware",
    "accounts.two_factor.TwoFactorMiddleware",
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

# Sessions: stored in the database, so deactivating an account can delete its sessions
# (accounts/services.py: user_sessions_end). accounts.middleware.SessionLimitsMiddleware
# signs a session out after EARSHOT_SESSION_IDLE_MINUTES without activity and after
# EARSHOT_SESSION_MAX_HOURS in all; the cookie is also gone when the browser closes.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
EARSHOT_SESSION_IDLE_MINUTES = env_int("EARSHOT_SESSION_IDLE_MINUTES", 30, minimum=1)
EARSHOT_SESSION_MAX_HOURS = env_int("EARSHOT_SESSION_MAX_HOURS", 12, minimum=1)
# Sensitive actions (grants, platform credentials, erasure, retention) ask for the
# password again when it was last given longer ago than this (accounts/reauth.py).
EARSHOT_REAUTH_MINUTES = env_int("EARSHOT_REAUTH_MINUTES", 10, minimum=1)
# Two-factor sign-in (accounts/two_factor.py): a TOTP code after the password, required
# for everyone holding an admin grant, and for everyone when this is on.
EARSHOT_TOTP_REQUIRED_FOR_ALL = env_bool("EARSHOT_TOTP_REQUIRED_FOR_ALL", False)
# The name authenticator apps show beside the code.
OTP_TOTP_ISSUER = env_str("EARSHOT_TOTP_ISSUER", "Earshot")
# A wrong code makes the next try wait 1, 2, 4, 8... seconds (django-otp), and counts
# towards the same lockout as a wrong password (axes).
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1
# Between the password and the code: this long to give the code, and this many tries.
EARSHOT_SIGN_IN_CODE_MINUTES = env_int("EARSHOT_SIGN_IN_CODE_MINUTES", 5, minimum=1)
# Invitations: the set-password link in the email works once, for this many days.
EARSHOT_INVITATION_DAYS = env_int("EARSHOT_INVITATION_DAYS", 3, minimum=1)
if EARSHOT_SESSION_IDLE_MINUTES > EARSHOT_SESSION_MAX_HOURS * 60:
    raise ImproperSetting("EARSHOT_SESSION_IDLE_MINUTES must not be longer than EARSHOT_SESSION_MAX_HOURS")
# A stored session row lapses no later than the longest a session may last.
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", EARSHOT_SESSION_MAX_HOURS * 60 * 60, minimum=60)
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

EMAIL_URL = env_str("EMAIL_URL") or ("console://" if DEBUG else "memory://")
if EMAIL_URL.startswith("file://"):
    # file:///path/to/dir writes each message to a file there (the demo's mailbox);
    # file:// alone means var/mail.
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = EMAIL_URL[len("file://"):] or str(VAR_DIR / "mail")
else:
    globals().update(email_from_url(EMAIL_URL))
# An SMTP server that never answers must not hold a worker forever.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "earshot@localhost")
# Cases: references look like IC-239081-R6T5; the prefix is this installation's own.
EARSHOT_CASE_REFERENCE_PREFIX = env_str("EARSHOT_CASE_REFERENCE_PREFIX", "IC")
if not re.fullmatch(r"[A-Z]{1,8}", EARSHOT_CASE_REFERENCE_PREFIX):
    raise ImproperSetting("EARSHOT_CASE_REFERENCE_PREFIX must be 1 to 8 capital letters")
# Subject access deadlines move off the bank holidays of the nation the controller is in.
EARSHOT_SAR_NATION = env_str("EARSHOT_SAR_NATION", "england-and-wales")
if EARSHOT_SAR_NATION not in ("england-and-wales", "scotland", "northern-ireland"):
    raise ImproperSetting("EARSHOT_SAR_NATION must be england-and-wales, scotland or northern-ireland")
# The address links in emails point at (circulations, digests, alerts).
EARSHOT_BASE_URL = env_str("EARSHOT_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
# The body's privacy notice, linked from the transparency report; blank: the report says none is set.
EARSHOT_PRIVACY_NOTICE_URL = (env_str("EARSHOT_PRIVACY_NOTICE_URL", "") or "").strip()
if EARSHOT_PRIVACY_NOTICE_URL and not re.fullmatch(r"https?://[^\s<>\"']+", EARSHOT_PRIVACY_NOTICE_URL, re.IGNORECASE):
    raise ImproperSetting("EARSHOT_PRIVACY_NOTICE_URL must be an http:// or https:// address")
# Spike alerts: defaults for a saved search with no thresholds of its own.
EARSHOT_SPIKE_RATIO = env_int("EARSHOT_SPIKE_RATIO", 3, minimum=1)
EARSHOT_SPIKE_MIN_COUNT = env_int("EARSHOT_SPIKE_MIN_COUNT", 10, minimum=1)
EARSHOT_SPIKE_COOLDOWN_MINUTES = env_int("EARSHOT_SPIKE_COOLDOWN_MINUTES", 180, minimum=1)

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
# Digests, due-case reminders and spike checks; each task works out who is due and is safe to run twice.
CELERY_BEAT_SCHEDULE = {
    "send scheduled mail": {"task": "triage.tasks.send_scheduled_mail", "schedule": 300.0, "options": {"expires": 240}},
    "detect spikes": {"task": "triage.tasks.detect_spikes", "schedule": 300.0, "options": {"expires": 240}},
}

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

# Bounds on what a request may ask of the server (config/request_guard.py and the views).
EARSHOT_REQUEST_VALUE_MAX_LENGTH = env_int("EARSHOT_REQUEST_VALUE_MAX_LENGTH", 20_000)
EARSHOT_DECISION_NOTE_MAX_LENGTH = env_int("EARSHOT_DECISION_NOTE_MAX_LENGTH", 5_000)
# Opening an item claims it for this long; the open page renews the claim every 30 seconds.
EARSHOT_CLAIM_SECONDS = env_int("EARSHOT_CLAIM_SECONDS", 120)
# How long after a decision its maker may still undo it (the toast shows for 10 seconds).
EARSHOT_UNDO_SECONDS = env_int("EARSHOT_UNDO_SECONDS", 60)
# The most inbox items one bulk action may touch; more is refused with a message.
EARSHOT_BULK_MAX_ITEMS = env_int("EARSHOT_BULK_MAX_ITEMS", 500)
# "Try it" on a saved search stops matching candidates after this long (seconds, decimals
# allowed) and says its count is a lower bound. The default keeps its p95 near 300 ms.
EARSHOT_TRY_IT_BUDGET_SECONDS = env_float("EARSHOT_TRY_IT_BUDGET_SECONDS", 0.25, minimum=0)

def _env_pairs(name: str, default: str) -> dict[str, str]:
    """`x=450/900,mastodon=300/300` → {"x": "450/900", …}; a malformed entry stops start-up."""
    pairs = {}
    for item in (env_str(name) if env_str(name) is not None else default).split(","):
        if not item.strip():
            continue
        platform, sep, value = item.partition("=")
        if not sep or not platform.strip() or not value.strip():
            raise ImproperSetting(f"{name}: {item.strip()!r} is not platform=value")
        pairs[platform.strip().lower()] = value.strip()
    return pairs


def _env_budgets(name: str, default: str) -> dict[str, tuple[int, int]]:
    budgets = {}
    for platform, value in _env_pairs(name, default).items():
        requests, _, seconds = value.partition("/")
        if not (requests.isdigit() and seconds.isdigit() and int(requests) > 0 and int(seconds) > 0):
            raise ImproperSetting(f"{name}: {platform}={value!r} is not REQUESTS/SECONDS, e.g. 450/900")
        budgets[platform] = (int(requests), int(seconds))
    return budgets


def _env_decimals(name: str, default: str) -> dict:
    from decimal import Decimal, InvalidOperation

    values = {}
    for platform, value in _env_pairs(name, default).items():
        try:
            values[platform] = Decimal(value)
        except InvalidOperation:
            raise ImproperSetting(f"{name}: {platform}={value!r} is not a number") from None
        if values[platform] < 0:
            raise ImproperSetting(f"{name}: {platform}={value!r} is negative")
    return values


# Harvests. Each platform app's request budget (REQUESTS/SECONDS) is shared by every
# saved search and channel using one credential; the platform's own rate-limit
# headers take over once it sends them. X: 450 recent-search requests per 15 minutes
# per app; Mastodon: 300 per 5 minutes per account; Bluesky: 3000 per 5 minutes.
EARSHOT_REQUEST_BUDGETS = _env_budgets("EARSHOT_REQUEST_BUDGETS", "x=450/900,mastodon=300/300,bluesky=3000/300")
# What a platform charges per post read (in dollars), and its own monthly read limit.
# Adding a paid platform is only these two settings.
EARSHOT_PRICE_PER_READ = _env_decimals("EARSHOT_PRICE_PER_READ", "x=0.005")
EARSHOT_MONTHLY_READ_LIMITS = {
    platform: int(value) for platform, value in _env_decimals("EARSHOT_MONTHLY_READ_LIMITS", "x=3000000").items()
}
# Pages one harvest run reads at most (the demo source has its own setting above).
EARSHOT_HARVEST_MAX_PAGES = env_int("EARSHOT_HARVEST_MAX_PAGES", 5)
# A harvest task stops itself after this many seconds (recorded "stopped: took too
# long"); the worker kills it a little later if it does not.
EARSHOT_HARVEST_SOFT_TIME_LIMIT = env_int("EARSHOT_HARVEST_SOFT_TIME_LIMIT", 240)
EARSHOT_HARVEST_TIME_LIMIT = env_int("EARSHOT_HARVEST_TIME_LIMIT", EARSHOT_HARVEST_SOFT_TIME_LIMIT + 30)

# FOI monitoring (foi_monitoring/): the five-day rule and its ceiling, in days; the scan of
# monitoring hits reads only hits older than the lag, so an ingest transaction still open
# when the scan passes cannot be skipped.
EARSHOT_FOI_PURGE_DAYS_AFTER_MEETING = env_int("EARSHOT_FOI_PURGE_DAYS_AFTER_MEETING", 5, minimum=1)
EARSHOT_FOI_PURGE_CEILING_DAYS = env_int("EARSHOT_FOI_PURGE_CEILING_DAYS", 30, minimum=1)
EARSHOT_FOI_PURGE_EVERY_MINUTES = env_int("EARSHOT_FOI_PURGE_EVERY_MINUTES", 15, minimum=1)
# How many database connections the purge deletes its batches on, side by side (each batch
# its own transaction either way). Each keeps a database core busy while it runs: more
# than one only where the database has cores to spare beside the web requests.
EARSHOT_FOI_PURGE_CONNECTIONS = env_int("EARSHOT_FOI_PURGE_CONNECTIONS", 1, minimum=1)
EARSHOT_FOI_SCAN_EVERY_SECONDS = env_int("EARSHOT_FOI_SCAN_EVERY_SECONDS", 60, minimum=1)
EARSHOT_FOI_SCAN_LAG_SECONDS = env_int("EARSHOT_FOI_SCAN_LAG_SECONDS", 60, minimum=0)
if EARSHOT_FOI_PURGE_CEILING_DAYS < EARSHOT_FOI_PURGE_DAYS_AFTER_MEETING:
    raise ImproperSetting("EARSHOT_FOI_PURGE_CEILING_DAYS must be at least EARSHOT_FOI_PURGE_DAYS_AFTER_MEETING")
if EARSHOT_FOI_PURGE_EVERY_MINUTES > 30:
    # The purge starts an hour before each deadline; a longer period could miss it.
    raise ImproperSetting("EARSHOT_FOI_PURGE_EVERY_MINUTES must be 30 or less")
CELERY_BEAT_SCHEDULE |= {
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

# Retention (governance/retention.py): beat applies every policy once a night at this local
# time; the page's preview of a change gives up after EARSHOT_RETENTION_PREVIEW_SECONDS.
EARSHOT_RETENTION_HOUR = env_int("EARSHOT_RETENTION_HOUR", 2, minimum=0)
EARSHOT_RETENTION_MINUTE = env_int("EARSHOT_RETENTION_MINUTE", 30, minimum=0)
EARSHOT_RETENTION_PREVIEW_SECONDS = env_int("EARSHOT_RETENTION_PREVIEW_SECONDS", 10, minimum=1)
if EARSHOT_RETENTION_HOUR > 23 or EARSHOT_RETENTION_MINUTE > 59:
    raise ImproperSetting("EARSHOT_RETENTION_HOUR must be 0-23 and EARSHOT_RETENTION_MINUTE 0-59")
CELERY_BEAT_SCHEDULE |= {
    "apply retention": {
        "task": "governance.tasks.apply_retention",
        "schedule": _crontab(hour=EARSHOT_RETENTION_HOUR, minute=EARSHOT_RETENTION_MINUTE),
        # A night missed (beat down) is caught up by the next one; never two queued at once.
        "options": {"expires": 6 * 3600.0},
    },
}

# The access list: every grant is re-confirmed by an admin every EARSHOT_ACCESS_REVIEW_DAYS;
# the Access page lists grants from EARSHOT_ACCESS_REVIEW_NOTICE_DAYS before they are due.
EARSHOT_ACCESS_REVIEW_DAYS = env_int("EARSHOT_ACCESS_REVIEW_DAYS", 90, minimum=1)
EARSHOT_ACCESS_REVIEW_NOTICE_DAYS = env_int("EARSHOT_ACCESS_REVIEW_NOTICE_DAYS", 14, minimum=0)
# Hourly, so a grant is revoked within the hour its expiry date begins (it gives nothing from then anyway).
CELERY_BEAT_SCHEDULE |= {
    "expire access grants": {"task": "accounts.tasks.expire_access_grants", "schedule": 3600.0, "options": {"expires": 3000.0}},
    # Expired sessions are otherwise kept until someone runs `clearsessions`.
    "clear expired sessions": {"task": "accounts.tasks.clear_expired_sessions", "schedule": 3600.0, "options": {"expires": 3000.0}},
}
