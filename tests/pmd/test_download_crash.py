"""A worker that dies mid-build (SIGKILL): nothing is published half-built,
and the request is taken over by another worker once its heartbeat lease
runs out, within minutes rather than after the task time limit (no request
is ever lost); in a bucket, the dead run's unfinished upload goes too."""

from __future__ import annotations

import io
import os
import signal
import threading
import time
import zipfile
from pathlib import Path

import pytest
from django.core.files.storage import storages

from pmd import downloads
from pmd.downloads import cleanup, storage
from pmd.models import BatchDownloadRequest
from posts.public_ids import user_sqid
from testing.factories import make_post, make_user
from testing.objectstore import SlowLink
from testing.services import require_redis
from testing.worker import CeleryWorker
from tests.pmd.bdr_helpers import open_zip

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


def _request(owner, posts) -> BatchDownloadRequest:
    return downloads.download_request_create(
        user=owner,
        post_ids=[post.pk for post in posts],
        include_comments=False,
        include_reactions=False,
        send_email=False,
    )


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
    bdr = _request(owner, posts)
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


def test_a_build_killed_mid_upload_to_the_bucket_is_taken_over_and_leaves_one_object(
    s3_vault, s3_endpoint, session_vault, celery_test_queue, settings, tmp_path, chaos
):
    require_redis()
    settings.PMD_BDR_LEASE_SECONDS = LEASE_SECONDS
    owner = make_user("vera")
    posts = [make_post(owner) for _ in range(2)]
    # Artworks of 5 MiB that do not compress: a 10 MiB ZIP, uploaded in two parts.
    store = s3_endpoint.client()
    for post in posts:
        body = b"\x89PNG\r\n\x1a\n" + os.urandom(5 * 1024 * 1024)
        store.put_object(Bucket=s3_endpoint.bucket, Key=s3_vault.key(post.art.name), Body=body)
    bdr = _request(owner, posts)
    under = f"bdr/{user_sqid(owner.pk)}/{bdr.pk}/"

    def unfinished_uploads() -> list:
        answer = store.list_multipart_uploads(Bucket=s3_endpoint.bucket, Prefix=s3_vault.key(under))
        return answer.get("Uploads", [])

    log_dir = Path(session_vault).parent
    env = {**s3_vault.env, "PMD_BDR_LEASE_SECONDS": str(LEASE_SECONDS)}
    # The first worker reaches the store over a slow link (1 MiB/s up): its
    # upload is in flight for seconds, and it is killed then.
    link = SlowLink(s3_endpoint.server.port, rate=1024 * 1024)
    first = CeleryWorker(
        queue=celery_test_queue,
        log_dir=log_dir,
        **{**env, "AWS_S3_ENDPOINT_URL": link.url, "PMD_SCRATCH_DIR": str(tmp_path / "first")},
    ).start()
    try:
        _wait(unfinished_uploads, "uploading the ZIP", 60)
        first.process.send_signal(signal.SIGKILL)
        first.process.wait(timeout=10)
        killed_at = time.monotonic()
    finally:
        first.stop()
        link.close()

    assert _row(bdr).status == Status.PROCESSING
    assert s3_vault.keys(under) == []  # nothing half-uploaded is an object
    assert len(unfinished_uploads()) == 1

    second = CeleryWorker(queue=celery_test_queue, log_dir=log_dir, **env).start()
    try:
        while cleanup.downloads_recover().taken_back == 0:
            assert time.monotonic() - killed_at < LEASE_SECONDS + 5
            time.sleep(0.5)
        _wait(lambda: _row(bdr).status == Status.READY, "ready")
        # The run that published aborts the dead run's upload right after.
        _wait(lambda: not unfinished_uploads(), "the killed run's upload aborted", 10)
    finally:
        second.stop()

    row = _row(bdr)
    assert s3_vault.keys(under) == [row.file_path]
    archive = zipfile.ZipFile(io.BytesIO(s3_vault.read(row.file_path)))
    assert archive.testzip() is None
    assert row.artwork_count == 2
    chaos(
        fault="on object storage, the worker is killed (SIGKILL) while uploading the ZIP",
        user_saw="Processing, then Ready once another worker took the request over",
        end_state=(
            "ready; exactly one object under the request's prefix, the killed "
            "upload aborted (no parts left billed)"
        ),
    )
