"""A worker that dies mid-build (SIGKILL): nothing is published half-built,
and the request is taken over by another worker once its heartbeat lease
runs out, within minutes rather than after the task time limit (SPEC §7,
issue 12)."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest
from django.core.files.storage import storages

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
LEASE_SECONDS = 6


def _wait(predicate, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"not {what} within {timeout} s")
        time.sleep(0.05)


class _Trickle(threading.Thread):
    """Writes 64 KiB into a named pipe every 50 ms: to the worker that reads
    it (a 1 MiB buffer at a time), one artwork file that takes for ever to copy."""

    def __init__(self, pipe: Path) -> None:
        super().__init__(daemon=True)
        self.pipe = pipe
        self.stop = threading.Event()

    def run(self) -> None:
        try:
            with open(self.pipe, "wb", buffering=0) as writer:
                while not self.stop.wait(0.05):
                    writer.write(b"x" * 65536)
        except BrokenPipeError:
            pass  # the reader was killed


def _row(bdr) -> BatchDownloadRequest:
    return BatchDownloadRequest.objects.get(pk=bdr.pk)


def test_a_build_whose_worker_is_killed_is_taken_over_by_its_heartbeat_lease(
    session_vault, celery_test_queue, settings, chaos
):
    require_redis()
    settings.PMD_BDR_LEASE_SECONDS = LEASE_SECONDS
    owner = make_user("ivan")
    posts = [make_post(owner) for _ in range(3)]
    # The second artwork is a named pipe fed a little at a time: the build
    # copies it for as long as the test likes, and its progress stays at 1.
    slow = Path(storages["vault"].path(posts[1].art.name))
    slow.unlink()
    os.mkfifo(slow)
    trickle = _Trickle(slow)
    trickle.start()
    bdr = downloads.download_request_create(
        user=owner,
        post_ids=[post.pk for post in posts],
        include_comments=False,
        include_reactions=False,
        send_email=False,
    )
    log_dir = Path(session_vault).parent
    env = {"PMD_VAULT_ROOT": str(session_vault), "PMD_BDR_LEASE_SECONDS": str(LEASE_SECONDS)}
    first = CeleryWorker(queue=celery_test_queue, log_dir=log_dir, **env).start()
    folder = Path(storages["vault"].path(f"bdr/{user_sqid(owner.pk)}"))
    try:
        _wait(lambda: _row(bdr).progress == 1, "copying the second artwork")
        # A long single file: progress does not move, the heartbeat does, and
        # recovery leaves the live build alone for longer than a lease.
        beats = {_row(bdr).heartbeat_at}
        deadline = time.monotonic() + LEASE_SECONDS + 2
        while time.monotonic() < deadline:
            assert cleanup.downloads_recover().taken_back == 0
            beats.add(_row(bdr).heartbeat_at)
            time.sleep(0.5)
        assert _row(bdr).progress == 1
        assert len(beats) >= LEASE_SECONDS
        [crashed_temp] = folder.glob(f".{bdr.pk}.*{storage.TEMP_SUFFIX}")
        first.process.send_signal(signal.SIGKILL)
        first.process.wait(timeout=10)
        killed_at = time.monotonic()
    finally:
        trickle.stop.set()
        first.stop()

    row = _row(bdr)
    assert row.status == Status.PROCESSING
    assert not storages["vault"].exists(storage.zip_name(bdr))  # nothing half-built published
    slow.unlink()
    slow.write_bytes(b"\x89PNG\r\n\x1a\n" + b"x" * 100)

    second = CeleryWorker(queue=celery_test_queue, log_dir=log_dir, **env).start()
    try:
        # Nothing is backdated: the dead build's heartbeat goes quiet, and the
        # recovery job (every 30 s in production) takes it over a lease later.
        while cleanup.downloads_recover().taken_back == 0:
            assert time.monotonic() - killed_at < LEASE_SECONDS + 5
            time.sleep(0.5)
        taken_after = time.monotonic() - killed_at
        _wait(lambda: _row(bdr).status == Status.READY, "ready")
    finally:
        second.stop()

    assert LEASE_SECONDS - 1 <= taken_after < LEASE_SECONDS + 5
    assert taken_after < settings.CELERY_TASK_TIME_LIMIT  # not the old threshold
    bdr.refresh_from_db()
    assert bdr.artwork_count == 3
    assert open_zip(bdr).testzip() is None
    # The crashed build's temporary file goes with the next cleanup: it has
    # not been written to for a lease.
    _wait(lambda: time.time() - crashed_temp.stat().st_mtime > LEASE_SECONDS, "quiet", 20)
    assert cleanup.downloads_cleanup().temp_files_deleted == 1
    assert not crashed_temp.exists()
    chaos(
        fault="the worker is killed (SIGKILL) while copying one long artwork",
        user_saw="Processing, then Ready once another worker took the request over",
        end_state=(
            f"taken over {taken_after:.1f} s after the kill (lease {LEASE_SECONDS} s, "
            "not the task time limit); ZIP complete; no partial file ever at the final path"
        ),
    )
