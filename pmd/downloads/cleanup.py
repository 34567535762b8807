"""Keeping the vault and queue tidy: expiry, sweeps, recovery.

`downloads_cleanup` (daily) expires ready requests past their expiry and
deletes their files; `downloads_recover` (every 30 seconds) picks up
requests that would otherwise wait for ever. Both run from
django-celery-beat's schedule (pmd.tasks) and are idempotent.

What is deleted is found through the rows that name it, never by listing a
bucket. In a local folder, which a single host owns, the folder is also
swept for what crashed builds left (temporary files, ZIPs no row names); a
bucket's strays are its lifecycle rules' (docs/operating.md, "Deploying"), and a
worker's scratch folder is swept by the worker (pmd.tasks).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core.files.storage import storages
from django.db.models.functions import Coalesce
from django.utils import timezone

from pmd.downloads import storage
from pmd.downloads.build import GAVE_UP, fail
from pmd.downloads.queue import enqueue_build
from pmd.downloads.service import download_file_delete, download_request_expire
from pmd.models import BatchDownloadRequest

logger = logging.getLogger(__name__)

Status = BatchDownloadRequest.Status
# A published ZIP younger than this is never treated as an orphan: between the
# rename and the commit of "ready" it has no ready row yet.
ORPHAN_GRACE_SECONDS = 3600


@dataclass
class CleanupResult:
    expired: int = 0
    files_deleted: int = 0  # of requests expired earlier, whose delete had failed
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
    # Expired requests whose file could not be deleted then (the store was down).
    undeleted = BatchDownloadRequest.objects.filter(status=Status.EXPIRED).exclude(file_path="")
    for bdr in list(undeleted.only("pk", "file_path", "status")):
        try:
            download_file_delete(bdr=bdr)
        except storage.store_errors():
            logger.warning("could not delete %s; next cleanup will", bdr.file_path, exc_info=True)
            continue
        result.files_deleted += 1
    if storage.is_object_store(storages["vault"]):
        return result
    root = Path(storages["vault"].path(storage.DOWNLOADS_DIR))
    if not root.is_dir():
        return result
    stale_before = now.timestamp() - settings.PMD_BDR_LEASE_SECONDS
    orphan_before = now.timestamp() - ORPHAN_GRACE_SECONDS
    for folder in sorted(root.iterdir()):
        if not folder.is_dir():
            continue
        for entry in sorted(folder.iterdir()):
            try:
                modified = entry.stat().st_mtime
            except FileNotFoundError:
                continue
            if entry.name.endswith(storage.TEMP_SUFFIX):
                # A live build writes to its file all the time; one untouched
                # for a lease is a dead build's (its request is taken over).
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
    name = f"{storage.DOWNLOADS_DIR}/{folder.name}/{entry.name}"
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
    """Pick up requests that would otherwise wait for ever: no request is ever lost.

    Pending too long: its enqueue was lost (the broker was down), so it is
    enqueued again; a duplicate message is harmless, the claim lets one run
    build. Processing without a heartbeat for PMD_BDR_LEASE_SECONDS: its
    worker died (or hangs); a new run takes it over.
    Unfinished after PMD_BDR_GIVE_UP_HOURS: failed, inviting a retry, so a
    request that kills every worker cannot loop for ever.
    """
    now = now or timezone.now()
    result = RecoveryResult()
    unfinished = BatchDownloadRequest.objects.filter(status__in=[Status.PENDING, Status.PROCESSING])
    give_up_before = now - timedelta(hours=settings.PMD_BDR_GIVE_UP_HOURS)
    for bdr in list(unfinished.filter(created_at__lt=give_up_before).only("pk")):
        if fail(bdr, None, GAVE_UP) == "failed":
            result.given_up += 1
    pending_before = now - timedelta(seconds=settings.PMD_BDR_PENDING_RECOVERY_SECONDS)
    for bdr_id in list(
        unfinished.filter(status=Status.PENDING, created_at__lt=pending_before).values_list(
            "pk", flat=True
        )
    ):
        if enqueue_build(bdr_id):
            result.requeued_pending += 1
    quiet_since = now - timedelta(seconds=settings.PMD_BDR_LEASE_SECONDS)
    for bdr_id in list(
        unfinished.filter(status=Status.PROCESSING)
        .alias(last_beat=Coalesce("heartbeat_at", "started_at"))
        .filter(last_beat__lt=quiet_since)
        .values_list("pk", flat=True)
    ):
        if enqueue_build(bdr_id):
            result.taken_back += 1
    return result
