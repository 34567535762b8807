"""Batch download requests (SPEC §3, §4, §6, §7): services and selectors.

A request is made pending in one transaction that also enforces the daily
limit, and its build is enqueued only once that commits. A worker claims it
(pending -> processing), writes the ZIP beside its final name, and publishes
it (rename, then processing -> ready) under a row lock. Every status change
goes through BatchDownloadRequest.transition and is announced after commit
(pmd.events). Nothing is ever silently lost: a request whose enqueue failed,
or whose worker died, is picked up again by `downloads_recover`.
"""

from __future__ import annotations

import logging
import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.storage import storages
from django.db import DatabaseError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from pmd import zipbuild
from pmd.api import ApiError
from pmd.events import announce_after_commit
from pmd.models import BatchDownloadRequest, InvalidTransition
from pmd.selectors import live_artworks
from pmd.zipbuild import iso

logger = logging.getLogger(__name__)

Status = BatchDownloadRequest.Status
RECENT_COUNT = 20
# A published ZIP younger than this is never treated as an orphan: between the
# rename and the commit of "ready" it has no ready row yet.
ORPHAN_GRACE_SECONDS = 3600

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


class DailyLimitReached(ApiError):
    def __init__(self, *, limit: int, resets_at: datetime, now: datetime) -> None:
        wait = resets_at - now
        hours, minutes = divmod(max(int(wait.total_seconds()) // 60, 1), 60)
        in_words = f"{hours} h {minutes} min" if hours else f"{minutes} min"
        super().__init__(
            f"You have used all {limit} download requests for today. "
            f"The limit resets at 00:00 UTC, in {in_words}.",
            429,
        )
        self.resets_at = resets_at


class TransientBuildError(Exception):
    """The build failed for a reason that may pass (database, disk): retry it.

    `lease` lets the retry carry on with the request it had claimed.
    """

    def __init__(self, lease: str | None) -> None:
        super().__init__("transient build failure")
        self.lease = lease


class _LeaseLost(Exception):
    """Another run has taken the request over (or it was failed meanwhile)."""


# Selectors


def day_window(now: datetime | None = None) -> tuple[datetime, datetime]:
    """The UTC day containing `now`: its start and the next day's start."""
    now = (now or timezone.now()).astimezone(UTC)
    start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1)


def requests_used_today(user: AbstractBaseUser, *, now: datetime | None = None) -> int:
    # A retry of a failed request does not use up another of the day's requests.
    start, _ = day_window(now)
    return BatchDownloadRequest.objects.filter(
        user=user, created_at__gte=start, retry_of__isnull=True
    ).count()


def requests_left_today(user: AbstractBaseUser, *, now: datetime | None = None) -> int:
    return max(settings.PMD_BDR_DAILY_LIMIT - requests_used_today(user, now=now), 0)


def download_requests_recent(
    user: AbstractBaseUser, *, limit: int = RECENT_COUNT
) -> list[BatchDownloadRequest]:
    return list(
        BatchDownloadRequest.objects.filter(user=user)
        # The panel shows "Retry" only on failed requests not retried yet.
        .select_related("retried_by")
        .order_by("-created_at", "-pk")[:limit]
    )


def download_request_of(user: AbstractBaseUser, pk: Any) -> BatchDownloadRequest | None:
    """The user's request `pk` (a UUID or its text), or None for a malformed,
    unknown or someone else's id: callers answer 404 to all three alike."""
    try:
        key = pk if isinstance(pk, uuid.UUID) else uuid.UUID(str(pk))
    except ValueError:
        return None
    return BatchDownloadRequest.objects.filter(pk=key, user=user).first()


def display_status(bdr: BatchDownloadRequest, *, now: datetime | None = None) -> str:
    """The status a person should see: a ready request past its expiry is
    expired already, even before cleanup has run (SPEC §6: 410)."""
    if bdr.status == Status.READY and (
        bdr.expires_at is None or bdr.expires_at <= (now or timezone.now())
    ):
        return Status.EXPIRED
    return bdr.status


def bdr_item(bdr: BatchDownloadRequest) -> dict[str, Any]:
    """The BDR item of the JSON API (SPEC §6)."""
    status = display_status(bdr)
    return {
        "id": str(bdr.pk),
        "status": status,
        "artwork_count": bdr.artwork_count,
        "progress": bdr.progress,
        "created_at": iso(bdr.created_at),
        "started_at": iso(bdr.started_at),
        "completed_at": iso(bdr.completed_at),
        "expires_at": iso(bdr.expires_at),
        "error_message": bdr.error_message,
        "download_url": (
            reverse("pmd:api-bdr-download", args=[bdr.pk]) if status == Status.READY else None
        ),
    }


def download_panel_context(user: AbstractBaseUser, *, highlight: str | None = None) -> dict:
    """What templates/pmd/_download_requests.html needs.

    `highlight` is the `?bdr=` of the page (the email links there); that
    request is shown even when it is older than the 20 newest.
    """
    requests = download_requests_recent(user)
    highlighted = download_request_of(user, highlight) if highlight else None
    if highlighted and all(bdr.pk != highlighted.pk for bdr in requests):
        requests.append(highlighted)
    return {
        "download_requests": requests,
        "requests_left": requests_left_today(user),
        "daily_limit": settings.PMD_BDR_DAILY_LIMIT,
        "ttl_days": settings.PMD_BDR_TTL_DAYS,
        "highlight_id": str(highlighted.pk) if highlighted else "",
    }


def attachment_name(bdr: BatchDownloadRequest) -> str:
    """A friendly file name for the browser, without any user text."""
    day = (bdr.completed_at or bdr.created_at).astimezone(UTC).date().isoformat()
    count = bdr.artwork_count
    return f"pixelposts-{day}-{count}-artwork{'' if count == 1 else 's'}.zip"


# Services: requests


def _check_live_artworks(user: AbstractBaseUser, post_ids: list[int]) -> None:
    found = set(live_artworks(owner=user).filter(pk__in=post_ids).values_list("pk", flat=True))
    unknown = [post_id for post_id in post_ids if post_id not in found]
    if unknown:
        shown = ", ".join(str(post_id) for post_id in unknown[:5])
        more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        raise ApiError(
            f"{len(unknown)} of the selected posts cannot be downloaded: they are not your "
            f"artwork posts, or were deleted (ids {shown}{more}). Nothing was requested."
        )


def download_request_create(
    *,
    user: AbstractBaseUser,
    post_ids: list[int],
    include_comments: bool,
    include_reactions: bool,
    send_email: bool,
) -> BatchDownloadRequest:
    """A new pending request, or ApiError (400 bad ids, 429 over the daily limit).

    `post_ids` is already parsed (pmd.api.parse_post_ids: distinct, order kept,
    at most PMD_BDR_LIMIT).
    """
    _check_live_artworks(user, post_ids)
    limit = settings.PMD_BDR_DAILY_LIMIT
    with transaction.atomic():
        # Count-then-insert races (PITFALLS §5). The user's row lock makes
        # this user's requests take turns; under READ COMMITTED the count
        # below runs after the lock is granted, so it sees every request the
        # previous holder committed. (SQLite ignores the lock, but it lets
        # only one writer in at a time anyway.)
        get_user_model().objects.select_for_update().only("pk").get(pk=user.pk)
        now = timezone.now()
        if requests_used_today(user, now=now) >= limit:
            raise DailyLimitReached(limit=limit, resets_at=day_window(now)[1], now=now)
        bdr = BatchDownloadRequest.objects.create(
            user=user,
            post_ids=post_ids,
            include_comments=include_comments,
            include_reactions=include_reactions,
            send_email=send_email,
            artwork_count=len(post_ids),
            created_at=now,
        )
        # Announced before the build is enqueued, so the page hears "pending"
        # before the worker can say "processing".
        announce_after_commit(bdr)
        _enqueue_build_after_commit(bdr)
    return bdr


def download_request_retry(*, bdr: BatchDownloadRequest) -> BatchDownloadRequest:
    """A new pending request for the same posts as the failed `bdr`.

    It does not use up another of the day's requests. Posts deleted since are
    left out; ApiError 409 if `bdr` has not failed, was retried already, or
    none of its posts is left.
    """
    with transaction.atomic():
        failed = BatchDownloadRequest.objects.select_for_update().get(pk=bdr.pk)
        if failed.status != Status.FAILED:
            raise ApiError("Only a failed download can be retried.", 409)
        if BatchDownloadRequest.objects.filter(retry_of=failed).exists():
            raise ApiError("This download has been retried already.", 409)
        live = set(
            live_artworks(owner=failed.user)
            .filter(pk__in=failed.post_ids)
            .values_list("pk", flat=True)
        )
        post_ids = [post_id for post_id in failed.post_ids if post_id in live]
        if not post_ids:
            raise ApiError("None of these posts can be downloaded any more.", 409)
        retry = BatchDownloadRequest.objects.create(
            user_id=failed.user_id,
            post_ids=post_ids,
            include_comments=failed.include_comments,
            include_reactions=failed.include_reactions,
            send_email=failed.send_email,
            artwork_count=len(post_ids),
            retry_of=failed,
        )
        announce_after_commit(retry)
        _enqueue_build_after_commit(retry)
    return retry


def download_request_created_message(bdr: BatchDownloadRequest, *, requests_left: int) -> str:
    count = bdr.artwork_count
    parts = [
        f"Download of {count} artwork{'' if count == 1 else 's'} requested. "
        "It is queued and will be built in the background."
    ]
    if bdr.send_email:
        parts.append("We will email you when it is ready.")
    parts.append(
        f"{requests_left} of {settings.PMD_BDR_DAILY_LIMIT} requests left today."
        if bdr.retry_of_id is None
        else "A retry does not count towards today's requests."
    )
    return " ".join(parts)


def enqueue_build(bdr_id: uuid.UUID | str) -> bool:
    """Put the build of `bdr_id` on the queue; False if the broker is down.

    A request whose enqueue failed stays pending and the recovery job
    enqueues it again later, so the person who asked is never told of a
    broker they cannot do anything about.
    """
    from pmd.tasks import process_bdr_job

    try:
        process_bdr_job.apply_async(args=[str(bdr_id)])
    except Exception:  # noqa: BLE001 - kombu raises many kinds; all mean "not queued"
        logger.warning("could not enqueue bdr %s; recovery will", bdr_id, exc_info=True)
        return False
    return True


def _enqueue_build_after_commit(bdr: BatchDownloadRequest) -> None:
    # After commit: a worker must find the row, and no lock is held while
    # talking to the broker (PITFALLS §2, §5).
    transaction.on_commit(partial(enqueue_build, bdr.pk))


def _enqueue_email_after_commit(bdr: BatchDownloadRequest, kind: str) -> None:
    def enqueue() -> None:
        from pmd.tasks import send_bdr_email

        try:
            send_bdr_email.apply_async(args=[str(bdr.pk), kind])
        except Exception:  # noqa: BLE001
            # The worker that got here reached the broker a moment ago; if it
            # is gone now, send in this process rather than lose the email.
            logger.warning("could not enqueue the %s email of bdr %s", kind, bdr.pk, exc_info=True)
            from pmd import emails

            emails.send_download_email(bdr.pk, kind, raise_errors=False)

    transaction.on_commit(enqueue)


# Services: building


def download_request_claim(
    bdr_id: uuid.UUID | str, *, lease: str | None = None
) -> tuple[BatchDownloadRequest, datetime] | None:
    """Take `bdr_id` for building: (request, lease), or None when there is
    nothing to do (ready, failed, expired, gone, or built by another run).

    The lease is the request's `started_at`, renewed on every claim; progress
    and the final publish happen only while it still matches, so two runs of
    one request (a redelivery, a recovery) never both publish. A processing
    request is taken over only by the run holding its lease (a retry of the
    same run) or once it is older than PMD_BDR_PROCESSING_RECOVERY_SECONDS
    (its worker died: a live run never outlasts the task time limit).
    """
    bdr = BatchDownloadRequest.objects.filter(pk=bdr_id).first()
    if bdr is None:
        return None
    now = timezone.now()
    if bdr.status == Status.PENDING:
        try:
            bdr.transition(Status.PROCESSING, started_at=now, progress=0)
        except InvalidTransition:
            return None
        announce_after_commit(bdr)
        return bdr, now
    if bdr.status != Status.PROCESSING or bdr.started_at is None:
        return None
    held = parse_datetime(lease) if lease else None
    stale = bdr.started_at < now - timedelta(seconds=settings.PMD_BDR_PROCESSING_RECOVERY_SECONDS)
    if held != bdr.started_at and not stale:
        return None
    # Not a status change: the compare-and-swap on started_at hands the
    # request to exactly one run.
    taken = BatchDownloadRequest.objects.filter(
        pk=bdr.pk, status=Status.PROCESSING, started_at=bdr.started_at
    ).update(started_at=now, progress=0)
    if taken != 1:
        return None
    bdr.started_at, bdr.progress = now, 0
    announce_after_commit(bdr)
    return bdr, now


def download_request_build(bdr_id: uuid.UUID | str, *, lease: str | None = None) -> str:
    """Build the ZIP of request `bdr_id` (SPEC §7). Safe to run twice.

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
        result = zipbuild.build_zip(
            bdr, handle=handle, progress=partial(_save_progress, bdr, token)
        )
    except _LeaseLost:
        return "superseded"
    except zipbuild.NothingToBuild as nothing:
        logger.warning("bdr %s: no artwork readable: %s", bdr.pk, nothing.missing)
        count = len(nothing.missing)
        what = (
            "The artwork could not be read"
            if count == 1
            else f"None of the {count} artworks could be read"
        )
        return _fail(bdr, token, NOTHING_READABLE.format(what=what))
    except SoftTimeLimitExceeded:
        return _fail(bdr, token, TOO_SLOW)
    except (OSError, DatabaseError) as error:
        logger.warning("bdr %s: transient build failure: %s", bdr.pk, error)
        raise TransientBuildError(token.isoformat()) from error
    except Exception:
        logger.exception("bdr %s: build failed", bdr.pk)
        return _fail(bdr, token, UNEXPECTED)
    try:
        return _publish(bdr, token, result)
    except DatabaseError as error:
        result.temp_path.unlink(missing_ok=True)
        raise TransientBuildError(token.isoformat()) from error


def download_request_give_up(bdr_id: uuid.UUID | str, *, lease: str | None, message: str) -> str:
    """Fail the request after its last retry, if `lease` still holds it."""
    token = parse_datetime(lease) if lease else None
    bdr = BatchDownloadRequest.objects.filter(pk=bdr_id).first()
    if bdr is None or token is None:
        # Never claimed (the database was unreachable): it is still pending,
        # and the recovery job enqueues it again once things are back.
        return "skipped"
    return _fail(bdr, token, message)


def _save_progress(bdr: BatchDownloadRequest, token: datetime, done: int) -> None:
    saved = BatchDownloadRequest.objects.filter(
        pk=bdr.pk, status=Status.PROCESSING, started_at=token
    ).update(progress=done)
    if saved != 1:
        raise _LeaseLost
    bdr.progress = done
    announce_after_commit(bdr)


def _holding(bdr: BatchDownloadRequest, token: datetime | None) -> BatchDownloadRequest | None:
    """The request, row-locked, if the run with lease `token` still holds it
    (token None: whoever holds it, pending or processing). Call in atomic()."""
    current = BatchDownloadRequest.objects.select_for_update().filter(pk=bdr.pk).first()
    if current is None or current.status not in (Status.PENDING, Status.PROCESSING):
        return None
    if token is not None and (current.status != Status.PROCESSING or current.started_at != token):
        return None
    return current


def _publish(bdr: BatchDownloadRequest, token: datetime, result: zipbuild.BuildResult) -> str:
    with transaction.atomic():
        current = _holding(bdr, token)
        if current is None or current.status != Status.PROCESSING:
            result.temp_path.unlink(missing_ok=True)
            return "superseded"
        # Renamed under the row lock, so at most one run's ZIP becomes the
        # file; it is complete the moment it has its name.
        os.replace(result.temp_path, result.final_path)
        now = timezone.now()
        count = len(result.shipped)
        current.transition(
            Status.READY,
            completed_at=now,
            expires_at=now + timedelta(days=settings.PMD_BDR_TTL_DAYS),
            file_path=result.name,
            file_size_bytes=result.size,
            # From here on artwork_count is what the ZIP holds; the rest are
            # listed in its metadata.json under "missing".
            artwork_count=count,
            progress=count,
            error_message="",
        )
        announce_after_commit(current)
        if current.send_email:
            _enqueue_email_after_commit(current, "ready")
    logger.info("bdr %s ready: %s artworks, %s missing", bdr.pk, count, len(result.missing))
    return "ready"


def _fail(bdr: BatchDownloadRequest, token: datetime | None, message: str) -> str:
    with transaction.atomic():
        current = _holding(bdr, token)
        if current is None:
            return "superseded"
        current.transition(Status.FAILED, error_message=message[:500], completed_at=timezone.now())
        announce_after_commit(current)
        if current.send_email:
            _enqueue_email_after_commit(current, "failed")
    logger.info("bdr %s failed: %s", bdr.pk, message)
    return "failed"


# Services: expiry, cleanup, recovery


def download_request_expire(*, bdr: BatchDownloadRequest) -> bool:
    """Expire a ready request now and delete its file; False if not ready."""
    with transaction.atomic():
        current = BatchDownloadRequest.objects.select_for_update().filter(pk=bdr.pk).first()
        if current is None or current.status != Status.READY:
            return False
        name = current.file_path
        now = timezone.now()
        current.transition(
            Status.EXPIRED,
            file_path="",
            expires_at=min(current.expires_at or now, now),
        )
        announce_after_commit(current)
        if name:
            # After commit: should the delete fail, the row is still right and
            # the orphan sweep of downloads_cleanup removes the file later.
            transaction.on_commit(partial(_delete_vault_file, name), robust=True)
    return True


def _delete_vault_file(name: str) -> None:
    # FileSystemStorage.delete is quiet about a file already gone.
    storages["vault"].delete(name)


@dataclass
class CleanupResult:
    expired: int = 0
    orphans_deleted: int = 0
    temp_files_deleted: int = 0
    folders_removed: int = 0


def downloads_cleanup(*, now: datetime | None = None) -> CleanupResult:
    """Expire ready requests past their expiry (deleting their files), then
    sweep the download folders: stale temporary files of crashed builds, ZIPs
    no ready request points to, and empty user folders. Idempotent."""
    now = now or timezone.now()
    result = CleanupResult()
    due = BatchDownloadRequest.objects.filter(status=Status.READY, expires_at__lte=now)
    for bdr in list(due.only("pk")):
        if download_request_expire(bdr=bdr):
            result.expired += 1
    root = Path(storages["vault"].path(zipbuild.DOWNLOADS_DIR))
    if not root.is_dir():
        return result
    stale_before = now.timestamp() - settings.PMD_BDR_PROCESSING_RECOVERY_SECONDS
    orphan_before = now.timestamp() - ORPHAN_GRACE_SECONDS
    for folder in sorted(root.iterdir()):
        if not folder.is_dir():
            continue
        for entry in sorted(folder.iterdir()):
            try:
                modified = entry.stat().st_mtime
            except FileNotFoundError:
                continue
            if entry.name.endswith(zipbuild.TEMP_SUFFIX):
                # A live build never outlasts the task time limit, which the
                # recovery threshold exceeds.
                if modified < stale_before and _unlink(entry):
                    result.temp_files_deleted += 1
            elif (
                entry.suffix == ".zip"
                and modified < orphan_before
                and _is_orphan(folder, entry)
                and _unlink(entry)
            ):
                result.orphans_deleted += 1
        try:
            folder.rmdir()
        except OSError:
            continue  # not empty
        result.folders_removed += 1
    return result


def _is_orphan(folder: Path, entry: Path) -> bool:
    try:
        key = uuid.UUID(entry.stem)
    except ValueError:
        return False  # not one of ours: leave it for a person to look at
    name = f"{zipbuild.DOWNLOADS_DIR}/{folder.name}/{entry.name}"
    return not BatchDownloadRequest.objects.filter(
        pk=key,
        status__in=[Status.READY, Status.PROCESSING, Status.PENDING],
        file_path__in=[name, ""],
    ).exists()


def _unlink(path: Path) -> bool:
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


@dataclass
class RecoveryResult:
    requeued_pending: int = 0
    taken_back: int = 0
    given_up: int = 0


def downloads_recover(*, now: datetime | None = None) -> RecoveryResult:
    """Pick up requests that would otherwise wait for ever (SPEC §7).

    Pending too long: its enqueue was lost (the broker was down), so it is
    enqueued again; a duplicate message is harmless, the claim lets one run
    build. Processing too long: its worker died; a new run takes it over.
    Unfinished after PMD_BDR_GIVE_UP_HOURS: failed, inviting a retry, so a
    request that kills every worker cannot loop for ever.
    """
    now = now or timezone.now()
    result = RecoveryResult()
    unfinished = BatchDownloadRequest.objects.filter(status__in=[Status.PENDING, Status.PROCESSING])
    give_up_before = now - timedelta(hours=settings.PMD_BDR_GIVE_UP_HOURS)
    for bdr in list(unfinished.filter(created_at__lt=give_up_before).only("pk")):
        if _fail(bdr, None, GAVE_UP) == "failed":
            result.given_up += 1
    pending_before = now - timedelta(seconds=settings.PMD_BDR_PENDING_RECOVERY_SECONDS)
    for bdr_id in list(
        unfinished.filter(status=Status.PENDING, created_at__lt=pending_before).values_list(
            "pk", flat=True
        )
    ):
        if enqueue_build(bdr_id):
            result.requeued_pending += 1
    processing_before = now - timedelta(seconds=settings.PMD_BDR_PROCESSING_RECOVERY_SECONDS)
    for bdr_id in list(
        unfinished.filter(status=Status.PROCESSING, started_at__lt=processing_before).values_list(
            "pk", flat=True
        )
    ):
        if enqueue_build(bdr_id):
            result.taken_back += 1
    return result
