"""Real Celery workers and a real SMTP server for tests.

Loaded as a pytest plugin (tests/conftest.py). Every task this test run
enqueues goes to a queue of its own (CELERY_TASK_DEFAULT_QUEUE), so a test
run never steals the tasks of another run or of `make run` on the same Redis,
and what no worker consumed is deleted at the end.

    def test_it_builds(celery_worker, transactional_db): ...

The worker is a separate process (`celery -A pmd_project worker`) started
with testing.live.process_env(): it shares this run's database, Redis and
vault, so tests that use it need `transactional_db` (their rows must be
committed for the worker to see them).
"""

from __future__ import annotations

import email
import email.policy
import signal
import subprocess
import sys
import threading
import time
import uuid
from email.message import EmailMessage
from pathlib import Path

import pytest
import redis
from django.conf import settings

from testing.live import ROOT, free_port, process_env
from testing.services import require_redis

TEST_QUEUE = f"pmd-test-{uuid.uuid4().hex[:12]}"


class CeleryWorker:
    """`celery -A pmd_project worker` on `queue`, as the Procfile runs it."""

    def __init__(
        self,
        *,
        queue: str,
        log_dir: Path,
        pool: str = "solo",
        cwd: Path | None = None,
        python: str = sys.executable,
        **env: str,
    ) -> None:
        # Another working directory plays another host (testing/live.AsgiServer).
        self.cwd = cwd or ROOT
        if cwd is not None:
            env.setdefault("PYTHONPATH", str(ROOT))
        self.queue = queue
        self.node = f"{queue}-{uuid.uuid4().hex[:6]}@localhost"
        self.pool = pool
        # Another interpreter runs the worker from another environment
        # (bench.objectstore: the deployment's, from deploy/requirements.txt).
        self.python = python
        self.env = process_env(CELERY_TASK_DEFAULT_QUEUE=queue, **env)
        self.log_path = log_dir / f"celery-{self.node.split('@')[0]}.log"
        self.process: subprocess.Popen | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, timeout: float = 60) -> CeleryWorker:
        log = open(self.log_path, "ab")  # noqa: SIM115 - owned by the process
        # A restart appends to the same log, whose earlier run already says
        # " ready.": only what this start writes counts.
        started_at = log.tell()
        self.process = subprocess.Popen(
            [
                self.python,
                "-m",
                "celery",
                "-A",
                "pmd_project",
                "worker",
                "--pool",
                self.pool,
                "--concurrency",
                "1",
                "-Q",
                self.queue,
                "-n",
                self.node,
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=self.cwd,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"celery worker exited: {self.log_tail()}")
            if " ready." in self.log_since(started_at):
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"celery worker not ready within {timeout} s: {self.log_tail()}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            # SIGTERM is Celery's warm shutdown: the current task finishes.
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log_since(self, offset: int) -> str:
        with open(self.log_path, "rb") as log:
            log.seek(offset)
            return log.read().decode(errors="replace")

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except FileNotFoundError:
            return ""


class SmtpServer:
    """aiosmtpd on loopback; keeps every message it receives."""

    def __init__(self, port: int | None = None) -> None:
        from aiosmtpd.controller import Controller

        self.port = port or free_port()
        self.received: list[EmailMessage] = []
        self._arrived = threading.Condition()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's name
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._arrived:
            self.received.append(message)
            self._arrived.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, predicate, timeout: float = 30) -> EmailMessage:
        """The first received message for which predicate(message) is true."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                for message in self.received:
                    if predicate(message):
                        return message
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no such email within {timeout} s: {self.received}")
                self._arrived.wait(left)


def _delete_queue(queue: str) -> None:
    """Delete the queue, its bindings, and messages a killed worker left
    unacknowledged (kombu would put them back into the queue an hour later)."""
    try:
        client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_connect_timeout=1)
        keys = list(client.scan_iter(match=f"*{queue}*"))
        if keys:
            client.delete(*keys)
        for tag, payload in client.hscan_iter("unacked"):
            if queue.encode() in payload:
                client.hdel("unacked", tag)
                client.zrem("unacked_index", tag)
    except redis.RedisError:
        pass


def queued_messages(queue: str = TEST_QUEUE) -> int:
    """Messages waiting in `queue` (all priorities)."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_connect_timeout=1)
    return sum(client.llen(key) for key in client.scan_iter(match=f"{queue}*"))


@pytest.fixture(scope="session", autouse=True)
def celery_test_queue():
    """Every task this run enqueues goes to TEST_QUEUE (deleted at the end)."""
    from pmd_project.celery import app

    previous = app.conf.task_default_queue
    app.conf.task_default_queue = TEST_QUEUE
    yield TEST_QUEUE
    app.conf.task_default_queue = previous
    _delete_queue(TEST_QUEUE)


@pytest.fixture
def empty_test_queue(celery_test_queue):
    """TEST_QUEUE emptied before the test (use without a worker running)."""
    _delete_queue(celery_test_queue)
    yield celery_test_queue
    _delete_queue(celery_test_queue)


@pytest.fixture
def eager_tasks():
    """Tasks run in this process when enqueued (Celery's eager mode): for
    tests of what a task does rather than of the queue."""
    from pmd_project.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture(scope="session")
def smtp_server():
    server = SmtpServer()
    server.controller.start()
    yield server
    server.controller.stop()


@pytest.fixture(scope="session")
def bdr_web_server(asgi_server):
    """The test run's uvicorn (tests/conftest.py), which enqueues to this
    run's queue; the worker's emails link here."""
    return asgi_server


# Module scope: while a worker runs it empties TEST_QUEUE, which other tests inspect.
@pytest.fixture(scope="module")
def celery_worker(
    django_db_setup,
    django_db_blocker,
    session_vault,
    celery_test_queue,
    smtp_server,
    bdr_web_server,
):
    """A real worker on this run's queue, database, vault; email to smtp_server."""
    require_redis()
    with django_db_blocker.unblock():
        worker = CeleryWorker(
            queue=celery_test_queue,
            log_dir=Path(session_vault).parent,
            PMD_VAULT_ROOT=str(session_vault),
            SITE_URL=bdr_web_server.url,
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=str(smtp_server.port),
            DEFAULT_FROM_EMAIL="PixelPosts <noreply@pixelposts.test>",
        ).start()
    yield worker
    worker.stop()
