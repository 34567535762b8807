"""Putting a job's task on the Celery queue, after the transaction commits.

The task (pmd.tasks) imports this package, so it is named, not imported,
as pmd.downloads.queue does; a lost enqueue is found by pmd.jobs.recover.
"""

from __future__ import annotations

import logging
import uuid
from functools import partial

from django.db import transaction

from pmd.downloads.queue import publish

RUN_TASK = "pmd.tasks.run_job"

logger = logging.getLogger(__name__)


def enqueue_job(job_id: uuid.UUID | str) -> bool:
    """False when the broker could not take it in bounded time (recovery will)."""
    try:
        publish(RUN_TASK, [str(job_id)])
    except Exception:  # noqa: BLE001 - kombu raises many kinds; all mean "not queued"
        logger.warning("could not enqueue job %s; recovery will", job_id, exc_info=True)
        return False
    return True


def enqueue_job_after_commit(job_id: uuid.UUID | str) -> None:
    transaction.on_commit(partial(enqueue_job, job_id))
