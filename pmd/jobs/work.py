"""What the worker does with a job: claim it under a lease, work through its
chunks one transaction each, and finish it.

Each chunk's transaction locks the job's row, checks that this run still
holds the lease and that the chunk is the next one, applies the action
(pmd.actions, not strict: posts that cannot take it are skipped and
counted by reason), writes the chunk's activity entry and advances the job;
then the `job_update` event goes out. A run that lost its lease (its worker
was thought dead and another took over) stops before writing anything, and
the entry's unique (job, chunk) key would refuse a second copy anyway.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import DatabaseError, transaction
from django.utils import timezone

from pmd.actions.base import BulkAction
from pmd.actions.registry import ACTIONS
from pmd.actions.run import record_action, with_hashtag
from pmd.actions.undo import entry_undo
from pmd.errors import Invalid
from pmd.jobs.events import announce_after_commit
from pmd.models import ActivityEntry, Job

logger = logging.getLogger(__name__)

Status = Job.Status
# Tries of one chunk before its posts are counted as failed, and the waits
# between them: a deadlock or a dropped connection passes, a broken row does not.
CHUNK_ATTEMPTS = 3
CHUNK_RETRY_SECONDS = (0.2, 1.0)
# What a chunk writes to the job's row (never its posts, fixed at creation).
PROGRESS_FIELDS = [
    "status", "position", "done", "changed", "skipped", "failed", "skip_reasons",
    "activity", "error_message", "heartbeat_at", "finished_at",
]  # fmt: skip


class LeaseLost(Exception):
    """Another run holds the job now (or it was finished meanwhile)."""


def chunk_size(job: Job | None = None) -> int:
    """Posts per chunk: the size the job was asked with (a worker configured
    otherwise that takes it over keeps to it), else the setting's."""
    if job is not None and job.params.get("chunk"):
        return job.params["chunk"]
    return max(1, min(settings.PMD_JOB_CHUNK, settings.PMD_ACTION_LIMIT))


def job_action(job: Job) -> BulkAction:
    """The job's action bound to what it was asked with: its hashtag, or the
    licence it sets (checked when the job was created)."""
    action = with_hashtag(ACTIONS[job.action], job.hashtag or None)
    if action.takes_license:
        action = action.bind_license(job.params.get("license"))  # type: ignore[attr-defined]
    return action


def chunk_count(job: Job, post_ids: list[int]) -> int:
    if job.undo_of_id:
        # Undo: one chunk per chunk of the job undone; numbered as those.
        last = (
            ActivityEntry.objects.filter(job_id=job.undo_of_id, chunk__isnull=False)
            .order_by("-chunk")
            .values_list("chunk", flat=True)
            .first()
        )
        return 0 if last is None else last + 1
    return -(-len(post_ids) // chunk_size(job))


def lease_expired(job: Job, *, now: datetime) -> bool:
    last = job.heartbeat_at or job.started_at
    return last is None or last < now - timedelta(seconds=settings.PMD_BDR_LEASE_SECONDS)


def job_claim(job_id: uuid.UUID | str) -> uuid.UUID | None:
    """Take the job for this run: its new lease, or None when there is nothing
    to do (finished, gone, or held by a run that is alive)."""
    job = Job.objects.filter(pk=job_id).first()
    if job is None or job.finished:
        return None
    now = timezone.now()
    token = uuid.uuid4()
    if job.status == Status.QUEUED:
        taken = Job.objects.filter(pk=job.pk, status=Status.QUEUED).update(
            status=Status.RUNNING, lease=token, heartbeat_at=now, started_at=now
        )
    elif lease_expired(job, now=now):
        # Compare-and-swap on the lease: exactly one run takes it over.
        taken = Job.objects.filter(pk=job.pk, status=Status.RUNNING, lease=job.lease).update(
            lease=token, heartbeat_at=now
        )
        if taken:
            logger.warning("job %s: taking over from a run that went quiet", job.pk)
    else:
        return None
    return token if taken == 1 else None


def job_run(job_id: uuid.UUID | str) -> str:
    """Work job `job_id` to its end; what became of it ("done", "failed",
    "cancelled", "skipped": nothing to do, "superseded": another run took it)."""
    token = job_claim(job_id)
    if token is None:
        return "skipped"
    # Fixed at creation, so read once: each chunk's transaction then reads
    # and writes the job's counters only, whatever the number of posts.
    post_ids, owner_id = Job.objects.values_list("post_ids", "user_id").get(pk=job_id)
    owner = get_user_model().objects.get(pk=owner_id)
    with transaction.atomic():
        announce_after_commit(_locked(job_id, token))
    try:
        while True:
            outcome = _next_chunk_tried(job_id, token, post_ids, owner)
            if outcome is not None:
                return outcome
    except LeaseLost:
        logger.warning("job %s: another run holds it now; this one stops", job_id)
        return "superseded"


def _next_chunk_tried(
    job_id: uuid.UUID | str, token: uuid.UUID, post_ids: list[int], owner=None
) -> str | None:
    """One chunk, tried up to CHUNK_ATTEMPTS times; after that its posts are
    counted as failed and the job moves on. None while chunks remain."""
    position = None
    for attempt in range(CHUNK_ATTEMPTS):
        try:
            return _next_chunk(job_id, token, post_ids, owner)
        except DatabaseError as error:
            position = Job.objects.filter(pk=job_id).values_list("position", flat=True).first()
            logger.warning(
                "job %s: chunk %s failed (attempt %s): %s", job_id, position, attempt + 1, error
            )
            if attempt < len(CHUNK_RETRY_SECONDS):
                time.sleep(CHUNK_RETRY_SECONDS[attempt])
    _fail_chunk(job_id, token, position, post_ids)
    return None


def _locked(job_id: uuid.UUID | str, token: uuid.UUID) -> Job:
    job = Job.objects.select_for_update().defer("post_ids").get(pk=job_id)
    if job.lease != token or job.status != Status.RUNNING:
        raise LeaseLost(job_id)
    return job


def _save(job: Job) -> None:
    job.heartbeat_at = timezone.now()
    job.save(update_fields=PROGRESS_FIELDS)
    announce_after_commit(job)


def _next_chunk(
    job_id: uuid.UUID | str, token: uuid.UUID, post_ids: list[int], owner=None
) -> str | None:
    with transaction.atomic():
        job = _locked(job_id, token)
        if job.cancel_requested:
            return _finish(job, Status.CANCELLED)
        if job.position >= chunk_count(job, post_ids):
            return _finish(job, Status.FAILED if job.failed else Status.DONE)
        # The run's owner, read once; a chunk called on its own reads it.
        owner = owner or get_user_model().objects.get(pk=job.user_id)
        if job.undo_of_id:
            _undo_chunk(job, owner, post_ids)
        else:
            _action_chunk(job, owner, post_ids)
        _save(job)
    return None


def _action_chunk(job: Job, owner, post_ids: list[int]) -> None:
    size = chunk_size(job)
    ids = post_ids[job.position * size : (job.position + 1) * size]
    action = job_action(job)
    counts = action.execute(owner, ids, strict=False)
    entry = record_action(owner, action, ids, counts, job=job, chunk=job.position)
    reasons = Counter({key: len(refused) for key, refused in counts.refused.items()})
    if counts.full_ids:
        reasons["no_room"] += len(counts.full_ids)
    skipped = sum(reasons.values())
    _count(job, entry, done=len(ids) - skipped, changed=counts.changed, reasons=reasons)
    job.position += 1


def _undo_chunk(job: Job, owner, post_ids: list[int]) -> None:
    assert job.undo_of_id is not None  # only an undo job's chunks come here
    entry = (
        ActivityEntry.objects.select_for_update()
        .filter(job_id=job.undo_of_id, chunk__gte=job.position)
        .order_by("chunk")
        .first()
    )
    if entry is None:
        job.position = chunk_count(job, post_ids)
        return
    requested = len(entry.changed_ids)
    if not requested:
        # The chunk changed nothing (its posts were already so): nothing to take back.
        job.position = (entry.chunk or 0) + 1  # every entry of a job has its chunk
        return
    try:
        _, counts, undo = entry_undo(owner, entry, job=job, chunk=entry.chunk)
    except Invalid:
        # Already undone on its own, or it changed nothing: nothing to take back.
        _count(job, None, done=0, changed=0, reasons=Counter(already_undone=requested))
    else:
        left = requested - counts.changed
        reasons = Counter(changed_since=left) if left else Counter()
        _count(job, undo, done=counts.changed, changed=counts.changed, reasons=reasons)
    job.position = (entry.chunk or 0) + 1  # every entry of a job has its chunk


def _count(
    job: Job, entry: ActivityEntry | None, *, done: int, changed: int, reasons: Counter
) -> None:
    job.done += done
    job.changed += changed
    job.skipped += sum(reasons.values())
    merged = Counter(job.skip_reasons)
    merged.update(reasons)
    job.skip_reasons = {key: count for key, count in merged.items() if count}
    if entry is not None and job.activity_id is None:
        job.activity = entry


def _fail_chunk(
    job_id: uuid.UUID | str, token: uuid.UUID, position: int | None, post_ids: list[int]
) -> None:
    """Count the posts of the chunk at `position` as failed and move past it."""
    with transaction.atomic():
        job = _locked(job_id, token)
        if position is None or job.position != position:
            return
        if job.undo_of_id:
            entry = (
                ActivityEntry.objects.filter(job_id=job.undo_of_id, chunk__gte=position)
                .order_by("chunk")
                .first()
            )
            job.failed += len(entry.changed_ids) if entry else 0
            job.position = entry.chunk + 1 if entry and entry.chunk is not None else position + 1
        else:
            size = chunk_size(job)
            job.failed += len(post_ids[position * size : (position + 1) * size])
            job.position = position + 1
        job.error_message = "Some posts could not be changed because of a database error."
        _save(job)


def _finish(job: Job, status: str) -> str:
    job.status = status
    job.finished_at = timezone.now()
    _save(job)
    logger.info("job %s %s: %s", job.pk, status, job.skip_reasons)
    return status
