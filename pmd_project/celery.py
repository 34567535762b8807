"""The Celery app: Redis broker, settings read from Django's CELERY_* names."""

from __future__ import annotations

import logging
import logging.config
import os

from celery import Celery
from celery.signals import (
    before_task_publish,
    setup_logging,
    task_postrun,
    task_prerun,
    worker_ready,
)

from pmd_project.heartbeat import Heartbeat
from pmd_project.telemetry import logs

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pmd_project.settings")

app = Celery("pmd_project")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Telemetry (docs/operating.md, "Operating"): the request id travels with
# each task in a message header, and workers log as the web does.
REQUEST_ID_HEADER = "pmd_request_id"


@before_task_publish.connect
def carry_request_id(headers: dict | None = None, **kwargs) -> None:
    """A task queued while serving a request (or running a task that serves
    one: an email queued by a build) carries that request's id."""
    request_id = logs.current_request_id()
    if request_id and headers is not None:
        headers[REQUEST_ID_HEADER] = request_id


@task_prerun.connect
def bind_request_id(task_id: str, task, **kwargs) -> None:
    """The task's log lines carry the id it was queued with; one queued by
    nobody's request (beat, the recovery job) carries its own task id."""
    logs.bind_task(task_id, task.name, task.request.get(REQUEST_ID_HEADER) or task_id)


@task_postrun.connect
def unbind_request_id(**kwargs) -> None:
    logs.unbind_task()


@setup_logging.connect
def log_as_the_web_does(loglevel=None, **kwargs) -> None:
    """Django's LOGGING (LOG_FORMAT, request ids) rather than Celery's own
    format; the more verbose of LOG_LEVEL and the command's --loglevel."""
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
    root = logging.getLogger()
    if isinstance(loglevel, int) and loglevel < root.level:
        root.setLevel(loglevel)


@worker_ready.connect
def serve_worker_metrics(**kwargs) -> None:
    from django.conf import settings

    if settings.PMD_WORKER_METRICS_LISTEN:
        from pmd_project.telemetry import exporter

        exporter.start(settings.PMD_WORKER_METRICS_LISTEN)


# Workers say which queues they consume, for /health/ready (pmd_project.heartbeat).
app.steps["consumer"].add(Heartbeat)
