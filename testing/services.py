"""Real services the tests talk to, and what happens when one is missing.

Without CI=true a test whose service is missing skips, naming the service;
with CI=true it fails, so CI can never pass by skipping.
"""

from __future__ import annotations

import os
import shutil

import pytest
import redis
from django.conf import settings
from django.db import connection

CHROMIUM = os.environ.get("PMD_CHROMIUM", "/usr/bin/chromium")
# How tests and benchmarks launch it: headless in a container, nothing fetched
# in the background that could slow a measured page.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
NGINX = os.environ.get("PMD_NGINX", "/usr/sbin/nginx")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def missing(service: str, reason: str) -> None:
    message = f"{service} is not available: {reason}"
    if in_ci():
        pytest.fail(f"{message} (required under CI=true)", pytrace=False)
    pytest.skip(message)


def require_redis() -> str:
    url = settings.REDIS_URL
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping()
    except redis.RedisError as error:
        missing("Redis", f"{url}: {error}")
    return url


def require_chromium() -> str:
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        missing("Chromium", f"{CHROMIUM} not found (apt-get install chromium)")
    return CHROMIUM


def require_nginx() -> str:
    found = NGINX if os.access(NGINX, os.X_OK) else shutil.which("nginx")
    if not found:
        missing("nginx", f"{NGINX} not found (apt-get install nginx)")
    return found


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"
