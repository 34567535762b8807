"""Download requests: asking for one, retrying, expiring.

A request is made pending in one transaction that also enforces the daily
limit, and its build is enqueued only once that commits (the build itself:
pmd.downloads.build). Refusals are pmd.errors kinds; the HTTP edge gives
them their status codes.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from pmd.downloads import storage
from pmd.downloads.events import announce_after_commit
from pmd.downloads.queue import enqueue_build_after_commit
from pmd.downloads.selectors import check_downloadable, day_window, requests_used_today
from pmd.errors import Conflict, DailyLimitReached, Invalid
from pmd.models import MAX_DOWNLOAD_PARTS, BatchDownloadRequest
from pmd.selectors import live_artworks

Status = BatchDownloadRequest.Status


def _check_live_artworks(user: User, post_ids: list[int]) -> None:
    found = live_artworks(owner=user).filter(pk__in=post_ids).values_list("pk", flat=True)
    check_downloadable(post_ids, set(found))


def _check_part(part_number: int | None, part_count: int | None) -> None:
    if (part_number is None) != (part_count is None):
        raise Invalid("Send part and parts together (part 2 of 5 parts), or neither.")
    if (
        part_number is not None
        and part_count is not None
        and not 1 <= part_number <= part_count <= MAX_DOWNLOAD_PARTS
    ):
        raise Invalid(f"part must be from 1 to parts, and parts from 1 to {MAX_DOWNLOAD_PARTS}.")


def download_request_create(
    *,
    user: User,
    post_ids: list[int],
    include_comments: bool,
    include_reactions: bool,
    send_email: bool,
    part_number: int | None = None,
    part_count: int | None = None,
    actor: User | None = None,
) -> BatchDownloadRequest:
    """A new pending request; Invalid for posts that are not the user's live
    artworks, DailyLimitReached over the daily limit.

    `post_ids` is already parsed (distinct, order kept, at most PMD_BDR_LIMIT).
    A part of a split (over 128 posts) says which (`part_number` of `part_count`);
    it is a normal request in every other way, under the same limits.
    `actor` is support asking in the owner's dashboard, recorded with it.
    """
    _check_part(part_number, part_count)
    _check_live_artworks(user, post_ids)
    limit = settings.PMD_BDR_DAILY_LIMIT
    with transaction.atomic():
        # Count-then-insert races: two requests could both count 7 and both
        # insert, a 9th of the day. The user's row lock makes
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
            requested_by=actor,
            post_ids=post_ids,
            include_comments=include_comments,
            include_reactions=include_reactions,
            send_email=send_email,
            artwork_count=len(post_ids),
            part_number=part_number,
            part_count=part_count,
            created_at=now,
        )
        # Announced before the build is enqueued, so the page hears "pending"
        # before the worker can say "processing".
        announce_after_commit(bdr)
        enqueue_build_after_commit(bdr)
    return bdr


def download_request_retry(
    *, bdr: BatchDownloadRequest, actor: User | None = None
) -> BatchDownloadRequest:
    """A new pending request for the same posts as the failed `bdr`, the same
    part of the same split if it was one.

    It does not use up another of the day's requests. Posts deleted since are
    left out; Conflict if `bdr` has not failed, was retried already, or none
    of its posts is left.
    """
    with transaction.atomic():
        failed = BatchDownloadRequest.objects.select_for_update().get(pk=bdr.pk)
        if failed.status != Status.FAILED:
            raise Conflict("Only a failed download can be retried.")
        if BatchDownloadRequest.objects.filter(retry_of=failed).exists():
            raise Conflict("This download has been retried already.")
        live = set(
            live_artworks(owner=failed.user)
            .filter(pk__in=failed.post_ids)
            .values_list("pk", flat=True)
        )
        post_ids = [post_id for post_id in failed.post_ids if post_id in live]
        if not post_ids:
            raise Conflict("None of these posts can be downloaded any more.")
        retry = BatchDownloadRequest.objects.create(
            user_id=failed.user_id,
            requested_by=actor,
            post_ids=post_ids,
            include_comments=failed.include_comments,
            include_reactions=failed.include_reactions,
            send_email=failed.send_email,
            artwork_count=len(post_ids),
            part_number=failed.part_number,
            part_count=failed.part_count,
            retry_of=failed,
        )
        announce_after_commit(retry)
        enqueue_build_after_commit(retry)
    return retry


def download_request_created_message(bdr: BatchDownloadRequest, *, requests_left: int) -> str:
    count = bdr.artwork_count
    part = f" ({bdr.part_label.lower()})" if bdr.part_number else ""
    parts = [
        f"Download of {count} artwork{'' if count == 1 else 's'} requested{part}. "
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


def download_request_expire(*, bdr: BatchDownloadRequest) -> bool:
    """Expire a ready request now and delete its file; False if not ready."""
    with transaction.atomic():
        current = BatchDownloadRequest.objects.select_for_update().filter(pk=bdr.pk).first()
        if current is None or current.status != Status.READY:
            return False
        now = timezone.now()
        current.transition(Status.EXPIRED, expires_at=min(current.expires_at or now, now))
        announce_after_commit(current)
        if current.file_path:
            # After commit, and file_path is cleared only once the file is
            # gone: should the delete fail (the store is down), the row still
            # names it and downloads_cleanup deletes it on its next run.
            transaction.on_commit(lambda: download_file_delete(bdr=current), robust=True)
    return True


def download_file_delete(*, bdr: BatchDownloadRequest) -> None:
    """Delete the file of the expired request `bdr` (and, in a bucket, what
    crashed runs of it left), then clear its file_path."""
    storage.delete_download(bdr.file_path)
    BatchDownloadRequest.objects.filter(
        pk=bdr.pk, status=Status.EXPIRED, file_path=bdr.file_path
    ).update(file_path="")
    bdr.file_path = ""
