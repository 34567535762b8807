"""Settings for the Post Management Dashboard.

Everything comes from the environment (docs/operating.md, "Settings"), with defaults that
let `make run` work on a fresh checkout: SQLite and a vault folder under var/.
Every variable NAME may instead be given as NAME_FILE, a file holding the value.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured
from environs import FileAwareEnv
from marshmallow.validate import OneOf, Range, Regexp
from redis.connection import SSLConnection
from redis.connection import parse_url as parse_redis_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

# environs rather than django-environ: both read NAME_FILE (for secrets), but
# django-environ turns "eight" into a bare ValueError that does not say which
# variable is wrong and reads any unknown boolean as False; environs rejects
# both with 'Environment variable "NAME" invalid: …'. Importing settings writes
# nothing (a read-only image must start): make run and the test setup create
# the var/ folders they use.
env = FileAwareEnv(strip_whitespace=True)


@env.parser_for("csv")
def _comma_separated(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def at_least(minimum: int) -> Range:
    return Range(min=minimum, error="must be at least {min}, not {input}")


# Off unless set: a server started without its settings must not show
# tracebacks or run on a key anyone can read here. `make run` and the tests
# turn it on.
DEBUG = env.bool("DEBUG", False)

# Only ever used with DEBUG on and no key set (local development); a process
# with DEBUG off refuses to start on it, as on no key at all.
DEVELOPMENT_SECRET_KEY = "dev-only-insecure-key-7f3c2a9e1b5d4c8a6e0f2b7d9c1a3e5f8b0d2c4a6e8f0a1b"
SECRET_KEY = env.str("SECRET_KEY", "")
if not DEBUG and SECRET_KEY in ("", DEVELOPMENT_SECRET_KEY):
    raise ImproperlyConfigured(
        "SECRET_KEY must be set when DEBUG is off: a long random key of this deployment's "
        'own (docs/operating.md, "Deploying")'
    )
SECRET_KEY = SECRET_KEY or DEVELOPMENT_SECRET_KEY

ALLOWED_HOSTS = env.csv("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
SITE_URL = env.str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = env.csv("CSRF_TRUSTED_ORIGINS", SITE_URL)
# JSON under /api/, so the page can show why an action was refused.
CSRF_FAILURE_VIEW = "pmd.api.csrf_failure"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "csp",
    "template_partials",
    "django_celery_beat",
    "django_eventstream",
    "axes",
    "posts",
    "pmd",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "pmd_project.static.StaticFilesMiddleware",  # WhiteNoise
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "pmd_project.errors.RefuseNulMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "pmd_project.cache_headers.PrivateAnswersMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "pmd_project.security.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "pmd_project.errors.ApiMethodNotAllowedMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks
]

ROOT_URLCONF = "pmd_project.urls"
WSGI_APPLICATION = "pmd_project.wsgi.application"
ASGI_APPLICATION = "pmd_project.asgi.application"

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
            ],
        },
    },
]

# Database: SQLite under var/ unless DATABASE_URL names another one.
DATABASES = {
    "default": env.dj_db_url(
        "DATABASE_URL",
        f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        # Under ASGI every request runs in its own thread, so persistent
        # connections would pile up (Django docs, "Databases"): PostgreSQL
        # connections are pooled instead (below). Health checks make a
        # connection dropped by the server cost nothing but a reconnect.
        conn_max_age=env.int("DATABASE_CONN_MAX_AGE", 0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A server that does not answer fails a connection in seconds, not after
    # the system's TCP timeout (minutes).
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env.bool(
    "DATABASE_POOL", DATABASES["default"]["CONN_MAX_AGE"] == 0
):
    # psycopg's pool, through Django: a request takes a warm connection
    # instead of opening one (a 128-id action over HTTP: 41.7 ms median
    # without, 25.6 ms with; docs/benchmarks.md). SSE streams hand theirs back
    # after each read (pmd/live.py). On by default wherever the database is
    # PostgreSQL, but in the test process (pyproject.toml), whose test database
    # is made and dropped under it.
    # After PostgreSQL restarts: every pooled connection is dead. Django has
    # the pool check each one before lending it (conn_health_checks), so a
    # dead one is replaced, never handed to a request. While PostgreSQL is
    # still down, psycopg_pool retries a connection with a growing delay
    # (1 s, 2 s, 4 s …) until reconnect_timeout; left at its 5 minutes, the
    # pool could wait a minute after PostgreSQL is back before trying again.
    # Giving up after a few seconds instead lets the next request that needs
    # a connection start a fresh attempt at once.
    DATABASES["default"]["OPTIONS"]["pool"] = {
        "min_size": env.int("DATABASE_POOL_MIN", 2),
        "max_size": env.int("DATABASE_POOL_MAX", 20, validate=at_least(1)),
        "timeout": env.int("DATABASE_POOL_TIMEOUT", 10, validate=at_least(1)),
        "reconnect_timeout": 5,
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share the file: wait for a lock instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    # A transaction that reads, then writes, while another process writes gets
    # "database is locked" at once (SQLite cannot wait to upgrade a read lock);
    # taking the write lock at BEGIN makes it wait its turn instead. It also
    # makes count-then-insert transactions (the daily download limit) take turns.
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
    # A file, not memory, so the ASGI server and worker that tests start can share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
SILENCED_SYSTEM_CHECKS = [
    # The covering (INCLUDE) columns of the sort indexes are a PostgreSQL
    # speed-up; SQLite ignores them and works without.
    "models.W040",
]

REDIS_URL = env.str("REDIS_URL", "redis://127.0.0.1:6379/0")


def redis_client_options(url: str) -> dict:
    """REDIS_URL as keyword arguments that both redis.Redis (django-eventstream
    publishing) and redis.asyncio.Redis (the SSE relay) accept: parsed by
    redis-py itself, so rediss://, ACL users and unix sockets work as they do
    for the cache and the broker."""
    try:
        options = parse_redis_url(url)
    except ValueError as error:
        raise ImproperlyConfigured(f"REDIS_URL is not a Redis URL: {error}") from None
    # A connection class is specific to the sync or the asyncio client; the
    # flags below mean the same to both.
    connection_class = options.pop("connection_class", None)
    if connection_class is not None and issubclass(connection_class, SSLConnection):
        options["ssl"] = True
    if "path" in options:
        options["unix_socket_path"] = options.pop("path")
    return options


CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", "pmd"),
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }
    if env.bool("PMD_CACHE_REDIS", True)
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
# PMD speaks English only. Django's docs: "If you don't use
# internationalization, you should take two seconds to turn it off." With it
# on, every "3 days, 5 hours ago" and "2.0 KB" looks its words up in each
# installed app's catalog: on the 512-row table that was 15% of a request
# (bench). Formats stay those of en-us.
USE_I18N = False
USE_TZ = True

# Static files: served by WhiteNoise straight from the app and project folders,
# so no collectstatic step is needed to run the app.
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = True

# The vault holds artwork files and built ZIPs. Both go through the storage
# API under the "vault" alias, so another storage can be configured later.
PMD_VAULT_ROOT = env.path("PMD_VAULT_ROOT", VAR_DIR / "vault").resolve()
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "vault": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {
            "location": str(PMD_VAULT_ROOT),
            "base_url": None,
            # Readable by the vault folder's group, which nginx's workers are
            # in (docs/operating.md, "Deploying"); not by every user of the host.
            "file_permissions_mode": 0o640,
        },
    },
}

# --- Operations: the vault on S3-compatible object storage -------------------
# PMD_VAULT_URL=s3://<bucket>/<prefix> puts the vault in a bucket through
# django-storages, with its usual AWS_* variables (as operators know them); left empty for
# AWS itself, the endpoint, region and keys come from boto3's own chain
# (instance roles, ~/.aws). Reads are answered with presigned redirects that
# live PMD_VAULT_URL_EXPIRE_SECONDS, signed for PMD_VAULT_PUBLIC_URL when the
# browsers reach the store at another address than the processes do, and
# workers build each ZIP in PMD_SCRATCH_DIR before uploading it
# (pmd.downloads.storage). docs/operating.md, "Object storage".
PMD_VAULT_URL = env.str("PMD_VAULT_URL", "")
AWS_S3_ENDPOINT_URL = env.str("AWS_S3_ENDPOINT_URL", "")
AWS_S3_REGION_NAME = env.str("AWS_S3_REGION_NAME", "")
AWS_S3_ADDRESSING_STYLE = env.str(
    "AWS_S3_ADDRESSING_STYLE",
    "",
    validate=OneOf(
        ["", "auto", "path", "virtual"], error="must be auto, path or virtual, not {input}"
    ),
)
AWS_ACCESS_KEY_ID = env.str("AWS_ACCESS_KEY_ID", "")
AWS_SECRET_ACCESS_KEY = env.str("AWS_SECRET_ACCESS_KEY", "")
PMD_VAULT_URL_EXPIRE_SECONDS = env.int("PMD_VAULT_URL_EXPIRE_SECONDS", 300, validate=at_least(30))
PMD_VAULT_PUBLIC_URL = env.str("PMD_VAULT_PUBLIC_URL", "").rstrip("/")
# A store that stops answering must cost a request seconds, not botocore's
# 60 s connect plus 60 s read, each tried up to five times: two attempts of
# these bound an artwork or download request to about 7 s (then a 503 with
# Retry-After, pmd_project.lib.vault), below any proxy's timeout.
PMD_VAULT_CONNECT_TIMEOUT_SECONDS = env.int(
    "PMD_VAULT_CONNECT_TIMEOUT_SECONDS", 3, validate=at_least(1)
)
PMD_VAULT_READ_TIMEOUT_SECONDS = env.int("PMD_VAULT_READ_TIMEOUT_SECONDS", 3, validate=at_least(1))
# Except for the worker's uploads: completing a multipart upload, the store
# puts the parts together before it answers, which takes seconds for a ZIP of
# gigabytes (S3 answers in the meantime with whitespace, many compatible stores
# with nothing). The build's lease stays fresh while it waits.
PMD_VAULT_UPLOAD_READ_TIMEOUT_SECONDS = env.int(
    "PMD_VAULT_UPLOAD_READ_TIMEOUT_SECONDS", 120, validate=at_least(1)
)
PMD_SCRATCH_DIR = env.path("PMD_SCRATCH_DIR", Path(tempfile.gettempdir()) / "pmd-scratch")


def s3_vault_storage(
    url: str,
    *,
    endpoint_url: str,
    region_name: str,
    addressing_style: str,
    access_key: str,
    secret_key: str,
    expire_seconds: int,
    connect_timeout: int,
    read_timeout: int,
) -> dict:
    """The STORAGES entry of a vault in the bucket of `url` (s3://<bucket>/<prefix>).
    The tests' store (testing/objectstore.py) is configured by the same function."""
    from botocore.config import Config

    parsed = urlparse(url)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise ImproperlyConfigured(
            f"PMD_VAULT_URL must look like s3://<bucket>/<prefix>, not {url!r}"
        )
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": parsed.netloc,
            "location": parsed.path.strip("/"),
            "endpoint_url": endpoint_url or None,
            "region_name": region_name or None,
            "access_key": access_key or None,
            "secret_key": secret_key or None,
            # Every client of the vault (django-storages' own and
            # pmd_project.lib.vault's) is made with this.
            "client_config": Config(
                signature_version="s3v4",
                s3={"addressing_style": addressing_style or "auto"},
                connect_timeout=connect_timeout,
                read_timeout=read_timeout,
                retries={"mode": "standard", "total_max_attempts": 2},
            ),
            # Private objects: every read is a presigned URL given after the
            # access check (pmd_project.lib.vault.BucketVault.file_response).
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": expire_seconds,
            # Like the local folder, a name in use gets a new one, never overwritten.
            "file_overwrite": False,
            # A file read through storage.open() spills to disk past 8 MiB.
            "max_memory_size": 8 * 1024 * 1024,
        },
    }


if PMD_VAULT_URL:
    STORAGES["vault"] = s3_vault_storage(
        PMD_VAULT_URL,
        endpoint_url=AWS_S3_ENDPOINT_URL,
        region_name=AWS_S3_REGION_NAME,
        addressing_style=AWS_S3_ADDRESSING_STYLE,
        access_key=AWS_ACCESS_KEY_ID,
        secret_key=AWS_SECRET_ACCESS_KEY,
        expire_seconds=PMD_VAULT_URL_EXPIRE_SECONDS,
        connect_timeout=PMD_VAULT_CONNECT_TIMEOUT_SECONDS,
        read_timeout=PMD_VAULT_READ_TIMEOUT_SECONDS,
    )
if PMD_VAULT_PUBLIC_URL:
    _public = urlparse(PMD_VAULT_PUBLIC_URL)
    if _public.scheme not in ("http", "https") or not _public.netloc or _public.path:
        raise ImproperlyConfigured(
            "PMD_VAULT_PUBLIC_URL must be the store's address as browsers reach it, "
            f"such as https://files.example.com, not {PMD_VAULT_PUBLIC_URL!r}"
        )
# --- end of object storage ---------------------------------------------------

# --- Operations: static files in production ----------------------------------
# With DEBUG off, `collectstatic` writes every file under a content-hashed name
# with a manifest (and gzip and Brotli copies), and WhiteNoise serves those
# names as immutable for ten years: a browser fetches each version once. The
# web process collects them itself before it serves, once per version of the
# code (pmd_project.static). PMD_STATIC_MANIFEST=0 serves the source folders
# instead (no collectstatic).
if env.str("STATIC_ROOT", ""):
    STATIC_ROOT = Path(env.str("STATIC_ROOT")).resolve()
PMD_STATIC_MANIFEST = env.bool("PMD_STATIC_MANIFEST", not DEBUG)
if PMD_STATIC_MANIFEST:
    STORAGES["staticfiles"] = {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}
    WHITENOISE_USE_FINDERS = False
# --- end of static files in production --------------------------------------

# Public ids (sqids). Changing the alphabet changes every public URL.
SQIDS_ALPHABET = env.str(
    "SQIDS_ALPHABET", "k3G7QAe51FCsPW92uEOyq4Bg6Sp8YzVTmnU0liwDdHXLajZrfxNhobJIRcMvKt"
)
SQIDS_MIN_LENGTH = env.int("SQIDS_MIN_LENGTH", 6)

# Limits, enforced by the server whatever a page or client sends.
PMD_LIST_LIMIT = env.int("PMD_LIST_LIMIT", 512, validate=at_least(1))
PMD_ACTION_LIMIT = env.int("PMD_ACTION_LIMIT", 128, validate=at_least(1))
# Jobs (pmd.jobs): the most posts one job takes, and the posts each of its
# transactions works on (never more than a request may: PMD_ACTION_LIMIT).
PMD_JOB_LIMIT = env.int("PMD_JOB_LIMIT", 100_000, validate=at_least(1))
PMD_JOB_CHUNK = env.int("PMD_JOB_CHUNK", 128, validate=at_least(1))
PMD_BDR_LIMIT = env.int("PMD_BDR_LIMIT", 128, validate=at_least(1))
PMD_BDR_DAILY_LIMIT = env.int("PMD_BDR_DAILY_LIMIT", 8)
PMD_BDR_TTL_DAYS = env.int("PMD_BDR_TTL_DAYS", 7, validate=at_least(1))
PMD_RESTORE_DAYS = env.int("PMD_RESTORE_DAYS", 30, validate=at_least(1))
# How long an action or a job can be undone (from Recent activity or the API).
PMD_UNDO_DAYS = env.int("PMD_UNDO_DAYS", 7, validate=at_least(1))
# Hashtags a post keeps. Post.hashtags holds 500 characters: 16 hashtags of
# at most 30 characters with a space between them take 16 × 31 − 1 = 495.
PMD_HASHTAG_LIMIT = env.int(
    "PMD_HASHTAG_LIMIT",
    16,
    validate=Range(min=1, max=16, error="must be from {min} to {max}, not {input}"),
)
# Behind nginx: the internal location that maps to the vault (docs/operating.md, "nginx").
# Set, downloads are answered with X-Accel-Redirect and nginx sends the file.
PMD_X_ACCEL_REDIRECT_PREFIX = env.str("PMD_X_ACCEL_REDIRECT_PREFIX", "")

# Email, Django's own names: SMTP when EMAIL_HOST is set, the console otherwise.
EMAIL_HOST = env.str("EMAIL_HOST", "")
EMAIL_PORT = env.int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", 10, validate=at_least(1))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", "PMD <noreply@localhost>")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)

# Celery: a task survives a lost worker, never runs past the
# broker's visibility timeout, and enqueueing never hangs when Redis is down.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", 3600, validate=at_least(60))
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    "socket_connect_timeout": 3,
    "socket_timeout": 5,
    "max_retries": 2,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", 1800, validate=at_least(10))
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 60 if CELERY_TASK_TIME_LIMIT > 120 else None
if CELERY_TASK_TIME_LIMIT >= CELERY_VISIBILITY_TIMEOUT:
    raise ImproperlyConfigured("CELERY_TASK_TIME_LIMIT must stay below CELERY_VISIBILITY_TIMEOUT")
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Periodic jobs live only in django-celery-beat's tables, created by the data
# migration pmd/0003_download_schedules: no CELERY_BEAT_SCHEDULE, which beat
# would write over staff's admin edits on every start.
# Tests and benchmarks give their worker a queue of its own.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", "celery")
# Tests and one-off scripts may run tasks in-process.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", False)
# Retries of transient failures wait about 1, 2, 4 ... s, never longer than
# this. A retry waiting for its time is a reserved, unacknowledged message:
# the wait plus the run must end within the visibility timeout, or Redis
# delivers it a second time (and again, in a loop).
PMD_RETRY_BACKOFF_MAX_SECONDS = env.int("PMD_RETRY_BACKOFF_MAX_SECONDS", 600, validate=at_least(1))
if PMD_RETRY_BACKOFF_MAX_SECONDS + CELERY_TASK_TIME_LIMIT >= CELERY_VISIBILITY_TIMEOUT:
    raise ImproperlyConfigured(
        "PMD_RETRY_BACKOFF_MAX_SECONDS + CELERY_TASK_TIME_LIMIT must stay below "
        "CELERY_VISIBILITY_TIMEOUT"
    )

# Download requests: the recovery job re-enqueues a request left
# pending this long (its enqueue was lost, e.g. Redis was down) ...
PMD_BDR_PENDING_RECOVERY_SECONDS = env.int(
    "PMD_BDR_PENDING_RECOVERY_SECONDS", 300, validate=at_least(30)
)
# ... and takes back one whose build has not renewed its lease this long: a
# live build saves a heartbeat every half second (pmd.downloads.build), even
# while one long file is copied or the ZIP uploaded, so only a dead or hung
# worker's request goes quiet. With the recovery job every 30 seconds, a dead
# worker's request is taken over within this plus 30 s (under 3 minutes).
PMD_BDR_LEASE_SECONDS = env.int("PMD_BDR_LEASE_SECONDS", 120, validate=at_least(5))
# A request still unfinished this long after it was made is failed with a
# message inviting a retry, so a request that crashes every worker that takes
# it cannot loop for ever.
PMD_BDR_GIVE_UP_HOURS = env.int("PMD_BDR_GIVE_UP_HOURS", 24, validate=at_least(1))
# Attempts at sending one email before giving up (logged each time).
PMD_EMAIL_MAX_RETRIES = env.int("PMD_EMAIL_MAX_RETRIES", 6)
# First wait before a retry, doubled each time. Mail servers are down for
# minutes rather than seconds; a build's disk or database hiccup for seconds.
PMD_EMAIL_RETRY_BASE_SECONDS = env.int("PMD_EMAIL_RETRY_BASE_SECONDS", 30)
PMD_BUILD_RETRY_BASE_SECONDS = env.int("PMD_BUILD_RETRY_BASE_SECONDS", 2)

# Live status over SSE (pmd/live.py): events go through Redis so a
# worker's update reaches every web process, and are stored in the database
# so a client that reconnects gets what it missed.
EVENTSTREAM_REDIS = {
    **redis_client_options(REDIS_URL),
    "socket_connect_timeout": 2,
    "socket_timeout": 10,
}
EVENTSTREAM_STORAGE_CLASS = "pmd_project.lib.eventstream.ConnectionReleasingStorage"
EVENTSTREAM_CHANNELMANAGER_CLASS = "pmd.live.UserChannelManager"


def deployment_channel_prefix(database: dict, redis_url: str) -> str:
    """The event-channel prefix of the deployment using `database` and `redis_url`.

    Redis pub/sub ignores database numbers, so deployments sharing one Redis
    server would hear each other's events (a user of one told that a download
    of the other is ready). The prefix is what a deployment's web and worker
    processes share and another deployment's do not: its database (engine,
    name, host, port) and its Redis database, hashed. No user or password
    goes in: the prefix reaches browsers inside event ids.
    """
    redis = redis_client_options(redis_url)
    identity = [
        database["ENGINE"],
        str(database.get("NAME") or ""),
        str(database.get("HOST") or ""),
        str(database.get("PORT") or ""),
        str(redis.get("unix_socket_path") or redis.get("host") or ""),
        str(redis.get("port") or ""),
        str(redis.get("db") or 0),
    ]
    return f"d{hashlib.sha256(chr(0).join(identity).encode()).hexdigest()[:12]}-"


# Set it (the same on every process of a deployment) when web and workers
# reach the database or Redis under different addresses; empty shares the
# channels with every deployment on the Redis server.
PMD_EVENT_CHANNEL_PREFIX = env.str("PMD_EVENT_CHANNEL_PREFIX", None)
if PMD_EVENT_CHANNEL_PREFIX is None:
    PMD_EVENT_CHANNEL_PREFIX = deployment_channel_prefix(DATABASES["default"], REDIS_URL)

# Production hardening: on whenever DEBUG is off, each switchable for a
# deployment behind a TLS-terminating proxy.
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("SECURE_PROXY_SSL", False) else None
)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
# Opt-in: both commit every subdomain of the site's domain to HTTPS, and
# preload for years, in every browser (hstspreload.org), which no setting
# here can take back. The operator of the whole domain decides.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", False)
SILENCED_SYSTEM_CHECKS += ["security.W005", "security.W021"]  # those two, off by choice
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# --- Operations: health checks (pmd_project/health.py) -----------------------
# A load balancer probes over plain HTTP: health answers are never redirected.
SECURE_REDIRECT_EXEMPT = [r"^health/"]
# Budget of each readiness check that waits on the network (Redis, a worker).
PMD_HEALTH_TIMEOUT_SECONDS = env.int("PMD_HEALTH_TIMEOUT_SECONDS", 2, validate=at_least(1))
# How long every probe of a process shares one run of the readiness checks.
PMD_HEALTH_CACHE_SECONDS = env.int("PMD_HEALTH_CACHE_SECONDS", 3, validate=at_least(0))
# An enqueue waits at most this long for a free broker connection, then
# leaves its request pending for the recovery job (pmd.downloads.queue).
CELERY_BROKER_POOL_ACQUIRE_TIMEOUT = 1
# Beat writes a task's last run to the database right after sending it (not
# every 3 minutes), so /health/ready can tell a running beat from a dead one.
CELERY_BEAT_SYNC_EVERY = 1
# --- end of health checks ----------------------------------------------------
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

# Content-Security-Policy (django-csp): scripts only from this site. htmx and
# its SSE extension are static files here, and no template has inline script.
# Inline styles stay allowed for the admin's templates. With the vault in a
# bucket, its origin is an image source too (pmd_project.security).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- Operations: telemetry (pmd_project/telemetry) ---------------------------
# What an operator watches (docs/operating.md, "Operating"). Every request has
# an id (its X-Request-ID if sane, else a new one), sent back in the response
# and carried into the Celery tasks it queues; log lines name it, as plain
# text or as JSON lines (LOG_FORMAT=json) for a log shipper. The ASGI entry
# point binds the id; the first middleware returns it and times the request.
INSTALLED_APPS = [*INSTALLED_APPS, "pmd_project.telemetry"]
MIDDLEWARE = ["pmd_project.telemetry.requests.RequestTelemetryMiddleware", *MIDDLEWARE]
LOG_FORMAT = env.str(
    "LOG_FORMAT",
    "plain",
    validate=OneOf(("plain", "json"), error="must be plain or json, not {input}"),
)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request": {"()": "pmd_project.telemetry.logs.RequestContextFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"},
        "json": {"()": "pmd_project.telemetry.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request"],
        }
    },
    "root": {"handlers": ["console"], "level": env.log_level("LOG_LEVEL", logging.INFO)},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # Django's and uvicorn's loggers come with handlers of their own
        # (another format, no request id): through the root's instead.
        **{
            name: {"handlers": [], "level": "INFO", "propagate": True}
            for name in ("django", "uvicorn", "uvicorn.access")
        },
    },
}
# Prometheus metrics at /metrics, for `Authorization: Bearer <token>` only;
# without a token, no /metrics at all (404). Each web host serves what every
# process on it counted (PROMETHEUS_MULTIPROC_DIR, read by prometheus_client);
# a worker on a host without a web process serves its own on
# PMD_WORKER_METRICS_LISTEN ("host:port", the same token).
PMD_METRICS_TOKEN = env.str("PMD_METRICS_TOKEN", "")
PMD_WORKER_METRICS_LISTEN = env.str(
    "PMD_WORKER_METRICS_LISTEN",
    "",
    validate=Regexp(
        r"^$|^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):[0-9]{1,5}$",
        error="must be host:port, such as 127.0.0.1:9808, not {input}",
    ),
)
if PMD_WORKER_METRICS_LISTEN and not PMD_METRICS_TOKEN:
    raise ImproperlyConfigured("PMD_WORKER_METRICS_LISTEN needs PMD_METRICS_TOKEN")
# Prometheus scrapes each web host directly, over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [*SECURE_REDIRECT_EXEMPT, r"^metrics$"]
# Errors to Sentry when set (sentry-sdk, started by pmd_project.telemetry's
# app; no personal data sent). Off by default.
SENTRY_DSN = env.str("SENTRY_DSN", "")
# --- end of telemetry ---------------------------------------------------------

# ---------------------------------------------------------------------------
# Guards: log-in limits and live streams.
# ---------------------------------------------------------------------------

# Log-in limits (django-axes). Every log-in goes through authenticate(), so
# the site's page and the admin's share one count per (username, address);
# usernames are counted as Django's form logs in with them (NFKC, case
# folded: pmd_project/login_limits.py). The client address is REMOTE_ADDR:
# uvicorn sets it from X-Forwarded-For only for connections from
# FORWARDED_ALLOW_IPS (docs/operating.md, "Behind a proxy").
# Counted in the database (not the cache): logging in needs the database
# anyway, so a Redis outage does not stop anyone logging in, and staff see
# and clear lock-outs in the admin ("Access attempts").
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Sessions name the backend that logged them in: ModelBackend, as before.
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = env.int("PMD_LOGIN_FAILURE_LIMIT", 10, validate=at_least(1))
AXES_COOLOFF_TIME = timedelta(
    minutes=env.int("PMD_LOGIN_COOLOFF_MINUTES", 15, validate=at_least(1))
)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_CALLABLE = "pmd_project.login_limits.lockout_username"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
# Tries during a lock-out write nothing: a flood neither grows the table nor
# keeps the account locked for ever.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# No row per successful log-in (a table that would only grow).
AXES_DISABLE_ACCESS_LOG = True

# Live streams (pmd/live.py): open streams per user, counted across web processes.
PMD_SSE_MAX_STREAMS_PER_USER = env.int("PMD_SSE_MAX_STREAMS_PER_USER", 10, validate=at_least(1))
