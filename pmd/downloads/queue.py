"""Putting download work on the Celery queue, after the transaction commits.

The services enqueue the tasks that in turn call them: the tasks (pmd.tasks)
import this package, so this module names them instead of importing them,
and no import goes round in a circle. Celery finds a task by its name in
its registry (pmd.apps registers them in every process).
"""

from __future__ import annotations

import logging
import uuid
from functools import partial

from django.db import transaction

from pmd.downloads.emails import send_download_email
from pmd.models import BatchDownloadRequest
from pmd_project.celery import app

# The names pmd.tasks gives its tasks (beat's rows and queued messages carry them).
BUILD_TASK = "pmd.tasks.process_bdr_job"
EMAIL_TASK = "pmd.tasks.send_bdr_email"

logger = logging.getLogger(__name__)


def publish(task_name: str, args: list[str]) -> None:
    """Send the task named `task_name` to the broker; raise if that cannot be done in bounded time.

    A request thread must never wait without end for the broker: Celery's
    own publish path takes a producer from one pool and then, with no time
    limit, a connection from another, so anything else holding the
    connections (kombu's control mailbox did) parked every enqueue for good.
    Here the connection comes straight from the connection pool, waiting at
    most CELERY_BROKER_POOL_ACQUIRE_TIMEOUT, and connecting and sending are
    bounded by the transport's socket timeouts and the publish retry policy.
    """
    task = app.signature(task_name, args=args)
    if app.conf.task_always_eager:
        task.apply_async()
        return
    with app.connection_or_acquire() as connection:
        task.apply_async(connection=connection)


def enqueue_build(bdr_id: uuid.UUID | str) -> bool:
    """Put the build of `bdr_id` on the queue; False if the broker is down
    or no connection to it was free in time.

    A request whose enqueue failed stays pending and the recovery job
    enqueues it again later, so the person who asked is never told of a
    broker they cannot do anything about.
    """
    try:
        publish(BUILD_TASK, [str(bdr_id)])
    except Exception:  # noqa: BLE001 - kombu raises many kinds; all mean "not queued"
        logger.warning("could not enqueue bdr %s; recovery will", bdr_id, exc_info=True)
        return False
    return True


def enqueue_build_after_commit(bdr: BatchDownloadRequest) -> None:
    # After commit: a worker must find the row, and no lock is held while
    # talking to the broker (a broker that is down would hold it for seconds).
    transaction.on_commit(partial(enqueue_build, bdr.pk))


def enqueue_email_after_commit(bdr: BatchDownloadRequest, kind: str) -> None:
    def enqueue() -> None:
        try:
            publish(EMAIL_TASK, [str(bdr.pk), kind])
        except Exception:  # noqa: BLE001
            # The worker that got here reached the broker a moment ago; if it
            # is gone now, send in this process rather than lose the email.
            logger.warning("could not enqueue the %s email of bdr %s", kind, bdr.pk, exc_info=True)
            send_download_email(bdr.pk, kind, raise_errors=False)

    transaction.on_commit(enqueue)
