"""Bench environment: its own PostgreSQL database, vault and cache prefix, so
a bench run never touches development or test data."""

from __future__ import annotations

import os
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
BENCH_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/pmd_bench"
BENCH_USER = "bench"
BENCH_POSTS = 100_000


def configure() -> None:
    """Environment for the bench, then Django. Call before importing models."""
    os.environ.setdefault("DATABASE_URL", BENCH_DATABASE_URL)
    os.environ.setdefault("PMD_VAULT_ROOT", str(ROOT / "var" / "bench-vault"))
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/3")
    os.environ.setdefault("CACHE_KEY_PREFIX", "pmd-bench")
    os.environ.setdefault("DEBUG", "0")
    # A key of this run's own: with DEBUG off no committed key is accepted.
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
    os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
    os.environ.setdefault("SESSION_COOKIE_SECURE", "0")
    os.environ.setdefault("CSRF_COOKIE_SECURE", "0")
    os.environ.setdefault("SECURE_HSTS_SECONDS", "0")
    # In-process pages use the source static files (no collectstatic); the
    # uvicorn servers (testing.live.AsgiServer) serve a collected manifest.
    os.environ.setdefault("PMD_STATIC_MANIFEST", "0")
    os.environ["DJANGO_SETTINGS_MODULE"] = "pmd_project.settings"
    sys.path.insert(0, str(ROOT))
    _create_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def _create_database(url: str) -> None:
    parsed = urlparse(url)
    if not parsed.scheme.startswith("postgres"):
        raise SystemExit("The bench runs on PostgreSQL: set DATABASE_URL to a postgres:// URL")
    import psycopg

    name = parsed.path.lstrip("/")
    admin_url = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{name}"')


def bench_owner(username: str = BENCH_USER, posts: int = BENCH_POSTS, password: str = ""):
    """A bench user with `posts` posts, seeded once (with a progress bar)."""
    from posts.demo import ensure_user, seed_posts

    owner, _ = ensure_user(
        username=username,
        password=password or f"{username}-password-1",
        email=f"{username}@example.com",
        reset_password=True,  # the bench logs in with it
    )

    def progress(done: int, total: int) -> None:
        print(f"\r  seeding {done:,}/{total:,} posts", end="" if done < total else "\n", flush=True)

    seed_posts(owner=owner, total=posts, seed=2026, progress=progress)
    vacuum_posts()
    return owner


def vacuum_posts() -> None:
    """What autovacuum does on a server between one burst of writes and the
    next. CI's PostgreSQL runs with it off, so without this a section would
    measure the dead rows and unmerged index entries that earlier sections
    (or its own setup) left (a 10,000-post job ran 10-20% slower on them
    here). Index-only scans also need the visibility map it builds."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE posts_post")


def timed(function: Callable[[], object], runs: int) -> list[float]:
    """Milliseconds of each of `runs` calls, after one warm-up call."""
    function()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def cpu_reference() -> str:
    """A line saying how fast this machine's CPU was during the run: the
    seconds a fixed pure-Python loop takes (median of 5, with its range).
    Absolute targets are in milliseconds on "this machine", and a shared
    virtual machine's speed varies from day to day by up to 2x; ratios to a
    peer measured in the same run do not move with it, absolute times do."""
    loops = []
    for _ in range(5):
        started = time.perf_counter()
        total = 0
        for number in range(10_000_000):
            total += number
        loops.append(time.perf_counter() - started)
    return (
        f"CPU reference: a 10-million-step Python loop took {median(loops):.2f} s "
        f"(range {min(loops):.2f}-{max(loops):.2f} s over 5 tries)."
    )


def median(samples: list[float]) -> float:
    return statistics.median(samples)


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def mark(ok: bool) -> str:
    return "✅" if ok else "❌"


def private_vault_settings(root: Path, **extra):
    """override_settings pointing the vault (and its storage) at `root`."""
    from django.conf import settings
    from django.test.utils import override_settings

    storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(root), "base_url": None},
    }
    return override_settings(
        PMD_VAULT_ROOT=root, STORAGES={**settings.STORAGES, "vault": storage}, **extra
    )
