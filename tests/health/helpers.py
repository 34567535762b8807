"""Shared by the health tests: beat's record in django-celery-beat's tables."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from django.db import connections
from django.test import Client
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from pmd_project.health import BEAT_TASK_NAME


def beat_task(*, last_run_at: datetime | None) -> PeriodicTask:
    """The job whose last run /health/ready reads, as the migration creates it
    (a transactional test before this one may have emptied the tables)."""
    interval, _ = IntervalSchedule.objects.get_or_create(every=2, period=IntervalSchedule.MINUTES)
    task, _ = PeriodicTask.objects.get_or_create(
        name=BEAT_TASK_NAME,
        defaults={"task": "pmd.tasks.recover_stuck_bdrs", "interval": interval},
    )
    PeriodicTask.objects.filter(pk=task.pk).update(last_run_at=last_run_at, enabled=True)
    task.refresh_from_db()
    return task


def beat_ran_just_now() -> PeriodicTask:
    return beat_task(last_run_at=timezone.now())


def get(client: Client, path: str, **kwargs):
    """client.get(path) on a thread of its own. The health views are async,
    and browser tests earlier in the session leave Playwright's event loop on
    the main thread, where Django's test client cannot run an async view."""

    def request():
        try:
            return client.get(path, **kwargs)
        finally:
            # The session lookup ran on this thread: its connection ends with it.
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(request).result()
