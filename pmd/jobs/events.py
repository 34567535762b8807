"""Announcing a job's change to its owner's open pages, once it is committed."""

from __future__ import annotations

from pmd.jobs.serialize import job_item
from pmd.live import publish
from pmd.models import Job

JOB_UPDATE = "job_update"


def announce_after_commit(job: Job) -> None:
    """A `job_update` event with the job item as it is now, sent when the
    current transaction commits (nothing if it rolls back; never raises)."""
    publish(job.user_id, JOB_UPDATE, job_item(job))
