"""Health and readiness for load balancers and monitors (docs/operating.md, "Health").

`/health/live` answers while the process serves: no database, no Redis, so a
restart is never triggered by a dependency being down. `/health/ready` answers
200 only when every service a request or a download needs answers: the
database, Redis, the vault, a Celery worker on our queue and beat; 503
otherwise. Anonymous callers (probes) get only the overall status; staff also
get each check's result, which names the failure and never a URL or password.

A probe never costs more than reading a shared answer. The checks run at most
once at a time per process, on a few threads of their own that live as long
as the process, and their report is shared by every caller, anonymous or
staff, for PMD_HEALTH_CACHE_SECONDS. A check still running from an earlier
round (a host that does not answer) is not started again beside itself: the
round reports it as not answering and waits for it no longer than
PMD_HEALTH_TIMEOUT_SECONDS. So a burst of probes, however large, starts no
thread and opens no connection of its own, and nothing here touches the
broker's connection pool that enqueueing needs: a worker is known by the
heartbeat it writes to Redis (pmd_project.heartbeat), never pinged.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import logging
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor, wait

import redis
from django.conf import settings
from django.core.signals import setting_changed
from django.db import DatabaseError, connection
from django.dispatch import receiver
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from health_check.base import HealthCheck
from health_check.checks import Database
from health_check.exceptions import HealthCheckException, ServiceUnavailable

from pmd_project import heartbeat
from pmd_project.celery import app as celery_app
from pmd_project.lib.vault import VaultUnavailable, vault

logger = logging.getLogger(__name__)

# The periodic job whose last run tells that beat is running: it runs every
# two minutes (pmd/migrations/0003_download_schedules).
BEAT_TASK_NAME = "pmd: recover stuck downloads"
OK = "OK"


@dataclasses.dataclass
class BeatLastRun(HealthCheck):
    """Beat dispatched `task_name` recently.

    django-celery-beat writes a task's `last_run_at` when it sends it (with
    CELERY_BEAT_SYNC_EVERY = 1, right after; by default only every 3 minutes),
    so a beat that died, hangs, or cannot reach the broker leaves it ageing.
    A run may be late by one interval: stale means older than two intervals
    and a minute. A task never run yet counts from when it was created or last
    changed, so a fresh deployment is ready before the first run is due.
    """

    task_name: str = BEAT_TASK_NAME

    def run(self) -> None:
        from django_celery_beat.models import PeriodicTask

        try:
            # This runs on a thread of its own: close what it opens.
            with connection.temporary_connection():
                task = (
                    PeriodicTask.objects.select_related("interval")
                    .filter(name=self.task_name)
                    .first()
                )
        except DatabaseError as error:
            raise ServiceUnavailable("the database did not answer") from error
        if task is None:
            raise ServiceUnavailable(f"the periodic task {self.task_name!r} does not exist")
        if not task.enabled:
            raise ServiceUnavailable(f"the periodic task {self.task_name!r} is disabled")
        allowed = (
            2 * task.interval.schedule.run_every + datetime.timedelta(minutes=1)
            if task.interval is not None
            else datetime.timedelta(hours=25)  # a daily crontab, at worst
        )
        last = task.last_run_at or task.date_changed
        age = timezone.now() - last
        if age > allowed:
            seen = "last sent it" if task.last_run_at else "has not sent it since it was set up"
            raise ServiceUnavailable(
                f"beat {seen} {int(age.total_seconds())} s ago "
                f"(allowed: {int(allowed.total_seconds())} s)"
            )


def _timeout() -> float:
    return float(settings.PMD_HEALTH_TIMEOUT_SECONDS)


@dataclasses.dataclass
class RedisPing(HealthCheck):
    """Redis (the cache, the live-status relay) answers a PING."""

    def run(self) -> None:
        try:
            heartbeat.client(settings.REDIS_URL, _timeout()).ping()
        except redis.RedisError as error:
            raise ServiceUnavailable(f"Redis did not answer ({type(error).__name__})") from error


@dataclasses.dataclass
class WorkerHeartbeat(HealthCheck):
    """A worker consuming the queue this process sends builds to has
    written its heartbeat recently (pmd_project.heartbeat)."""

    def run(self) -> None:
        queue = celery_app.conf.task_default_queue
        try:
            age = heartbeat.seconds_since_last_beat(
                heartbeat.client(celery_app.conf.broker_url, _timeout()), queue
            )
        except redis.RedisError as error:
            raise ServiceUnavailable(
                f"the broker did not answer ({type(error).__name__})"
            ) from error
        if age is None:
            raise ServiceUnavailable(f"no worker consumes the queue {queue!r}")
        if age > heartbeat.FRESH_SECONDS:
            raise ServiceUnavailable(
                f"no worker of the queue {queue!r} has been heard of for {int(age)} s"
            )


@dataclasses.dataclass
class VaultRoundTrip(HealthCheck):
    """The vault takes a small file, gives it back and deletes it: a local
    folder through the storage API, a bucket in three calls of the process's
    one S3 client (pmd_project.lib.vault)."""

    def run(self) -> None:
        name = f"health/{uuid.uuid4().hex}.txt"
        content = f"pmd readiness {time.time()}".encode()
        try:
            vault().round_trip(name, content)
        except VaultUnavailable as problem:
            raise ServiceUnavailable(str(problem)) from None


def readiness_checks() -> dict[str, HealthCheck]:
    """The checks of /health/ready, by the name staff see."""
    return {
        "database": Database(),
        "redis": RedisPing(),
        "vault": VaultRoundTrip(),
        "worker": WorkerHeartbeat(),
        "beat": BeatLastRun(),
    }


@dataclasses.dataclass(frozen=True)
class Report:
    """What each check said: OK, or what failed."""

    checks: dict[str, str]

    @property
    def healthy(self) -> bool:
        return all(result == OK for result in self.checks.values())


class Readiness:
    """The checks, run at most once at a time, their report shared for
    PMD_HEALTH_CACHE_SECONDS. `report()` gives a future that every caller of
    the same round shares; it always completes within the timeout and a
    second, since a round waits for its checks no longer than that."""

    def __init__(self, check_threads: int = 5) -> None:
        self._lock = threading.Lock()
        self._generation = 0
        self._report: Report | None = None
        self._taken_at = 0.0
        self._round: Future[Report] | None = None
        self._in_flight: dict[str, Future[None]] = {}
        # Created on the first probe, kept for the life of the process: a
        # round thread, and a thread per check (a check runs at most once at
        # a time, so they never queue behind one another).
        self._rounds: ThreadPoolExecutor | None = None
        self._checks: ThreadPoolExecutor | None = None
        self._check_threads = check_threads

    def report(self) -> Future[Report]:
        with self._lock:
            fresh = time.monotonic() - self._taken_at < settings.PMD_HEALTH_CACHE_SECONDS
            if self._report is not None and fresh:
                done: Future[Report] = Future()
                done.set_result(self._report)
                return done
            if self._round is None:
                if self._rounds is None:
                    self._rounds = ThreadPoolExecutor(1, thread_name_prefix="health")
                    self._checks = ThreadPoolExecutor(
                        self._check_threads, thread_name_prefix="health-check"
                    )
                self._round = self._rounds.submit(self._run_round, self._generation)
            return self._round

    def forget(self) -> None:
        """Drop the shared report: the next probe runs the checks afresh."""
        with self._lock:
            self._generation += 1
            self._report = None
            self._round = None
            self._in_flight = {}

    def _run_round(self, generation: int) -> Report:
        timeout = _timeout()
        futures: dict[str, Future[None]] = {}
        try:
            checks = readiness_checks()
            with self._lock:
                for name, check in checks.items():
                    running = self._in_flight.get(name)
                    if running is None or running.done():
                        assert self._checks is not None
                        running = self._in_flight[name] = self._checks.submit(check.run)
                    futures[name] = running
            # A second over the checks' own client timeouts, so they report first.
            wait(futures.values(), timeout=timeout + 1)
            report = Report(
                {name: _outcome(name, future, timeout) for name, future in futures.items()}
            )
        except Exception:  # a check list that cannot even be built is not ready
            logger.exception("the readiness checks could not run")
            report = Report(dict.fromkeys(futures or ("checks",), "Unavailable: could not run"))
        with self._lock:
            if generation == self._generation:
                self._report, self._taken_at, self._round = report, time.monotonic(), None
        return report


def _outcome(name: str, future: Future[None], timeout: float) -> str:
    if not future.done():
        logger.warning("readiness check %s did not answer within %g s", name, timeout + 1)
        return str(ServiceUnavailable(f"did not answer within {timeout + 1:g} s"))
    error = future.exception()
    if error is None:
        return OK
    if isinstance(error, HealthCheckException):
        logger.warning("readiness check %s failed: %s", name, error)
        return str(error)
    logger.error("readiness check %s raised", name, exc_info=error)
    return str(ServiceUnavailable("unexpected error"))


readiness = Readiness()


@receiver(setting_changed)
def _settings_changed(**kwargs) -> None:
    # Tests change settings between probes; a report of the old ones is stale.
    readiness.forget()


@require_safe
@never_cache
async def live(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@require_safe
@never_cache
async def ready(request: HttpRequest) -> JsonResponse:
    report = await asyncio.wrap_future(readiness.report())
    body: dict[str, object] = {"status": "ok" if report.healthy else "unavailable"}
    # A probe without a session cookie is anonymous: no session lookup.
    if settings.SESSION_COOKIE_NAME in request.COOKIES:
        user = await request.auser()
        if user.is_active and user.is_staff:
            body["checks"] = report.checks
    return JsonResponse(body, status=200 if report.healthy else 503)
