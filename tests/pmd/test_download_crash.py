"""A worker that dies mid-build (SIGKILL): nothing is published half-built,
and the request is taken back and built by another worker (SPEC §7)."""

from __future__ import annotations

import os
import signal
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.storage import storages
from django.utils import timezone

from pmd import downloads
from pmd.downloads import cleanup, storage
from pmd.models import BatchDownloadRequest
from posts.public_ids import user_sqid
from tests.factories import make_post, make_user
from tests.pmd.bdr_helpers import open_zip
from tests.services import require_redis
from tests.worker import CeleryWorker

pytestmark = [pytest.mark.worker, pytest.mark.fault, pytest.mark.django_db(transaction=True)]

Status = BatchDownloadRequest.Status


def _wait(predicate, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"not {what} within {timeout} s")
        time.sleep(0.05)


def test_a_build_whose_worker_is_killed_is_taken_back_and_finished(
    session_vault, celery_test_queue, chaos
):
    require_redis()
    owner = make_user("ivan")
    posts = [make_post(owner) for _ in range(3)]
    # The second artwork is a named pipe with no writer: opening it blocks, so
    # the build stops there, half-way, for as long as it takes to kill it.
    stuck = Path(storages["vault"].path(posts[1].art.name))
    stuck.unlink()
    os.mkfifo(stuck)
    bdr = downloads.download_request_create(
        user=owner,
        post_ids=[post.pk for post in posts],
        include_comments=False,
        include_reactions=False,
        send_email=False,
    )
    log_dir = Path(session_vault).parent
    env = {"PMD_VAULT_ROOT": str(session_vault)}
    first = CeleryWorker(queue=celery_test_queue, log_dir=log_dir, **env).start()
    try:
        _wait(
            lambda: BatchDownloadRequest.objects.get(pk=bdr.pk).status == Status.PROCESSING,
            "processing",
        )
        folder = Path(storages["vault"].path(f"bdr/{user_sqid(owner.pk)}"))
        _wait(lambda: any(folder.glob(f".{bdr.pk}.*{storage.TEMP_SUFFIX}")), "writing")
        first.process.send_signal(signal.SIGKILL)
        first.process.wait(timeout=10)
    finally:
        first.stop()

    bdr.refresh_from_db()
    assert bdr.status == Status.PROCESSING
    assert not storages["vault"].exists(storage.zip_name(bdr))  # nothing half-built published
    [crashed_temp] = folder.glob(f".{bdr.pk}.*{storage.TEMP_SUFFIX}")

    # Time passes: the dead worker's request is now older than the threshold.
    stuck.unlink()
    stuck.write_bytes(b"\x89PNG\r\n\x1a\n" + b"x" * 100)
    died = timezone.now() - timedelta(seconds=settings.PMD_BDR_PROCESSING_RECOVERY_SECONDS + 1)
    BatchDownloadRequest.objects.filter(pk=bdr.pk).update(started_at=died)
    past = time.time() - settings.PMD_BDR_PROCESSING_RECOVERY_SECONDS - 1
    os.utime(crashed_temp, (past, past))

    second = CeleryWorker(queue=celery_test_queue, log_dir=log_dir, **env).start()
    try:
        assert cleanup.downloads_recover().taken_back == 1
        _wait(lambda: BatchDownloadRequest.objects.get(pk=bdr.pk).status == Status.READY, "ready")
    finally:
        second.stop()

    bdr.refresh_from_db()
    assert bdr.artwork_count == 3
    assert open_zip(bdr).testzip() is None
    # The crashed build's temporary file goes with the next cleanup.
    assert cleanup.downloads_cleanup().temp_files_deleted == 1
    assert not crashed_temp.exists()
    chaos(
        fault="the worker is killed (SIGKILL) in the middle of a ZIP",
        user_saw="Processing, then Ready once another worker took the request back",
        end_state="ready, ZIP complete; no partial file ever at the final path",
    )
