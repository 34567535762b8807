"""Jobs that would otherwise wait for ever: one whose enqueue was lost (the
broker was down when it was asked for) and one whose worker died (its
heartbeat older than PMD_BDR_LEASE_SECONDS, the downloads' lease). Run every
30 seconds by beat ("pmd: recover stuck jobs"); a duplicate message is
harmless, since the claim lets one run work the job."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models.functions import Coalesce
from django.utils import timezone

from pmd.jobs.queue import enqueue_job
from pmd.models import Job


@dataclass
class JobRecovery:
    requeued: int = 0
    taken_back: int = 0


def jobs_recover(*, now: datetime | None = None) -> JobRecovery:
    now = now or timezone.now()
    result = JobRecovery()
    queued_before = now - timedelta(seconds=settings.PMD_BDR_PENDING_RECOVERY_SECONDS)
    for job_id in list(
        Job.objects.filter(status=Job.Status.QUEUED, created_at__lt=queued_before).values_list(
            "pk", flat=True
        )
    ):
        result.requeued += enqueue_job(job_id)
    quiet_since = now - timedelta(seconds=settings.PMD_BDR_LEASE_SECONDS)
    for job_id in list(
        Job.objects.filter(status=Job.Status.RUNNING)
        .alias(last_beat=Coalesce("heartbeat_at", "started_at"))
        .filter(last_beat__lt=quiet_since)
        .values_list("pk", flat=True)
    ):
        result.taken_back += enqueue_job(job_id)
    return result
