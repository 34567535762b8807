"""Download requests end to end, as a person would use them: a real uvicorn,
a real Celery worker, Redis, the database and a real SMTP server."""

from __future__ import annotations

import io
import json
import time
import zipfile
from datetime import timedelta

import httpx
import pytest
from django.conf import settings
from django.core.files.storage import storages
from django.utils import timezone

from pmd.downloads import cleanup
from pmd.models import BatchDownloadRequest
from pmd.tasks import cleanup_expired_bdrs
from posts.public_ids import user_sqid
from testing.factories import PASSWORD, make_comment, make_post, make_reaction, make_user
from testing.live import AsgiServer, free_port
from testing.worker import TEST_QUEUE

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

Status = BatchDownloadRequest.Status


def _log_in(base_url: str, username: str) -> httpx.Client:
    """An HTTP client logged in through the real login form."""
    client = httpx.Client(base_url=base_url, timeout=30)
    page = client.get("/accounts/login/")
    assert page.status_code == 200
    response = client.post(
        "/accounts/login/",
        data={
            "username": username,
            "password": PASSWORD,
            "csrfmiddlewaretoken": client.cookies[settings.CSRF_COOKIE_NAME],
        },
    )
    assert response.status_code == 302, response.text[:500]
    return client


def _csrf(client: httpx.Client) -> dict[str, str]:
    return {"X-CSRFToken": client.cookies[settings.CSRF_COOKIE_NAME]}


def _wait_for(client: httpx.Client, bdr_id: str, status: str, timeout: float = 60) -> list[dict]:
    """Poll the request until it has `status`; every item seen on the way."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        item = client.get(f"/api/pmd/bdr/{bdr_id}").json()
        seen.append(item)
        if item["status"] == status:
            return seen
        time.sleep(0.2)
    raise AssertionError(f"not {status} within {timeout} s: {seen[-1]}")


def test_a_request_is_built_emailed_and_downloaded(celery_worker, bdr_web_server, smtp_server):
    owner = make_user("frank")
    fan = make_user("gina")
    posts = [make_post(owner, file_format=("png", "gif", "webp", "bmp")[n % 4]) for n in range(20)]
    posts[3].title = "🌈 " + "very long title " * 15
    posts[3].description = ""
    posts[3].save()
    comment = make_comment(posts[0], author=fan, body="So good 😍")
    make_comment(posts[0], author=fan, body="spam", hidden_by_mod=True)
    make_reaction(posts[0], fan, "🔥")
    make_reaction(posts[0], owner, "🔥")
    make_reaction(posts[1], fan, "⭐")
    client = _log_in(bdr_web_server.url, "frank")

    response = client.post(
        "/api/pmd/bdr",
        json={
            "post_ids": [post.pk for post in posts],
            "include_comments": True,
            "include_reactions": True,
            "send_email": True,
        },
        headers=_csrf(client),
    )
    assert response.status_code == 201, response.text
    bdr_id = response.json()["id"]
    assert response.json()["status"] == "pending"

    seen = _wait_for(client, bdr_id, "ready")
    ready = seen[-1]
    assert ready["artwork_count"] == ready["progress"] == 20
    assert ready["download_url"] == f"/api/pmd/bdr/{bdr_id}/download"
    assert [item["progress"] for item in seen] == sorted(item["progress"] for item in seen)

    # The email arrives with a working link to the dashboard, scrolled to it.
    email = smtp_server.wait_for(lambda m: bdr_id in m.get_body(("plain",)).get_content())
    assert email["To"] == "frank@example.com"
    assert email["Subject"] == "Your download of 20 artworks is ready"
    link = f"{bdr_web_server.url}/u/{user_sqid(owner.pk)}/posts?bdr={bdr_id}"
    assert link in email.get_body(("plain",)).get_content()
    assert f'href="{link}"' in email.get_body(("html",)).get_content()
    assert client.get(link).status_code == 200

    # The download, over HTTP from the ASGI server.
    with client.stream("GET", ready["download_url"]) as download:
        assert download.status_code == 200
        assert download.headers["Content-Type"] == "application/zip"
        assert download.headers["Content-Disposition"].startswith(
            'attachment; filename="pixelposts-'
        )
        assert download.headers["Content-Disposition"].endswith('-20-artworks.zip"')
        body = download.read()
    assert int(download.headers["Content-Length"]) == len(body)
    bdr = BatchDownloadRequest.objects.get(pk=bdr_id)
    assert bdr.file_size_bytes == len(body)

    archive = zipfile.ZipFile(io.BytesIO(body))
    assert archive.testzip() is None
    names = [f"artworks/{post.public_sqid}.{post.file_format}" for post in posts]
    assert archive.namelist() == [*names, "metadata.json", "comments.json", "reactions.json"]
    for post, name in zip(posts, names, strict=True):
        assert archive.getinfo(name).compress_type == zipfile.ZIP_STORED
        with storages["vault"].open(post.art.name, "rb") as original:
            assert archive.read(name) == original.read()

    metadata = json.loads(archive.read("metadata.json"))
    assert metadata["user_handle"] == "frank"
    assert metadata["artwork_count"] == 20
    assert metadata["missing"] == []
    for post, item in zip(posts, metadata["artworks"], strict=True):
        post.refresh_from_db()
        assert item == {
            "sqid": post.public_sqid,
            "filename": f"artworks/{post.public_sqid}.{post.file_format}",
            "title": post.title,
            "description": post.description,
            "created_at": post.created_at.isoformat(),
            "width": post.width,
            "height": post.height,
            "frame_count": post.frame_count,
            "file_format": post.file_format,
            "file_bytes": post.file_bytes,
            "hashtags": post.hashtag_list,
            "license": post.license_id,
        }
    comments = json.loads(archive.read("comments.json"))["comments_by_artwork"]
    assert comments[posts[0].public_sqid] == [
        {
            "id": comment.pk,
            "author_handle": "gina",
            "body": "So good 😍",
            "created_at": comment.created_at.isoformat(),
        }
    ]
    assert all(comments[post.public_sqid] == [] for post in posts[1:])
    reactions = json.loads(archive.read("reactions.json"))["reactions_by_artwork"]
    assert reactions[posts[0].public_sqid] == {"🔥": 2}
    assert reactions[posts[1].public_sqid] == {"⭐": 1}

    # After the TTL: 410 at once, and cleanup removes the file but keeps the row.
    BatchDownloadRequest.objects.filter(pk=bdr_id).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert client.get(ready["download_url"]).status_code == 410
    cleanup_expired_bdrs.delay()
    expired = _wait_for(client, bdr_id, "expired")[-1]
    assert expired["download_url"] is None
    # Expiry is announced first; the file goes next and its name is cleared
    # after that, so both are awaited.
    zip_path = bdr.file_path
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        bdr.refresh_from_db()
        if not storages["vault"].exists(zip_path) and bdr.file_path == "":
            break
        time.sleep(0.1)
    assert not storages["vault"].exists(zip_path)
    assert (bdr.status, bdr.file_path) == (Status.EXPIRED, "")


@pytest.mark.fault
def test_a_request_made_while_the_broker_was_down_is_built_after_recovery(
    celery_worker, session_vault, chaos
):
    owner = make_user("hugo")
    posts = [make_post(owner) for _ in range(3)]
    # A web process whose broker is unreachable (nothing listens on the port).
    dead = f"redis://127.0.0.1:{free_port()}/0"
    server = AsgiServer(
        PMD_VAULT_ROOT=str(session_vault),
        CELERY_BROKER_URL=dead,
        CELERY_TASK_DEFAULT_QUEUE=TEST_QUEUE,
    ).start()
    try:
        client = _log_in(server.url, "hugo")
        started = time.monotonic()
        response = client.post(
            "/api/pmd/bdr", json={"post_ids": [p.pk for p in posts]}, headers=_csrf(client)
        )
        took = time.monotonic() - started
    finally:
        server.stop()
    assert response.status_code == 201, response.text
    assert "queued" in response.json()["message"]
    assert took < 10, f"the request hung for {took:.1f} s on the dead broker"
    bdr = BatchDownloadRequest.objects.get(pk=response.json()["id"])
    assert bdr.status == Status.PENDING
    # No worker ever heard of it: the web process said it could not enqueue.
    assert f"could not enqueue bdr {bdr.pk}; recovery will" in server.log_path.read_text()

    # The periodic recovery job, once the request has waited past the threshold.
    later = timezone.now() + timedelta(seconds=settings.PMD_BDR_PENDING_RECOVERY_SECONDS + 1)
    assert cleanup.downloads_recover(now=later).requeued_pending == 1

    deadline = time.monotonic() + 60
    while bdr.status != Status.READY and time.monotonic() < deadline:
        time.sleep(0.2)
        bdr.refresh_from_db()
    assert bdr.status == Status.READY, celery_worker.log_tail()
    assert bdr.artwork_count == 3
    chaos(
        fault="Redis unreachable when a download is requested",
        user_saw="201 “…queued…” at once (no hang), the request listed as Pending",
        end_state="pending, re-enqueued by the recovery job, then ready",
    )
