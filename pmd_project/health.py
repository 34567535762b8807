"""Health and readiness for load balancers and monitors (SPEC §12).

`/health/live` answers while the process serves: no database, no Redis, so a
restart is never triggered by a dependency being down. `/health/ready` answers
200 only when every service a request or a download needs answers: the
database, Redis, the vault, a Celery worker on our queue and beat; 503
otherwise. Anonymous callers (probes) get only the overall status; staff also
get each check's result, which names the failure and never a URL or password.

The checks are django-health-check's, except beat's, which it has no check for.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from health_check.base import HealthCheck
from health_check.checks import Database, Storage
from health_check.contrib.celery import Ping
from health_check.contrib.redis import Redis
from health_check.exceptions import ServiceUnavailable
from redis.asyncio import Redis as AsyncRedis

from pmd_project.celery import app as celery_app

# The periodic job whose last run tells that beat is running: it runs every
# two minutes (pmd/migrations/0003_download_schedules).
BEAT_TASK_NAME = "pmd: recover stuck downloads"


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
            # This runs in a worker thread: close what it opens.
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


def readiness_checks() -> dict[str, HealthCheck]:
    """The checks of /health/ready, by the name staff see."""
    timeout = datetime.timedelta(seconds=settings.PMD_HEALTH_TIMEOUT_SECONDS)
    return {
        "database": Database(),
        "redis": Redis(
            client_factory=lambda: AsyncRedis.from_url(
                settings.REDIS_URL,
                socket_connect_timeout=timeout.total_seconds(),
                socket_timeout=timeout.total_seconds(),
            )
        ),
        # Writes, reads and deletes a small file through the storage API, so
        # it checks whatever storage the vault is configured as.
        "vault": Storage(alias="vault"),
        # A worker answers a ping and consumes our queue. The first answer
        # suffices (every worker consumes the default queue), so a healthy
        # answer takes milliseconds; no answer takes the timeout.
        "worker": Ping(app=celery_app, timeout=timeout, limit=1),
        "beat": BeatLastRun(),
    }


@contextlib.contextmanager
def _own_threads(count: int) -> Iterator[ThreadPoolExecutor]:
    """Threads for the blocking checks of one request. A check stuck in a
    client library (an unreachable host) is abandoned at its timeout and
    keeps only its own thread, never the event loop's shared executor."""
    executor = ThreadPoolExecutor(max_workers=count, thread_name_prefix="health")
    try:
        yield executor
    finally:
        executor.shutdown(wait=False, cancel_futures=True)


@require_safe
@never_cache
async def live(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@require_safe
@never_cache
async def ready(request: HttpRequest) -> JsonResponse:
    checks = readiness_checks()
    with _own_threads(len(checks)) as executor:
        results = await asyncio.gather(*(check.get_result(executor) for check in checks.values()))
    healthy = all(result.error is None for result in results)
    body: dict[str, object] = {"status": "ok" if healthy else "unavailable"}
    user = await request.auser()
    if user.is_active and user.is_staff:
        body["checks"] = {
            name: "OK" if result.error is None else str(result.error)
            for name, result in zip(checks, results, strict=True)
        }
    return JsonResponse(body, status=200 if healthy else 503)
