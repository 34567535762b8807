"""Building a download request's ZIP: claim, build, publish, or fail.

A worker claims a request (pending -> processing) with a lease, writes the
ZIP (pmd.downloads.zipbuild) to a file of its own, and publishes it
(pmd.downloads.storage) under the request's row lock while its lease still
holds, then processing -> ready. Every status change goes through
BatchDownloadRequest.transition and is announced after commit
(pmd.downloads.events). A run that lost its lease publishes nothing.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import DatabaseError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from pmd.downloads import storage, zipbuild
from pmd.downloads.events import announce_after_commit
from pmd.downloads.queue import enqueue_email_after_commit
from pmd.models import BatchDownloadRequest, InvalidTransition
from pmd_project.telemetry.metrics import observe_build

logger = logging.getLogger(__name__)

Status = BatchDownloadRequest.Status
# A longer message is cut to what the column holds.
ERROR_MESSAGE_LENGTH = BatchDownloadRequest._meta.get_field("error_message").max_length

NOTHING_READABLE = (
    "{what}, so there is nothing to download. "
    "Please try again later; if it keeps failing, contact support."
)
TOO_SLOW = (
    "Building this download took too long. Please retry it, or request fewer artworks at once."
)
NOT_SAVED = "The download could not be saved. Please retry it in a few minutes."
UNEXPECTED = "Something went wrong while building this download. Please retry it."
GAVE_UP = "This download could not be built in time. Please retry it."


class TransientBuildError(Exception):
    """The build failed for a reason that may pass (database, disk): retry it.

    `lease` lets the retry carry on with the request it had claimed.
    """

    def __init__(self, lease: str | None) -> None:
        super().__init__("transient build failure")
        self.lease = lease


class LeaseLost(Exception):
    """Another run has taken the request over (or it was failed meanwhile)."""


def download_request_claim(
    bdr_id: uuid.UUID | str, *, lease: str | None = None
) -> tuple[BatchDownloadRequest, datetime] | None:
    """Take `bdr_id` for building: (request, lease), or None when there is
    nothing to do (ready, failed, expired, gone, or built by another run).

    The lease is the request's `started_at`, renewed on every claim; progress
    and the final publish happen only while it still matches, so two runs of
    one request (a redelivery, a recovery) never both publish. A processing
    request is taken over only by the run holding its lease (a retry of the
    same run) or once its heartbeat is older than PMD_BDR_LEASE_SECONDS (its
    worker died or hangs: a live run beats every half second).
    """
    bdr = BatchDownloadRequest.objects.filter(pk=bdr_id).first()
    if bdr is None:
        return None
    now = timezone.now()
    if bdr.status == Status.PENDING:
        try:
            bdr.transition(Status.PROCESSING, started_at=now, heartbeat_at=now, progress=0)
        except InvalidTransition:
            return None
        announce_after_commit(bdr)
        return bdr, now
    if bdr.status != Status.PROCESSING or bdr.started_at is None:
        return None
    held = parse_datetime(lease) if lease else None
    if held != bdr.started_at and not lease_expired(bdr, now=now):
        return None
    # Not a status change: the compare-and-swap on started_at hands the
    # request to exactly one run.
    taken = BatchDownloadRequest.objects.filter(
        pk=bdr.pk, status=Status.PROCESSING, started_at=bdr.started_at
    ).update(started_at=now, heartbeat_at=now, progress=0)
    if taken != 1:
        return None
    bdr.started_at, bdr.heartbeat_at, bdr.progress = now, now, 0
    announce_after_commit(bdr)
    return bdr, now


def lease_expired(bdr: BatchDownloadRequest, *, now: datetime) -> bool:
    """Whether the run building `bdr` has gone quiet for PMD_BDR_LEASE_SECONDS."""
    last = bdr.heartbeat_at or bdr.started_at
    return last is None or last < now - timedelta(seconds=settings.PMD_BDR_LEASE_SECONDS)


@observe_build(retry=TransientBuildError)
def download_request_build(bdr_id: uuid.UUID | str, *, lease: str | None = None) -> str:
    """Build the ZIP of request `bdr_id`. Safe to run twice (late acks redeliver).

    Returns what happened ("ready", "failed", "skipped", "superseded"); raises
    TransientBuildError for a failure worth retrying.
    """
    try:
        claimed = download_request_claim(bdr_id, lease=lease)
    except DatabaseError as error:
        raise TransientBuildError(lease) from error
    if claimed is None:
        return "skipped"
    bdr, token = claimed
    try:
        handle = get_user_model().objects.values_list("username", flat=True).get(pk=bdr.user_id)
        result, staged = build_and_stage(bdr, token, handle=handle)
    except LeaseLost:
        return "superseded"
    except zipbuild.NothingToBuild as nothing:
        logger.warning("bdr %s: no artwork readable: %s", bdr.pk, nothing.missing)
        count = len(nothing.missing)
        what = (
            "The artwork could not be read"
            if count == 1
            else f"None of the {count} artworks could be read"
        )
        return fail(bdr, token, NOTHING_READABLE.format(what=what))
    except SoftTimeLimitExceeded:
        return fail(bdr, token, TOO_SLOW)
    except (OSError, DatabaseError, *storage.store_errors()) as error:
        # A full disk, the database or the object store (refusing, down,
        # unreachable): all may pass, so the task retries with back-off.
        logger.warning("bdr %s: transient build failure: %s", bdr.pk, error)
        raise TransientBuildError(token.isoformat()) from error
    except Exception:
        logger.exception("bdr %s: build failed", bdr.pk)
        return fail(bdr, token, UNEXPECTED)
    try:
        return publish(bdr, token, result, staged)
    except DatabaseError as error:
        storage.discard(staged)
        raise TransientBuildError(token.isoformat()) from error


def build_and_stage(
    bdr: BatchDownloadRequest, token: datetime, *, handle: str
) -> tuple[zipbuild.BuildResult, storage.Staged]:
    """Write the ZIP of `bdr` for the run holding lease `token`, ready to
    publish; nothing of it is left behind when this raises."""
    # What builds that crashed on this worker left in its scratch folder
    # (their requests are taken over elsewhere): each build sweeps, so a
    # worker's disk never fills up with them.
    storage.sweep_scratch(older_than_seconds=settings.PMD_BDR_LEASE_SECONDS)
    scratch: Path = storage.scratch_file(bdr)
    try:
        result = zipbuild.build_zip(
            bdr, handle=handle, progress=partial(_save_progress, bdr, token), output=scratch
        )
        staged = storage.stage(
            bdr, scratch, size=result.size, token=token, heartbeat=_Heartbeat(bdr, token)
        )
        return result, staged
    except BaseException:
        scratch.unlink(missing_ok=True)
        raise


@observe_build(retry=TransientBuildError)
def download_request_give_up(bdr_id: uuid.UUID | str, *, lease: str | None, message: str) -> str:
    """Fail the request after its last retry, if `lease` still holds it."""
    token = parse_datetime(lease) if lease else None
    bdr = BatchDownloadRequest.objects.filter(pk=bdr_id).first()
    if bdr is None or token is None:
        # Never claimed (the database was unreachable): it is still pending,
        # and the recovery job enqueues it again once things are back.
        return "skipped"
    return fail(bdr, token, message)


def _save_progress(bdr: BatchDownloadRequest, token: datetime, done: int) -> None:
    """Save `done` and renew the lease (the heartbeat), while the run with
    lease `token` holds the request; LeaseLost if it no longer does. Called
    every half second, also when `done` has not moved (a long file); only a
    move is announced."""
    now = timezone.now()
    saved = BatchDownloadRequest.objects.filter(
        pk=bdr.pk, status=Status.PROCESSING, started_at=token
    ).update(progress=done, heartbeat_at=now)
    if saved != 1:
        raise LeaseLost
    bdr.heartbeat_at = now
    if bdr.progress != done:
        bdr.progress = done
        announce_after_commit(bdr)


class _Heartbeat:
    """Renews the lease at most every PROGRESS_EVERY_SECONDS while the ZIP uploads."""

    def __init__(self, bdr: BatchDownloadRequest, token: datetime) -> None:
        self.bdr, self.token = bdr, token
        self.last = time.monotonic()

    def __call__(self) -> None:
        if time.monotonic() - self.last >= zipbuild.PROGRESS_EVERY_SECONDS:
            _save_progress(self.bdr, self.token, self.bdr.progress)
            self.last = time.monotonic()


def _holding(bdr: BatchDownloadRequest, token: datetime | None) -> BatchDownloadRequest | None:
    """The request, row-locked, if the run with lease `token` still holds it
    (token None: whoever holds it, pending or processing). Call in atomic()."""
    current = BatchDownloadRequest.objects.select_for_update().filter(pk=bdr.pk).first()
    if current is None or current.status not in (Status.PENDING, Status.PROCESSING):
        return None
    if token is not None and (current.status != Status.PROCESSING or current.started_at != token):
        return None
    return current


def publish(
    bdr: BatchDownloadRequest,
    token: datetime,
    result: zipbuild.BuildResult,
    staged: storage.Staged,
) -> str:
    """Make the staged ZIP the request's file and the request ready, if the
    run with lease `token` still holds it; "superseded" (its ZIP discarded)
    if not."""
    with transaction.atomic():
        current = _holding(bdr, token)
        if current is None or current.status != Status.PROCESSING:
            storage.discard(staged)
            return "superseded"
        # Under the row lock, so at most one run's ZIP becomes the file.
        storage.publish(staged)
        now = timezone.now()
        count = len(result.shipped)
        current.transition(
            Status.READY,
            completed_at=now,
            expires_at=now + timedelta(days=settings.PMD_BDR_TTL_DAYS),
            file_path=staged.name,
            file_size_bytes=staged.size,
            # From here on artwork_count is what the ZIP holds; the rest are
            # listed in its metadata.json under "missing".
            artwork_count=count,
            progress=count,
            error_message="",
        )
        announce_after_commit(current)
        if current.send_email:
            enqueue_email_after_commit(current, "ready")
    logger.info("bdr %s ready: %s artworks, %s missing", bdr.pk, count, len(result.missing))
    return "ready"


def fail(bdr: BatchDownloadRequest, token: datetime | None, message: str) -> str:
    """Fail the request with `message` (for its owner) if the run with lease
    `token` still holds it (None: whoever does); "superseded" if not."""
    with transaction.atomic():
        current = _holding(bdr, token)
        if current is None:
            return "superseded"
        current.transition(
            Status.FAILED, error_message=message[:ERROR_MESSAGE_LENGTH], completed_at=timezone.now()
        )
        announce_after_commit(current)
        if current.send_email:
            enqueue_email_after_commit(current, "failed")
    logger.info("bdr %s failed: %s", bdr.pk, message)
    return "failed"
