from __future__ import annotations

import os
import re
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from environs import EnvError

ROOT = Path(__file__).resolve().parent.parent
SETTINGS_FILE = ROOT / "pmd_project" / "settings.py"


def _documented_variables() -> list[str]:
    section = (
        (ROOT / "docs" / "operating.md")
        .read_text()
        .split("\n## Settings\n", 1)[1]
        .split("\n## ", 1)[0]
    )
    rows = [line.split("|")[1] for line in section.splitlines() if line.startswith("| `")]
    return [name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row)]


DOCUMENTED_VARIABLES = _documented_variables()
# Read by the Procfile's shell (uvicorn's --host/--port), never by settings.
READ_BY_THE_PROCFILE = {"PORT", "HOST", "FORWARDED_ALLOW_IPS", "WORKER_CONCURRENCY", "WORKER_NAME"}
# Read by a library itself when it is imported, never by settings.
READ_BY_A_LIBRARY = {"PROMETHEUS_MULTIPROC_DIR"}
POSTGRES = "postgres://u:p@db.example.com:5432/pmd"

# variable -> (other variables it needs, value in its file, where it lands, expected)
FILE_CASES = {
    # None: unset. DEBUG is off unless set, and then needs a key of its own.
    "DEBUG": ({"DEBUG": None, "SECRET_KEY": "k" * 50}, "1", lambda s: s["DEBUG"], True),
    "SECRET_KEY": ({}, "from-a-file", lambda s: s["SECRET_KEY"], "from-a-file"),
    "ALLOWED_HOSTS": (
        {},
        "a.example, b.example",
        lambda s: s["ALLOWED_HOSTS"],
        ["a.example", "b.example"],
    ),
    "SITE_URL": ({}, "https://pmd.example/", lambda s: s["SITE_URL"], "https://pmd.example"),
    "CSRF_TRUSTED_ORIGINS": (
        {},
        "https://x.example",
        lambda s: s["CSRF_TRUSTED_ORIGINS"],
        ["https://x.example"],
    ),
    "DATABASE_URL": ({}, POSTGRES, lambda s: s["DATABASES"]["default"]["HOST"], "db.example.com"),
    "DATABASE_CONN_MAX_AGE": ({}, "30", lambda s: s["DATABASES"]["default"]["CONN_MAX_AGE"], 30),
    "DATABASE_POOL": (
        {"DATABASE_URL": POSTGRES},
        "0",
        lambda s: "pool" in s["DATABASES"]["default"].get("OPTIONS", {}),
        False,
    ),
    "DATABASE_POOL_MIN": (
        {"DATABASE_URL": POSTGRES, "DATABASE_POOL": "1"},
        "3",
        lambda s: s["DATABASES"]["default"]["OPTIONS"]["pool"]["min_size"],
        3,
    ),
    "DATABASE_POOL_MAX": (
        {"DATABASE_URL": POSTGRES, "DATABASE_POOL": "1"},
        "7",
        lambda s: s["DATABASES"]["default"]["OPTIONS"]["pool"]["max_size"],
        7,
    ),
    "DATABASE_POOL_TIMEOUT": (
        {"DATABASE_URL": POSTGRES, "DATABASE_POOL": "1"},
        "4",
        lambda s: s["DATABASES"]["default"]["OPTIONS"]["pool"]["timeout"],
        4,
    ),
    "PMD_EVENT_CHANNEL_PREFIX": ({}, "site-b", lambda s: s["PMD_EVENT_CHANNEL_PREFIX"], "site-b"),
    "REDIS_URL": (
        {},
        "redis://cache.example:6380/3",
        lambda s: (s["CACHES"]["default"]["LOCATION"], s["EVENTSTREAM_REDIS"]["port"]),
        ("redis://cache.example:6380/3", 6380),
    ),
    "PMD_VAULT_ROOT": (
        {},
        "/srv/vault",
        lambda s: s["STORAGES"]["vault"]["OPTIONS"]["location"],
        "/srv/vault",
    ),
    "PMD_LIST_LIMIT": ({}, "256", lambda s: s["PMD_LIST_LIMIT"], 256),
    "PMD_ACTION_LIMIT": ({}, "64", lambda s: s["PMD_ACTION_LIMIT"], 64),
    "PMD_JOB_LIMIT": ({}, "5000", lambda s: s["PMD_JOB_LIMIT"], 5000),
    "PMD_UNDO_DAYS": ({}, "3", lambda s: s["PMD_UNDO_DAYS"], 3),
    "PMD_JOB_CHUNK": ({}, "32", lambda s: s["PMD_JOB_CHUNK"], 32),
    "PMD_BDR_LIMIT": ({}, "32", lambda s: s["PMD_BDR_LIMIT"], 32),
    "PMD_BDR_DAILY_LIMIT": ({}, "3", lambda s: s["PMD_BDR_DAILY_LIMIT"], 3),
    "PMD_BDR_TTL_DAYS": ({}, "2", lambda s: s["PMD_BDR_TTL_DAYS"], 2),
    "PMD_RESTORE_DAYS": ({}, "45", lambda s: s["PMD_RESTORE_DAYS"], 45),
    "PMD_HASHTAG_LIMIT": ({}, "8", lambda s: s["PMD_HASHTAG_LIMIT"], 8),
    "PMD_X_ACCEL_REDIRECT_PREFIX": (
        {},
        "/internal/vault/",
        lambda s: s["PMD_X_ACCEL_REDIRECT_PREFIX"],
        "/internal/vault/",
    ),
    "PMD_BDR_PENDING_RECOVERY_SECONDS": (
        {},
        "120",
        lambda s: s["PMD_BDR_PENDING_RECOVERY_SECONDS"],
        120,
    ),
    "PMD_BDR_LEASE_SECONDS": ({}, "90", lambda s: s["PMD_BDR_LEASE_SECONDS"], 90),
    "PMD_VAULT_URL": (
        {},
        "s3://pmd-vault/site-a/",
        lambda s: (
            s["STORAGES"]["vault"]["BACKEND"],
            s["STORAGES"]["vault"]["OPTIONS"].get("bucket_name"),
            s["STORAGES"]["vault"]["OPTIONS"]["location"],
        ),
        ("storages.backends.s3.S3Storage", "pmd-vault", "site-a"),
    ),
    "AWS_S3_ENDPOINT_URL": (
        {"PMD_VAULT_URL": "s3://b"},
        "http://127.0.0.1:9000",
        lambda s: s["STORAGES"]["vault"]["OPTIONS"]["endpoint_url"],
        "http://127.0.0.1:9000",
    ),
    "AWS_S3_REGION_NAME": (
        {"PMD_VAULT_URL": "s3://b"},
        "eu-west-3",
        lambda s: s["STORAGES"]["vault"]["OPTIONS"]["region_name"],
        "eu-west-3",
    ),
    "AWS_ACCESS_KEY_ID": (
        {"PMD_VAULT_URL": "s3://b"},
        "AKIDFROMFILE",
        lambda s: s["STORAGES"]["vault"]["OPTIONS"]["access_key"],
        "AKIDFROMFILE",
    ),
    "AWS_SECRET_ACCESS_KEY": (
        {"PMD_VAULT_URL": "s3://b"},
        "secret-from-file",
        lambda s: s["STORAGES"]["vault"]["OPTIONS"]["secret_key"],
        "secret-from-file",
    ),
    "PMD_VAULT_URL_EXPIRE_SECONDS": (
        {"PMD_VAULT_URL": "s3://b"},
        "120",
        lambda s: (
            s["PMD_VAULT_URL_EXPIRE_SECONDS"],
            s["STORAGES"]["vault"]["OPTIONS"]["querystring_expire"],
        ),
        (120, 120),
    ),
    "AWS_S3_ADDRESSING_STYLE": (
        {"PMD_VAULT_URL": "s3://b"},
        "virtual",
        lambda s: s["STORAGES"]["vault"]["OPTIONS"]["client_config"].s3["addressing_style"],
        "virtual",
    ),
    "PMD_VAULT_PUBLIC_URL": (
        {"PMD_VAULT_URL": "s3://b"},
        "https://files.example.com/",
        lambda s: s["PMD_VAULT_PUBLIC_URL"],
        "https://files.example.com",
    ),
    "PMD_VAULT_CONNECT_TIMEOUT_SECONDS": (
        {"PMD_VAULT_URL": "s3://b"},
        "5",
        lambda s: s["STORAGES"]["vault"]["OPTIONS"]["client_config"].connect_timeout,
        5,
    ),
    "PMD_VAULT_READ_TIMEOUT_SECONDS": (
        {"PMD_VAULT_URL": "s3://b"},
        "20",
        lambda s: s["STORAGES"]["vault"]["OPTIONS"]["client_config"].read_timeout,
        20,
    ),
    "PMD_VAULT_UPLOAD_READ_TIMEOUT_SECONDS": (
        {"PMD_VAULT_URL": "s3://b"},
        "300",
        lambda s: s["PMD_VAULT_UPLOAD_READ_TIMEOUT_SECONDS"],
        300,
    ),
    "PMD_SCRATCH_DIR": ({}, "/srv/scratch", lambda s: str(s["PMD_SCRATCH_DIR"]), "/srv/scratch"),
    "PMD_BDR_GIVE_UP_HOURS": ({}, "48", lambda s: s["PMD_BDR_GIVE_UP_HOURS"], 48),
    "PMD_EMAIL_MAX_RETRIES": ({}, "2", lambda s: s["PMD_EMAIL_MAX_RETRIES"], 2),
    "PMD_EMAIL_RETRY_BASE_SECONDS": ({}, "5", lambda s: s["PMD_EMAIL_RETRY_BASE_SECONDS"], 5),
    "PMD_BUILD_RETRY_BASE_SECONDS": ({}, "1", lambda s: s["PMD_BUILD_RETRY_BASE_SECONDS"], 1),
    "PMD_RETRY_BACKOFF_MAX_SECONDS": ({}, "300", lambda s: s["PMD_RETRY_BACKOFF_MAX_SECONDS"], 300),
    "CELERY_TASK_DEFAULT_QUEUE": ({}, "builds", lambda s: s["CELERY_TASK_DEFAULT_QUEUE"], "builds"),
    "SQIDS_ALPHABET": ({}, "abcdefghijklmnop", lambda s: s["SQIDS_ALPHABET"], "abcdefghijklmnop"),
    "SQIDS_MIN_LENGTH": ({}, "10", lambda s: s["SQIDS_MIN_LENGTH"], 10),
    "EMAIL_HOST": (
        {},
        "smtp.example",
        lambda s: (s["EMAIL_HOST"], s["EMAIL_BACKEND"]),
        ("smtp.example", "django.core.mail.backends.smtp.EmailBackend"),
    ),
    "EMAIL_PORT": ({}, "587", lambda s: s["EMAIL_PORT"], 587),
    "EMAIL_HOST_USER": ({}, "mailer", lambda s: s["EMAIL_HOST_USER"], "mailer"),
    "EMAIL_HOST_PASSWORD": ({}, "p@ss word", lambda s: s["EMAIL_HOST_PASSWORD"], "p@ss word"),
    "EMAIL_USE_TLS": ({}, "true", lambda s: s["EMAIL_USE_TLS"], True),
    "EMAIL_TIMEOUT": ({}, "20", lambda s: s["EMAIL_TIMEOUT"], 20),
    "DEFAULT_FROM_EMAIL": (
        {},
        "Pixels <pmd@example.com>",
        lambda s: s["DEFAULT_FROM_EMAIL"],
        "Pixels <pmd@example.com>",
    ),
    "CELERY_VISIBILITY_TIMEOUT": (
        {},
        "7200",
        lambda s: s["CELERY_BROKER_TRANSPORT_OPTIONS"]["visibility_timeout"],
        7200,
    ),
    "CELERY_TASK_TIME_LIMIT": (
        {},
        "900",
        lambda s: (s["CELERY_TASK_TIME_LIMIT"], s["CELERY_TASK_SOFT_TIME_LIMIT"]),
        (900, 840),
    ),
    "SECURE_SSL_REDIRECT": ({}, "1", lambda s: s["SECURE_SSL_REDIRECT"], True),
    "SESSION_COOKIE_SECURE": ({}, "1", lambda s: s["SESSION_COOKIE_SECURE"], True),
    "CSRF_COOKIE_SECURE": ({}, "1", lambda s: s["CSRF_COOKIE_SECURE"], True),
    "SECURE_HSTS_SECONDS": ({}, "60", lambda s: s["SECURE_HSTS_SECONDS"], 60),
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": (
        {},
        "yes",
        lambda s: s["SECURE_HSTS_INCLUDE_SUBDOMAINS"],
        True,
    ),
    "SECURE_HSTS_PRELOAD": ({}, "on", lambda s: s["SECURE_HSTS_PRELOAD"], True),
    "SECURE_PROXY_SSL": (
        {},
        "1",
        lambda s: s["SECURE_PROXY_SSL_HEADER"],
        ("HTTP_X_FORWARDED_PROTO", "https"),
    ),
    "LOG_LEVEL": ({}, "WARNING", lambda s: s["LOGGING"]["root"]["level"], 30),
    "STATIC_ROOT": ({}, "/srv/static", lambda s: str(s["STATIC_ROOT"]), "/srv/static"),
    "PMD_STATIC_MANIFEST": (
        {},
        "1",
        lambda s: s["STORAGES"]["staticfiles"]["BACKEND"],
        "whitenoise.storage.CompressedManifestStaticFilesStorage",
    ),
    "PMD_HEALTH_TIMEOUT_SECONDS": ({}, "5", lambda s: s["PMD_HEALTH_TIMEOUT_SECONDS"], 5),
    "PMD_HEALTH_CACHE_SECONDS": ({}, "10", lambda s: s["PMD_HEALTH_CACHE_SECONDS"], 10),
    "PMD_LOGIN_FAILURE_LIMIT": ({}, "3", lambda s: s["AXES_FAILURE_LIMIT"], 3),
    "PMD_LOGIN_COOLOFF_MINUTES": ({}, "60", lambda s: s["AXES_COOLOFF_TIME"].total_seconds(), 3600),
    "PMD_SSE_MAX_STREAMS_PER_USER": ({}, "2", lambda s: s["PMD_SSE_MAX_STREAMS_PER_USER"], 2),
    "LOG_FORMAT": (
        {},
        "json",
        lambda s: s["LOGGING"]["handlers"]["console"]["formatter"],
        "json",
    ),
    "PMD_METRICS_TOKEN": ({}, "s3cret-token", lambda s: s["PMD_METRICS_TOKEN"], "s3cret-token"),
    "PMD_WORKER_METRICS_LISTEN": (
        {"PMD_METRICS_TOKEN": "t"},
        "[::1]:9808",
        lambda s: s["PMD_WORKER_METRICS_LISTEN"],
        "[::1]:9808",
    ),
    "SENTRY_DSN": (
        {},
        "https://key@sentry.example/7",
        lambda s: s["SENTRY_DSN"],
        "https://key@sentry.example/7",
    ),
}


def _load_settings(path: Path = SETTINGS_FILE) -> dict:
    """Runs the settings file afresh, as an import would, and returns its names."""
    return runpy.run_path(str(path))


@pytest.fixture
def clean_environment(monkeypatch):
    """No variable the settings read is set, nor its NAME_FILE."""
    for name in list(os.environ):
        if name.removesuffix("_FILE") in {*DOCUMENTED_VARIABLES, *FILE_CASES} or name.startswith(
            ("PMD_", "DATABASE_", "EMAIL_", "CELERY_", "SECURE_", "SQIDS_", "CACHE_")
        ):
            monkeypatch.delenv(name)
    # As `make run` and the test process have it: the development defaults.
    monkeypatch.setenv("DEBUG", "1")
    return monkeypatch


def test_it_knows_where_every_documented_variable_lands():
    assert len(DOCUMENTED_VARIABLES) > 40
    assert sorted(set(DOCUMENTED_VARIABLES) - READ_BY_THE_PROCFILE - READ_BY_A_LIBRARY) == sorted(
        FILE_CASES
    )


@pytest.mark.parametrize("name", sorted(FILE_CASES))
def test_it_reads_every_setting_from_its_file(name, clean_environment, tmp_path):
    needs, file_value, lands_in, expected = FILE_CASES[name]
    for other, value in needs.items():
        if value is None:
            clean_environment.delenv(other)
        else:
            clean_environment.setenv(other, value)
    assert lands_in(_load_settings()) != expected, "the default must differ from the file's value"

    value_file = tmp_path / "value"
    value_file.write_text(f"{file_value}\n")  # as secrets usually end
    clean_environment.setenv(f"{name}_FILE", str(value_file))
    assert lands_in(_load_settings()) == expected


@pytest.mark.parametrize(
    ("name", "value", "complaint"),
    [
        ("PMD_BDR_DAILY_LIMIT", "eight", "Not a valid integer"),
        ("DEBUG", "maybe", "Not a valid boolean"),
        ("EMAIL_USE_TLS", "", "Not a valid boolean"),
        ("PMD_LIST_LIMIT", "0", "must be at least 1, not 0"),
        ("CELERY_VISIBILITY_TIMEOUT", "59", "must be at least 60, not 59"),
        # More would not fit Post.hashtags' 500 characters.
        ("PMD_HASHTAG_LIMIT", "17", "must be from 1 to 16, not 17"),
        ("DATABASE_URL", "mysqlx://nowhere", "Not a valid database URL"),
        ("LOG_LEVEL", "LOUD", "Not a valid log level"),
        ("LOG_FORMAT", "xml", "must be plain or json, not xml"),
        ("PMD_WORKER_METRICS_LISTEN", "9808", "must be host:port"),
        ("AWS_S3_ADDRESSING_STYLE", "sideways", "must be auto, path or virtual, not sideways"),
    ],
)
def test_it_names_the_variable_of_a_malformed_value(name, value, complaint, clean_environment):
    clean_environment.setenv(name, value)
    with pytest.raises(EnvError, match=rf'Environment variable "{name}" invalid: .*{complaint}'):
        _load_settings()


def test_a_worker_serves_no_metrics_without_a_token(clean_environment):
    clean_environment.setenv("PMD_WORKER_METRICS_LISTEN", "0.0.0.0:9808")
    with pytest.raises(
        ImproperlyConfigured, match="PMD_WORKER_METRICS_LISTEN needs PMD_METRICS_TOKEN"
    ):
        _load_settings()


def test_it_names_the_variable_of_a_malformed_value_read_from_a_file(clean_environment, tmp_path):
    (tmp_path / "limit").write_text("eight\n")
    clean_environment.setenv("PMD_BDR_DAILY_LIMIT_FILE", str(tmp_path / "limit"))
    with pytest.raises(EnvError, match='"PMD_BDR_DAILY_LIMIT" invalid: Not a valid integer'):
        _load_settings()
    clean_environment.setenv("PMD_BDR_DAILY_LIMIT_FILE", str(tmp_path / "missing"))
    with pytest.raises(ValueError, match="PMD_BDR_DAILY_LIMIT_FILE must be a readable file path"):
        _load_settings()


def test_it_writes_nothing_to_disk_when_imported(clean_environment, tmp_path):
    # A fresh image: the settings file alone, no var/ folder; the SQLite
    # database and the vault default to folders under it.
    image = tmp_path / "image"
    (image / "pmd_project").mkdir(parents=True)
    shutil.copy(SETTINGS_FILE, image / "pmd_project" / "settings.py")
    before = sorted(image.rglob("*"))

    loaded = _load_settings(image / "pmd_project" / "settings.py")

    assert loaded["DATABASES"]["default"]["NAME"] == str(image / "var" / "db.sqlite3")
    assert loaded["PMD_VAULT_ROOT"] == image / "var" / "vault"
    assert loaded["STATIC_ROOT"] == image / "var" / "static"
    assert sorted(image.rglob("*")) == before


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_it_passes_the_deploy_check_with_production_settings():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env={
            "DEBUG": "0",
            "SECRET_KEY": "x7!kq2@m9#v4$z8%p1^w6&r3*t5(y0)u-i_o+e=a|s~d`f<g>h?j;l:c,b.n",
            "ALLOWED_HOSTS": "pmd.example.com",
            "SITE_URL": "https://pmd.example.com",
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_it_refuses_to_start_without_a_secret_key_when_debug_is_off():
    result = _manage("check", env={"DEBUG": "0"})
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("redis://127.0.0.1:6379/1", {"host": "127.0.0.1", "port": 6379, "db": 1}),
        (
            "rediss://relay:s3cret@cache.example:6380/3",
            {"host": "cache.example", "port": 6380, "db": 3, "username": "relay",
             "password": "s3cret", "ssl": True},
        ),
        ("unix:///run/redis.sock?db=2", {"unix_socket_path": "/run/redis.sock", "db": 2}),
    ],
)  # fmt: skip
def test_the_sse_relay_reads_redis_url_as_redis_py_does(url, expected, clean_environment):
    clean_environment.setenv("REDIS_URL", url)
    options = _load_settings()["EVENTSTREAM_REDIS"]
    assert {key: options[key] for key in expected} == expected
    assert "connection_class" not in options


def test_a_redis_url_that_is_not_one_names_the_variable(clean_environment):
    clean_environment.setenv("REDIS_URL", "http://cache.example:6379")
    with pytest.raises(ImproperlyConfigured, match="REDIS_URL"):
        _load_settings()


@pytest.mark.parametrize(
    "url", ["files.example.com", "ftp://files.example.com", "https://x.example/a"]
)
def test_a_public_vault_url_must_be_an_address_browsers_can_use(url, clean_environment):
    clean_environment.setenv("PMD_VAULT_URL", "s3://b")
    clean_environment.setenv("PMD_VAULT_PUBLIC_URL", url)
    with pytest.raises(ImproperlyConfigured, match="PMD_VAULT_PUBLIC_URL must be the store's"):
        _load_settings()


def test_each_deployment_derives_an_event_channel_prefix_of_its_own(clean_environment):
    def prefix(database: str, redis: str) -> str:
        clean_environment.setenv("DATABASE_URL", database)
        clean_environment.setenv("REDIS_URL", redis)
        return _load_settings()["PMD_EVENT_CHANNEL_PREFIX"]

    site_a = prefix(POSTGRES, "redis://cache.example:6379/0")
    # Its web and worker processes, reading the same variables, agree; the
    # passwords in them make no difference (the prefix reaches browsers).
    assert prefix(POSTGRES, "redis://cache.example:6379/0") == site_a
    assert prefix(POSTGRES.replace("u:p@", "u:other@"), "redis://:pw@cache.example:6379/0") == (
        site_a
    )
    # Another database, or another Redis database on the same server, is another deployment.
    assert prefix(POSTGRES.replace("/pmd", "/pmd_b"), "redis://cache.example:6379/0") != site_a
    assert prefix(POSTGRES, "redis://cache.example:6379/1") != site_a
    assert re.fullmatch(r"d[0-9a-f]{12}-", site_a)
    # Set, even to nothing, it is what it says.
    clean_environment.setenv("PMD_EVENT_CHANNEL_PREFIX", "")
    assert _load_settings()["PMD_EVENT_CHANNEL_PREFIX"] == ""
