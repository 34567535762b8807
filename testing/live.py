"""Real processes for tests: the ASGI web server (uvicorn) on the test database."""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from django.conf import settings
from django.db import connection
from django.test import Client

ROOT = Path(__file__).resolve().parent.parent
# Redis pub/sub is shared by every database number: this run's event channels
# carry a prefix of their own.
EVENT_CHANNEL_PREFIX = f"t{uuid.uuid4().hex[:10]}-"
START_SECONDS = 90


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_database_url() -> str:
    """A DATABASE_URL for the database pytest-django created for this run."""
    params = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{params['NAME']}"
    user = params.get("USER") or "postgres"
    password = f":{params['PASSWORD']}" if params.get("PASSWORD") else ""
    host = params.get("HOST") or "127.0.0.1"
    port = params.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{params['NAME']}"


@functools.cache
def collected_static_root() -> str:
    """A STATIC_ROOT collected once per test run, as a deployment collects it:
    the servers tests start run with DEBUG off, so they serve hashed names
    from its manifest."""
    root = tempfile.mkdtemp(prefix="pmd-static-")
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    # As a web process collects them before it serves (pmd_project.static),
    # with its stamp, so that the servers started later find them collected.
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); "
            "from pmd_project.static import collect_once; collect_once()",
        ],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "pmd_project.settings",
            "DEBUG": "0",
            "SECRET_KEY": settings.SECRET_KEY,
            "STATIC_ROOT": root,
            "PMD_STATIC_MANIFEST": "1",
        },
        check=True,
        timeout=120,
    )
    return root


def process_env(**extra: str) -> dict[str, str]:
    """The environment of a server or worker that shares this test run's
    database, Redis and vault."""
    # The test process's own choices (pyproject.toml, [tool.pytest_env]) stay
    # with it: these processes run with production's defaults, e.g. pooled
    # database connections.
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DJANGO_ALLOW_ASYNC_UNSAFE", "DATABASE_POOL"}
    }
    env.update(
        DATABASE_URL=test_database_url(),
        REDIS_URL=settings.REDIS_URL,
        PMD_VAULT_ROOT=str(settings.PMD_VAULT_ROOT),
        DEBUG="0",
        SECRET_KEY=settings.SECRET_KEY,
        SECURE_SSL_REDIRECT="0",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
        SECURE_HSTS_SECONDS="0",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        PYTHONUNBUFFERED="1",
        CACHE_KEY_PREFIX=f"pmd-test-{uuid.uuid4().hex}",
        PMD_EVENT_CHANNEL_PREFIX=EVENT_CHANNEL_PREFIX,
    )
    env.update(extra)
    return env


class ServerProcess:
    """A server a test starts as a process of its own: `command()` run in
    `cwd` with `env`, logging to `log_path`; started once `probe` answers."""

    name = "server"
    cwd: Path = ROOT
    env: dict[str, str] | None = None
    url: str
    log_path: Path
    process: subprocess.Popen | None = None

    def command(self) -> list[str]:
        raise NotImplementedError

    def start_process(self, *, probe: str):
        # Settings make no folders (a read-only image must start), and a fresh
        # clone has no var/ until `make run`: `make bench` alone starts servers too.
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - owned by the process
        self.process = subprocess.Popen(
            self.command(), cwd=self.cwd, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        # A start deadline, not a speed check: on a loaded 2-core machine
        # Django's start and the first static collection take tens of seconds.
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log_path.read_text()[-2000:]}")
            try:
                httpx.get(f"{self.url}{probe}", timeout=1)
                return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not answer within {START_SECONDS} s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class AsgiServer(ServerProcess):
    """uvicorn serving the project, as `make run` does."""

    name = "uvicorn"

    def __init__(self, *, cwd: Path | None = None, **env: str) -> None:
        # Another working directory plays another host: the code is found
        # through PYTHONPATH, nothing is shared through the checkout.
        self.cwd = cwd or ROOT
        if cwd is not None:
            env.setdefault("PYTHONPATH", str(ROOT))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = process_env(
            **{
                "SITE_URL": self.url,
                "CSRF_TRUSTED_ORIGINS": self.url,
                "STATIC_ROOT": collected_static_root(),
                "PMD_STATIC_MANIFEST": "1",
                **env,
            }
        )
        self.log_path = Path(settings.PMD_VAULT_ROOT).parent / f"uvicorn-{self.port}.log"

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "uvicorn",
            "pmd_project.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--timeout-graceful-shutdown",
            "1",
            "--no-access-log",
        ]

    def start(self) -> AsgiServer:
        return self.start_process(probe="/accounts/login/")

    def restart(self) -> None:
        self.stop()
        self.start()


def session_cookies(user) -> dict[str, str]:
    """Cookies of a real logged-in session for `user`, for a browser or HTTP client."""
    client = Client()
    client.force_login(user)
    return {settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value}
