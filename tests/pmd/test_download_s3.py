"""The vault on S3-compatible object storage (PMD_VAULT_URL),
against moto's S3 server on loopback (testing/objectstore.py)."""

from __future__ import annotations

import io
import os
import re
import signal
import threading
import time
import uuid
import zipfile
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from django.core.files.storage import storages
from django.db import connection
from django.test import Client
from django.utils import timezone

from pmd import downloads
from pmd.downloads import build, cleanup, storage
from pmd.models import BatchDownloadRequest
from pmd.tasks import BUILD_MAX_RETRIES, process_bdr_job
from posts.files import STORE_UNAVAILABLE
from posts.models import Post
from posts.public_ids import user_sqid
from testing.factories import make_post, make_user
from testing.objectstore import vault_storage_config
from testing.services import require_redis
from testing.worker import CeleryWorker
from tests.headers import csp_directives
from tests.pmd.bdr_helpers import make_bdr

Status = BatchDownloadRequest.Status


def _run_key_pattern(bdr) -> re.Pattern:
    return re.compile(
        rf"bdr/{user_sqid(bdr.user_id)}/{bdr.pk}/\d{{8}}T\d{{12}}Z-[0-9a-f]{{8}}\.zip"
    )


def _ready(owner, posts, **fields) -> BatchDownloadRequest:
    bdr = make_bdr(owner, posts, **fields)
    assert build.download_request_build(bdr.pk) == "ready"
    bdr.refresh_from_db()
    return bdr


def _scratch_files(s3_vault) -> list[str]:
    return sorted(p.name for p in s3_vault.scratch.iterdir()) if s3_vault.scratch.exists() else []


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_builds_the_zip_in_scratch_and_publishes_it_to_the_bucket(
    s3_vault, session_vault, celery_test_queue, tmp_path
):
    require_redis()
    owner = make_user("sasha")
    posts = [make_post(owner) for _ in range(3)]
    # The artworks are in the bucket, not in any local folder.
    assert s3_vault.keys("art/") == sorted(post.art.name for post in posts)
    worker_scratch = tmp_path / "worker-scratch"
    worker = CeleryWorker(
        queue=celery_test_queue,
        log_dir=Path(session_vault).parent,
        **{**s3_vault.env, "PMD_SCRATCH_DIR": str(worker_scratch)},
    ).start()
    try:
        bdr = downloads.download_request_create(
            user=owner,
            post_ids=[post.pk for post in posts],
            include_comments=True,
            include_reactions=False,
            send_email=False,
        )
        deadline = time.monotonic() + 60
        while (row := BatchDownloadRequest.objects.get(pk=bdr.pk)).status != Status.READY:
            assert row.status in (Status.PENDING, Status.PROCESSING), row.error_message
            assert time.monotonic() < deadline, worker.log_tail()
            time.sleep(0.1)
    finally:
        worker.stop()

    assert _run_key_pattern(row).fullmatch(row.file_path)
    assert s3_vault.keys(f"bdr/{user_sqid(owner.pk)}/{row.pk}/") == [row.file_path]
    body = s3_vault.read(row.file_path)
    assert row.file_size_bytes == len(body)
    archive = zipfile.ZipFile(io.BytesIO(body))
    assert archive.testzip() is None
    for post in posts:
        name = f"artworks/{post.public_sqid}.png"
        assert archive.read(name) == s3_vault.read(post.art.name)
    assert "comments.json" in archive.namelist()
    # No ZIP is left on the worker's disk once published (hosts stay disposable), and
    # nothing was written to a local vault.
    assert list(worker_scratch.iterdir()) == []
    assert not (Path(session_vault) / "bdr" / user_sqid(owner.pk)).exists()


@pytest.mark.django_db
class TestRedirects:
    def test_a_download_is_a_presigned_redirect_to_the_same_bytes_with_range(
        self, s3_vault, owner, owner_client, other_client
    ):
        bdr = _ready(owner, [make_post(owner), make_post(owner)])
        url = f"/api/pmd/bdr/{bdr.pk}/download"

        response = owner_client.get(url)

        assert response.status_code == 302
        location = response["Location"]
        assert location.startswith(f"{s3_vault.endpoint.url}/{s3_vault.endpoint.bucket}/")
        assert "X-Amz-Signature=" in location and "X-Amz-Expires=300" in location
        assert response["Cache-Control"] == "private, no-cache"
        fetched = httpx.get(location)
        assert fetched.status_code == 200
        assert fetched.content == s3_vault.read(bdr.file_path)
        assert fetched.headers["Content-Type"] == "application/zip"
        name = downloads.attachment_name(bdr)
        assert fetched.headers["Content-Disposition"] == f'attachment; filename="{name}"'
        # Resuming: the store answers Range itself.
        part = httpx.get(location, headers={"Range": "bytes=10-99"})
        assert part.status_code == 206
        assert part.content == fetched.content[10:100]
        # HEAD gets a URL signed for HEAD.
        head = owner_client.head(url)
        assert head.status_code == 302
        assert httpx.head(head["Location"]).headers["Content-Length"] == str(len(fetched.content))
        # Another user learns nothing, and gets no URL.
        stranger = other_client.get(url)
        assert stranger.status_code == 404
        assert "Location" not in stranger

    def test_a_download_whose_object_is_gone_is_410_not_a_redirect(
        self, s3_vault, owner, owner_client
    ):
        bdr = _ready(owner, [make_post(owner)])
        s3_vault.endpoint.client().delete_object(
            Bucket=s3_vault.endpoint.bucket, Key=s3_vault.key(bdr.file_path)
        )
        response = owner_client.get(f"/api/pmd/bdr/{bdr.pk}/download")
        assert response.status_code == 410
        assert "Location" not in response

    def test_art_redirects_for_the_owner_and_visible_posts_and_404s_strangers_on_hidden_art(
        self, s3_vault, owner, owner_client, other_client
    ):
        visible = make_post(owner)
        hidden = make_post(owner, hidden_by_user=True)
        anonymous = Client()

        for client, post in ((anonymous, visible), (other_client, visible), (owner_client, hidden)):
            response = client.get(post.art_url)
            assert response.status_code == 302, (client, post)
            assert response["Cache-Control"] == "private, max-age=150"  # half the URL's life
            image = httpx.get(response["Location"])
            assert image.status_code == 200
            assert image.content == s3_vault.read(post.art.name)
            assert image.headers["Content-Type"] == "image/png"
            assert "Content-Disposition" not in image.headers

        for client in (anonymous, other_client):
            response = client.get(hidden.art_url)
            assert response.status_code == 404
            assert "Location" not in response
            assert s3_vault.endpoint.url.encode() not in response.content

    def test_pages_allow_the_bucket_as_an_image_source_and_nothing_more(
        self, s3_vault, owner, owner_client
    ):
        post = make_post(owner)
        redirect = owner_client.get(post.art_url)["Location"]
        page = owner_client.get(f"/u/{user_sqid(owner.pk)}/posts")
        directives = csp_directives(page["Content-Security-Policy"])
        bucket = "/".join(redirect.split("/")[:3])  # scheme://host:port of the redirect
        assert bucket == s3_vault.endpoint.url
        assert directives["img-src"] == ["'self'", "data:", bucket]
        assert directives["script-src"] == ["'self'"]
        assert directives["connect-src"] == ["'self'"]

    def test_a_store_that_does_not_answer_is_a_503_never_a_500(
        self, s3_vault, settings, owner, owner_client, s3_endpoint
    ):
        post = make_post(owner)
        bdr = _ready(owner, [post])
        down = vault_storage_config(s3_endpoint, s3_vault.prefix)
        down["OPTIONS"]["endpoint_url"] = "http://127.0.0.1:9"  # nothing listens there
        settings.STORAGES = {**settings.STORAGES, "vault": down}

        for url in (f"/api/pmd/bdr/{bdr.pk}/download", post.art_url):
            response = owner_client.get(url)
            assert response.status_code == 503
            assert response.json() == {"error": STORE_UNAVAILABLE}
            assert response["Retry-After"] == "30"


def _staff_client(staff) -> Client:
    client = Client()
    client.force_login(staff)
    return client


@pytest.mark.django_db
class TestStoreFaults:
    def test_credentials_that_cannot_be_found_leave_pages_up_and_name_the_vault(
        self, s3_vault, s3_endpoint, settings, monkeypatch, owner, owner_client, staff
    ):
        post = make_post(owner)
        # No key in the settings, the environment or ~/.aws, and no instance
        # role to ask: boto3's chain finds nothing.
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
        monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/config")
        monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
        keyless = vault_storage_config(s3_endpoint, s3_vault.prefix)
        keyless["OPTIONS"].update(access_key=None, secret_key=None)
        settings.STORAGES = {**settings.STORAGES, "vault": keyless}

        assert Client().get("/health/live").status_code == 200
        for client, url in (
            (Client(), "/accounts/login/"),
            (owner_client, f"/u/{user_sqid(owner.pk)}/"),
            (owner_client, f"/u/{user_sqid(owner.pk)}/posts"),
        ):
            page = client.get(url)
            assert page.status_code == 200, url
            # Still an image source: the origin comes from the settings.
            img_src = csp_directives(page["Content-Security-Policy"])["img-src"]
            assert img_src == ["'self'", "data:", s3_endpoint.url]
        art = owner_client.get(post.art_url)
        assert art.status_code == 503
        assert art.json() == {"error": STORE_UNAVAILABLE}
        assert art["Retry-After"] == "30"
        ready = _staff_client(staff).get("/health/ready")
        assert ready.status_code == 503
        assert ready.json()["checks"]["vault"] == (
            "Unavailable: the vault's bucket: no credentials for the object store could be found"
        )
        assert ready.json()["checks"]["database"] == "OK"

    def test_the_url_browsers_follow_is_signed_for_the_public_address(
        self, s3_vault, s3_endpoint, settings, owner, owner_client
    ):
        # The processes reach the store at 127.0.0.1; browsers by name.
        public = s3_endpoint.url.replace("127.0.0.1", "localhost")
        settings.PMD_VAULT_PUBLIC_URL = public
        post = make_post(owner)
        bdr = _ready(owner, [post])

        for url, name in (
            (post.art_url, post.art.name),
            (f"/api/pmd/bdr/{bdr.pk}/download", bdr.file_path),
        ):
            response = owner_client.get(url)
            assert response.status_code == 302
            assert response["Location"].startswith(f"{public}/{s3_endpoint.bucket}/")
            assert httpx.get(response["Location"]).content == s3_vault.read(name)
        page = owner_client.get(f"/u/{user_sqid(owner.pk)}/posts")
        img_src = csp_directives(page["Content-Security-Policy"])["img-src"]
        assert img_src == ["'self'", "data:", public]


@pytest.mark.fault
@pytest.mark.django_db(transaction=True)
def test_a_store_that_hangs_is_a_503_with_retry_after_within_seconds(
    s3_vault, s3_endpoint, owner, owner_client, chaos
):
    post = make_post(owner)
    bdr = _ready(owner, [post])
    urls = [post.art_url, f"/api/pmd/bdr/{bdr.pk}/download"]
    assert [owner_client.get(url).status_code for url in urls] == [302, 302]
    answers: dict[str, tuple[float, object]] = {}

    def fetch(url: str) -> None:
        started = time.monotonic()
        try:
            response = owner_client.get(url)
        finally:
            connection.close()
        answers[url] = (time.monotonic() - started, response)

    # The store's process stops: connections are accepted, nothing is answered.
    os.kill(s3_endpoint.server.process.pid, signal.SIGSTOP)
    try:
        threads = [threading.Thread(target=fetch, args=(url,)) for url in urls]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        os.kill(s3_endpoint.server.process.pid, signal.SIGCONT)

    assert sorted(answers) == sorted(urls)
    for url, (took, response) in answers.items():
        assert response.status_code == 503, url
        assert response.json() == {"error": STORE_UNAVAILABLE}
        assert response["Retry-After"] == "30"
        assert took < 10, f"{url} answered after {took:.1f} s"
    # Back, it answers again.
    assert [owner_client.get(url).status_code for url in urls] == [302, 302]
    slowest = max(took for took, _ in answers.values())
    chaos(
        fault="the object store hangs (its process stopped) during artwork and download requests",
        user_saw=f"503 “The file store is not answering…” with Retry-After after {slowest:.1f} s",
        end_state="nothing changed; the next request after the store is back is answered",
    )


@pytest.mark.django_db
class TestPublishAndCleanup:
    def test_the_loser_of_two_runs_deletes_its_own_key(
        self, s3_vault, owner, settings, monkeypatch
    ):
        bdr = make_bdr(owner, [make_post(owner)])
        first, first_lease = build.download_request_claim(bdr.pk)
        # Its worker looks dead: another run takes the request over and publishes.
        quiet = first_lease - timedelta(seconds=settings.PMD_BDR_LEASE_SECONDS + 1)
        BatchDownloadRequest.objects.filter(pk=bdr.pk).update(started_at=quiet, heartbeat_at=quiet)
        assert build.download_request_build(bdr.pk) == "ready"
        bdr.refresh_from_db()
        winner = bdr.file_path
        # The first run's ZIP was finished and uploaded before it noticed.
        with monkeypatch.context() as patched:
            patched.setattr(build, "_save_progress", lambda *args: None)
            first_result, first_staged = build.build_and_stage(first, first_lease, handle="alice")
        assert sorted(s3_vault.keys(f"bdr/{user_sqid(owner.pk)}/")) == sorted(
            [winner, first_staged.name]
        )

        assert build.publish(first, first_lease, first_result, first_staged) == "superseded"

        assert s3_vault.keys(f"bdr/{user_sqid(owner.pk)}/") == [winner]
        bdr.refresh_from_db()
        assert (bdr.status, bdr.file_path) == (Status.READY, winner)
        assert _scratch_files(s3_vault) == []

    def test_expiry_deletes_the_object_and_what_other_runs_left(
        self, s3_vault, owner, django_capture_on_commit_callbacks
    ):
        due = _ready(owner, [make_post(owner)])
        fresh = _ready(owner, [make_post(owner)])
        # A run that died between its upload and its publish left a key behind.
        stray = f"bdr/{user_sqid(owner.pk)}/{due.pk}/20260101T000000000000Z-deadbeef.zip"
        storages["vault"].save(stray, io.BytesIO(b"PK"))
        # And one killed while uploading, an upload never finished.
        store = s3_vault.endpoint.client()
        store.create_multipart_upload(
            Bucket=s3_vault.endpoint.bucket, Key=s3_vault.key(stray.replace("dead", "beef"))
        )
        BatchDownloadRequest.objects.filter(pk=due.pk).update(
            expires_at=timezone.now() - timedelta(minutes=1)
        )

        with django_capture_on_commit_callbacks(execute=True):
            result = cleanup.downloads_cleanup()

        assert result.expired == 1
        due.refresh_from_db()
        assert (due.status, due.file_path) == (Status.EXPIRED, "")
        assert s3_vault.keys(f"bdr/{user_sqid(owner.pk)}/") == [fresh.file_path]
        unfinished = store.list_multipart_uploads(
            Bucket=s3_vault.endpoint.bucket, Prefix=s3_vault.key("bdr/")
        )
        assert unfinished.get("Uploads", []) == []

    def test_an_expiry_whose_delete_failed_is_finished_by_the_next_cleanup(
        self, s3_vault, settings, s3_endpoint, owner, django_capture_on_commit_callbacks
    ):
        bdr = _ready(owner, [make_post(owner)])
        working = settings.STORAGES["vault"]
        down = vault_storage_config(s3_endpoint, s3_vault.prefix)
        down["OPTIONS"]["endpoint_url"] = "http://127.0.0.1:9"
        settings.STORAGES = {**settings.STORAGES, "vault": down}
        with django_capture_on_commit_callbacks(execute=True):
            assert downloads.download_request_expire(bdr=bdr) is True
        bdr.refresh_from_db()
        # Expired for the person, but the row still names the object to delete.
        assert (bdr.status, bdr.file_path) != (Status.EXPIRED, "")
        assert bdr.status == Status.EXPIRED

        settings.STORAGES = {**settings.STORAGES, "vault": working}
        assert cleanup.downloads_cleanup().files_deleted == 1
        bdr.refresh_from_db()
        assert bdr.file_path == ""
        assert s3_vault.keys(f"bdr/{user_sqid(owner.pk)}/") == []


@pytest.mark.django_db
class TestStoreErrors:
    def test_a_store_error_retries_and_then_fails_with_a_clear_message(
        self, s3_vault, settings, s3_endpoint, owner, caplog
    ):
        bdr = make_bdr(owner, [make_post(owner)])
        missing_bucket = vault_storage_config(
            s3_endpoint, s3_vault.prefix, bucket="pmd-test-no-such-bucket"
        )
        settings.STORAGES = {**settings.STORAGES, "vault": missing_bucket}

        # apply() runs the task here, its retries included (without waiting).
        outcome = process_bdr_job.apply(args=[str(bdr.pk)]).get()

        assert outcome == "failed"
        bdr.refresh_from_db()
        assert (bdr.status, bdr.error_message) == (Status.FAILED, build.NOT_SAVED)
        transient = [
            record
            for record in caplog.records
            if record.name == "pmd.downloads.build" and "transient" in record.getMessage()
        ]
        assert len(transient) == BUILD_MAX_RETRIES + 1
        assert "NoSuchBucket" in caplog.text
        assert _scratch_files(s3_vault) == []

    def test_an_upload_that_fails_retries_and_leaves_nothing_behind(
        self, s3_vault, owner, monkeypatch
    ):
        bdr = make_bdr(owner, [make_post(owner)])
        # The artworks read fine; the bucket refuses the ZIP.
        monkeypatch.setattr(storage, "object_key", lambda store, name: "")
        with pytest.raises(build.TransientBuildError) as caught:
            build.download_request_build(bdr.pk)
        monkeypatch.undo()
        assert _scratch_files(s3_vault) == []
        assert s3_vault.keys("bdr/") == []

        assert build.download_request_build(bdr.pk, lease=caught.value.lease) == "ready"
        assert _scratch_files(s3_vault) == []

    def test_each_build_sweeps_scratch_files_that_crashed_builds_left(
        self, s3_vault, owner, settings
    ):
        s3_vault.scratch.mkdir(parents=True)
        crashed = s3_vault.scratch / f".{uuid.uuid4()}.x{storage.TEMP_SUFFIX}"
        recent = s3_vault.scratch / f".{uuid.uuid4()}.y{storage.TEMP_SUFFIX}"
        for path in (crashed, recent):
            path.write_bytes(b"PK")
        old = time.time() - settings.PMD_BDR_LEASE_SECONDS - 10
        os.utime(crashed, (old, old))
        _ready(owner, [make_post(owner)])
        assert _scratch_files(s3_vault) == [recent.name]


@pytest.mark.django_db
def test_seed_demo_puts_the_artwork_files_in_the_bucket(s3_vault):
    from django.core.management import call_command

    call_command(
        "seed_demo", "--user", "s3fan", "--posts", "12", "--no-playlists", stdout=io.StringIO()
    )
    names = sorted(
        Post.objects.filter(owner__username="s3fan").exclude(art="").values_list("art", flat=True)
    )
    assert len(names) == 12
    assert s3_vault.keys("art/") == names
    assert s3_vault.read(names[0])[:2] in (b"\x89P", b"GI", b"RI", b"BM")  # an image


@pytest.mark.django_db
def test_readiness_checks_the_bucket(s3_vault, settings, s3_endpoint, staff):
    client = Client()
    client.force_login(staff)
    assert client.get("/health/ready").json()["checks"]["vault"] == "OK"

    down = vault_storage_config(s3_endpoint, s3_vault.prefix)
    down["OPTIONS"]["endpoint_url"] = "http://127.0.0.1:9"
    settings.STORAGES = {**settings.STORAGES, "vault": down}
    response = client.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["checks"]["vault"] != "OK"
