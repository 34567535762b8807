"""Faults against the real services, with the end state checked in the
database and the vault. Each records its row of `make chaos`.

The worker crash, the broker outage and the web restart are tested beside
the features they hit (test_download_crash, test_download_e2e,
tests/browser/test_downloads_live) and report here too through `chaos`.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from django.core.files.storage import storages
from django.db import connection

from pmd import downloads
from pmd.downloads import build
from pmd.models import BatchDownloadRequest
from posts.public_ids import user_sqid
from testing.factories import make_post, make_user
from testing.live import free_port, session_cookies
from testing.services import missing, require_redis
from testing.worker import CeleryWorker, SmtpServer

pytestmark = [pytest.mark.fault, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

Status = BatchDownloadRequest.Status


def _wait_status(bdr, status: str, timeout: float = 60) -> BatchDownloadRequest:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        bdr.refresh_from_db()
        if bdr.status == status:
            return bdr
        time.sleep(0.1)
    raise AssertionError(f"{bdr.pk} is {bdr.status}, not {status}, after {timeout} s")


def _request(owner, posts, **options) -> BatchDownloadRequest:
    return downloads.download_request_create(
        user=owner,
        post_ids=[post.pk for post in posts],
        include_comments=options.get("include_comments", False),
        include_reactions=False,
        send_email=options.get("send_email", False),
    )


def test_an_email_smtp_refused_is_retried_and_delivered_when_smtp_returns(
    session_vault, celery_test_queue, chaos
):
    require_redis()
    owner = make_user("sam")
    posts = [make_post(owner) for _ in range(2)]
    port = free_port()  # nothing listens here yet
    worker = CeleryWorker(
        queue=celery_test_queue,
        log_dir=Path(session_vault).parent,
        PMD_VAULT_ROOT=str(session_vault),
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(port),
        EMAIL_TIMEOUT="2",
        PMD_EMAIL_RETRY_BASE_SECONDS="1",
    ).start()
    smtp = None
    try:
        bdr = _wait_status(_request(owner, posts, send_email=True), Status.READY)
        deadline = time.monotonic() + 30
        while "email attempt 1 failed, will retry" not in worker.log_tail(20000):
            assert time.monotonic() < deadline, worker.log_tail()
            time.sleep(0.1)
        smtp = SmtpServer(port=port)
        smtp.controller.start()
        message = smtp.wait_for(lambda m: str(bdr.pk) in m.get_body(("plain",)).get_content(), 60)
    finally:
        worker.stop()
        if smtp:
            smtp.controller.stop()
    bdr.refresh_from_db()
    assert bdr.status == Status.READY  # the email's trouble never touched the request
    assert message["To"] == owner.email
    assert "ready" in message["Subject"].lower()
    chaos(
        fault="SMTP unreachable when the download is ready",
        user_saw="the download ready on the page at once; the email a retry later",
        end_state="ready; email delivered after SMTP came back",
    )


@pytest.fixture
def immutable_folder():
    """A folder not even root may write to (chattr +i), made writable again after."""
    if not shutil.which("chattr"):
        missing("chattr", "e2fsprogs is not installed")
    made: list[Path] = []

    def freeze(folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(["chattr", "+i", str(folder)], capture_output=True, text=True)
        if result.returncode:
            missing("an immutable folder", result.stderr.strip())
        made.append(folder)
        return folder

    yield freeze
    for folder in made:
        subprocess.run(["chattr", "-i", str(folder)], check=False)


def test_a_vault_that_cannot_be_written_fails_the_request_clearly_and_leaves_nothing(
    session_vault, celery_test_queue, immutable_folder, chaos
):
    require_redis()
    owner = make_user("vera")
    posts = [make_post(owner) for _ in range(2)]
    folder = immutable_folder(Path(storages["vault"].path(f"bdr/{user_sqid(owner.pk)}")))
    worker = CeleryWorker(
        queue=celery_test_queue,
        log_dir=Path(session_vault).parent,
        PMD_VAULT_ROOT=str(session_vault),
        PMD_BUILD_RETRY_BASE_SECONDS="0",
    ).start()
    try:
        bdr = _wait_status(_request(owner, posts), Status.FAILED)
    finally:
        worker.stop()
    assert bdr.error_message == build.NOT_SAVED
    assert "Traceback" not in bdr.error_message and "Errno" not in bdr.error_message
    assert (bdr.file_path, bdr.file_size_bytes) == ("", None)
    assert list(folder.iterdir()) == []  # no partial or temporary file anywhere
    chaos(
        fault="the vault cannot be written",
        user_saw=f"Failed: “{bdr.error_message}” (after retries), with Retry",
        end_state="failed with that message; no file left in the vault",
    )


@pytest.mark.postgresql_only
def test_the_next_request_succeeds_after_the_database_drops_its_connections(
    asgi_server, owner, chaos
):
    make_post(owner, write_file=False)
    client = httpx.Client(base_url=asgi_server.url, cookies=session_cookies(owner), timeout=10)
    with client:
        assert client.get("/api/pmd/posts").status_code == 200
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            cursor.fetchone()
        response = client.get("/api/pmd/posts")
    assert response.status_code == 200
    assert response.json()["total_count"] == 1
    chaos(
        fault="PostgreSQL drops every connection between two requests",
        user_saw="nothing: the next request answered 200",
        end_state="each request opens a fresh connection (health checks on)",
    )
