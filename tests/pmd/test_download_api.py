"""The download request endpoints of the JSON API."""

from __future__ import annotations

import base64
import json
import threading
import uuid
from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.core.files.storage import storages
from django.db import connection
from django.test import Client
from django.urls import Resolver404, resolve
from django.utils import timezone

from pmd import downloads
from pmd.downloads import build, selectors
from pmd.models import BatchDownloadRequest
from posts.models import Post
from testing.factories import make_post, make_user
from testing.services import require_redis
from testing.worker import TEST_QUEUE, queued_messages
from tests.pmd.bdr_helpers import make_bdr

Status = BatchDownloadRequest.Status
URL = "/api/pmd/bdr"
ITEM_FIELDS = {
    "id",
    "status",
    "artwork_count",
    "part",
    "parts",
    "progress",
    "created_at",
    "started_at",
    "completed_at",
    "expires_at",
    "error_message",
    "download_url",
}


def _bulk_posts(owner, count: int, **fields) -> list[Post]:
    """Rows without files: enough for the request checks, which never read files."""
    now = timezone.now()
    return Post.objects.bulk_create(
        Post(
            owner=owner,
            title=f"Bulk {index}",
            created_at=now - timedelta(seconds=index),
            width=8,
            height=8,
            file_format="png",
            file_bytes=100,
            art=f"art/bulk/{index}.png",
            **fields,
        )
        for index in range(count)
    )


def _post(client: Client, body, **headers):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(URL, data=data, content_type="application/json", headers=headers)


def _ready(owner, **fields) -> BatchDownloadRequest:
    """A ready request with a built ZIP."""
    bdr = make_bdr(owner, [make_post(owner)], **fields)
    assert build.download_request_build(bdr.pk) == "ready"
    bdr.refresh_from_db()
    return bdr


def _queued_tasks() -> list[tuple[str, str]]:
    """(task name, args) of the messages waiting in this run's queue."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    found = []
    for raw in client.lrange(TEST_QUEUE, 0, -1):
        message = json.loads(raw)
        body = json.loads(base64.b64decode(message["body"]))
        found.append((message["headers"]["task"], body[0]))
    return found


class TestCreate:
    def test_it_creates_a_pending_request_and_enqueues_it_only_after_commit(
        self, owner, owner_client, django_capture_on_commit_callbacks, empty_test_queue
    ):
        require_redis()
        posts = _bulk_posts(owner, 3)
        ids = [posts[2].pk, posts[0].pk, posts[1].pk]
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            response = _post(
                owner_client,
                {
                    "post_ids": ids,
                    "include_comments": True,
                    "include_reactions": False,
                    "send_email": True,
                },
            )
        assert response.status_code == 201
        body = response.json()
        bdr = BatchDownloadRequest.objects.get()
        assert body == {
            "id": str(bdr.pk),
            "status": "pending",
            "artwork_count": 3,
            "part": None,
            "parts": None,
            "created_at": bdr.created_at.isoformat(),
            "message": (
                "Download of 3 artworks requested. It is queued and will be built in the "
                "background. We will email you when it is ready. 7 of 8 requests left today."
            ),
            "requests_left": 7,
        }
        assert bdr.post_ids == ids
        assert (bdr.include_comments, bdr.include_reactions, bdr.send_email) == (True, False, True)
        # The transaction has not committed (the test's own is still open):
        # nothing may be on the queue yet.
        assert queued_messages() == 0
        for callback in callbacks:
            callback()
        assert _queued_tasks() == [("pmd.tasks.process_bdr_job", [str(bdr.pk)])]

    def test_it_accepts_128_posts(self, owner, owner_client):
        posts = _bulk_posts(owner, 128)
        response = _post(owner_client, {"post_ids": [post.pk for post in posts]})
        assert response.status_code == 201
        assert response.json()["artwork_count"] == 128
        assert BatchDownloadRequest.objects.get().artwork_count == 128

    @pytest.mark.parametrize(
        ("body", "message"),
        [
            ("not json", "must be JSON"),
            ("[1, 2]", "must be a JSON object"),
            ({}, "post_ids must be a list"),
            ({"post_ids": []}, "Select at least one post"),
            ({"post_ids": ["1"]}, "'1' is not one"),
            ({"post_ids": [1.5]}, "1.5 is not one"),
            ({"post_ids": "OWN", "include_comments": "yes"}, "include_comments must be true"),
            ({"post_ids": "OWN", "send_email": 1}, "send_email must be true or false"),
            ({"post_ids": "OWN", "include_reactions": None}, "include_reactions must be true"),
        ],
    )
    def test_it_refuses_malformed_input_and_changes_nothing(
        self, owner, owner_client, django_capture_on_commit_callbacks, body, message
    ):
        own = _bulk_posts(owner, 1)[0]
        if isinstance(body, dict) and body.get("post_ids") == "OWN":
            body = {**body, "post_ids": [own.pk]}
        with django_capture_on_commit_callbacks() as callbacks:
            response = _post(owner_client, body)
        assert response.status_code == 400
        assert message in response.json()["error"]
        assert BatchDownloadRequest.objects.count() == 0
        assert callbacks == []

    def test_it_refuses_129_posts(self, owner, owner_client):
        posts = _bulk_posts(owner, 129)
        response = _post(owner_client, {"post_ids": [post.pk for post in posts]})
        assert response.status_code == 400
        assert response.json() == {"error": "At most 128 posts per request; this one has 129."}
        assert BatchDownloadRequest.objects.count() == 0

    @pytest.mark.parametrize("kind", ["someone else's", "playlist", "deleted", "unknown"])
    def test_it_refuses_any_post_that_is_not_the_callers_live_artwork(
        self, owner, other, owner_client, kind
    ):
        good = _bulk_posts(owner, 2)
        bad = {
            "someone else's": lambda: _bulk_posts(other, 1)[0].pk,
            "playlist": lambda: _bulk_posts(owner, 1, kind="playlist")[0].pk,
            "deleted": lambda: (
                _bulk_posts(owner, 1, deleted_by_user=True, deleted_by_user_date=timezone.now())[
                    0
                ].pk
            ),
            "unknown": lambda: good[-1].pk + 100_000,
        }[kind]()
        response = _post(owner_client, {"post_ids": [good[0].pk, bad, good[1].pk]})
        assert response.status_code == 400
        assert response.json()["error"] == (
            "1 of the selected posts cannot be downloaded: they are not your artwork posts, "
            f"or were deleted (ids {bad}). Nothing was requested."
        )
        assert BatchDownloadRequest.objects.count() == 0

    def test_the_ninth_request_of_the_day_is_refused_with_the_limit_and_reset(
        self, owner, owner_client
    ):
        post = _bulk_posts(owner, 1)[0]
        # Yesterday's requests do not count.
        make_bdr(owner, [post], created_at=timezone.now() - timedelta(days=1))
        for number in range(8):
            response = _post(owner_client, {"post_ids": [post.pk]})
            assert response.status_code == 201, response.json()
            assert response.json()["requests_left"] == 7 - number
        response = _post(owner_client, {"post_ids": [post.pk]})
        assert response.status_code == 429
        error = response.json()["error"]
        assert error.startswith(
            "You have used all 8 download requests for today. The limit resets at 00:00 UTC, in "
        )
        tomorrow = selectors.day_window()[1]
        assert 0 < int(response["Retry-After"]) <= (tomorrow - timezone.now()).total_seconds()
        assert BatchDownloadRequest.objects.count() == 9

    def test_the_limit_is_a_setting(self, owner, owner_client, settings):
        settings.PMD_BDR_DAILY_LIMIT = 2
        post = _bulk_posts(owner, 1)[0]
        statuses = [_post(owner_client, {"post_ids": [post.pk]}).status_code for _ in range(3)]
        assert statuses == [201, 201, 429]

    def test_it_needs_the_csrf_token(self, owner):
        post = _bulk_posts(owner, 1)[0]
        client = Client(enforce_csrf_checks=True)
        client.force_login(owner)
        assert _post(client, {"post_ids": [post.pk]}).status_code == 403
        assert BatchDownloadRequest.objects.count() == 0
        client.get("/accounts/login/")
        token = client.cookies[settings.CSRF_COOKIE_NAME].value
        assert _post(client, {"post_ids": [post.pk]}, X_CSRFToken=token).status_code == 201


@pytest.mark.postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_burst_of_32_requests_creates_exactly_the_remaining_allowance():
    owner = make_user("erin")
    post = _bulk_posts(owner, 1)[0]
    for _ in range(3):
        make_bdr(owner, [post])
    start = threading.Barrier(32)
    outcomes: list[str] = []

    def request() -> None:
        try:
            start.wait()
            downloads.download_request_create(
                user=owner,
                post_ids=[post.pk],
                include_comments=False,
                include_reactions=False,
                send_email=False,
            )
            outcomes.append("created")
        except downloads.DailyLimitReached:
            outcomes.append("refused")
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            outcomes.append(repr(error))
        finally:
            connection.close()  # each thread has its own connection

    threads = [threading.Thread(target=request) for _ in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["created"] * 5 + ["refused"] * 27
    assert selectors.requests_used_today(owner) == 8


class TestList:
    def test_it_lists_the_callers_20_newest(self, owner, other, owner_client):
        post = _bulk_posts(owner, 1)[0]
        now = timezone.now()
        mine = [make_bdr(owner, [post], created_at=now - timedelta(minutes=n)) for n in range(25)]
        make_bdr(other, _bulk_posts(other, 1))
        response = owner_client.get(URL)
        assert response.status_code == 200
        items = response.json()["items"]
        assert [item["id"] for item in items] == [str(bdr.pk) for bdr in mine[:20]]
        assert set(items[0]) == ITEM_FIELDS

    def test_it_answers_json_even_to_htmx(self, owner, owner_client):
        """The API is JSON only; the page's panel has a URL of its own."""
        bdr = make_bdr(owner, _bulk_posts(owner, 1))
        response = owner_client.get(URL, headers={"HX-Request": "true"})
        assert response["Content-Type"] == "application/json"
        assert [item["id"] for item in response.json()["items"]] == [str(bdr.pk)]


class TestDetail:
    def test_it_shows_the_callers_request(self, owner, owner_client):
        bdr = _ready(owner)
        item = owner_client.get(f"{URL}/{bdr.pk}").json()
        assert item == {
            "id": str(bdr.pk),
            "status": "ready",
            "artwork_count": 1,
            "part": None,
            "parts": None,
            "progress": 1,
            "created_at": bdr.created_at.isoformat(),
            "started_at": bdr.started_at.isoformat(),
            "completed_at": bdr.completed_at.isoformat(),
            "expires_at": bdr.expires_at.isoformat(),
            "error_message": "",
            "download_url": f"{URL}/{bdr.pk}/download",
        }
        assert item["expires_at"].endswith("+00:00")

    def test_a_ready_request_past_its_expiry_shows_as_expired(self, owner, owner_client):
        bdr = _ready(owner)
        BatchDownloadRequest.objects.filter(pk=bdr.pk).update(expires_at=timezone.now())
        item = owner_client.get(f"{URL}/{bdr.pk}").json()
        assert (item["status"], item["download_url"]) == ("expired", None)

    @pytest.mark.parametrize("suffix", ["", "/download"])
    def test_it_answers_404_for_others_unknown_and_malformed_ids(
        self, owner, other, owner_client, suffix
    ):
        theirs = make_bdr(other, _bulk_posts(other, 1))
        for key in (theirs.pk, uuid.uuid4()):
            response = owner_client.get(f"{URL}/{key}{suffix}")
            assert response.status_code == 404, key
            assert response.json() == {"error": "No such download request."}
        # Not an id at all: no route takes it (the path's uuid converter).
        for key in ("not-a-uuid", "1234", "%E2%9C%A8", str(theirs.pk).upper()):
            response = owner_client.get(f"{URL}/{key}{suffix}")
            assert response.status_code == 404, key
            assert response.json() == {"error": "There is nothing at this address."}

    def test_the_detail_route_leaves_the_event_stream_path_alone(self):
        assert resolve(f"{URL}/{uuid.uuid4()}").url_name == "api-bdr-detail"
        try:
            match = resolve(f"{URL}/sse")
        except Resolver404:
            match = None
        assert match is None or match.url_name != "api-bdr-detail"

    @pytest.mark.parametrize(
        ("method", "path"),
        [
            ("get", ""),
            ("post", ""),
            ("get", "/ID"),
            ("get", "/ID/download"),
            ("post", "/ID/retry"),
        ],
    )
    def test_anonymous_callers_get_401(self, owner, method, path):
        bdr = make_bdr(owner, _bulk_posts(owner, 1))
        response = getattr(Client(), method)(URL + path.replace("ID", str(bdr.pk)))
        assert response.status_code == 401
        assert "error" in response.json()

    def test_retry_needs_post(self, owner, owner_client):
        bdr = make_bdr(owner, _bulk_posts(owner, 1), status=Status.FAILED)
        assert owner_client.get(f"{URL}/{bdr.pk}/retry").status_code == 405


class TestDownload:
    def test_it_sends_the_zip_as_an_attachment(self, owner, owner_client):
        bdr = _ready(owner)
        response = owner_client.get(f"{URL}/{bdr.pk}/download")
        assert response.status_code == 200
        data = b"".join(response.streaming_content)
        assert data == storages["vault"].open(bdr.file_path).read()
        assert response["Content-Type"] == "application/zip"
        assert response["Content-Length"] == str(bdr.file_size_bytes) == str(len(data))
        day = bdr.completed_at.date().isoformat()
        assert response["Content-Disposition"] == (
            f'attachment; filename="pixelposts-{day}-1-artwork.zip"'
        )

    def test_it_resumes_with_a_range_and_answers_head(self, owner, owner_client):
        bdr = _ready(owner)
        whole = storages["vault"].open(bdr.file_path).read()
        response = owner_client.get(f"{URL}/{bdr.pk}/download", headers={"Range": "bytes=100-"})
        assert response.status_code == 206
        assert b"".join(response.streaming_content) == whole[100:]
        head = owner_client.head(f"{URL}/{bdr.pk}/download")
        assert (head.status_code, head["Content-Length"], head.content) == (
            200,
            str(len(whole)),
            b"",
        )

    @pytest.mark.parametrize("status", [Status.PENDING, Status.PROCESSING])
    def test_it_answers_409_until_ready(self, owner, owner_client, status):
        bdr = make_bdr(owner, _bulk_posts(owner, 1), status=status)
        response = owner_client.get(f"{URL}/{bdr.pk}/download")
        assert response.status_code == 409
        assert response.json() == {"error": "This download is not ready yet."}

    def test_it_answers_409_with_the_reason_when_failed(self, owner, owner_client):
        bdr = make_bdr(
            owner, _bulk_posts(owner, 1), status=Status.FAILED, error_message="Disk on fire."
        )
        response = owner_client.get(f"{URL}/{bdr.pk}/download")
        assert response.status_code == 409
        assert response.json() == {"error": "This download failed: Disk on fire."}

    def test_it_answers_410_once_expired_even_before_cleanup(self, owner, owner_client):
        bdr = _ready(owner)
        BatchDownloadRequest.objects.filter(pk=bdr.pk).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
        response = owner_client.get(f"{URL}/{bdr.pk}/download")
        assert response.status_code == 410
        assert "expired" in response.json()["error"]
        assert storages["vault"].exists(bdr.file_path)  # cleanup has not run
        downloads.download_request_expire(bdr=bdr)
        assert owner_client.get(f"{URL}/{bdr.pk}/download").status_code == 410

    def test_it_answers_410_when_the_file_is_gone(self, owner, owner_client):
        bdr = _ready(owner)
        storages["vault"].delete(bdr.file_path)
        response = owner_client.get(f"{URL}/{bdr.pk}/download")
        assert response.status_code == 410
        assert response.json()["error"].startswith("This download is no longer available")

    def test_it_hands_the_file_to_nginx_when_configured(self, owner, owner_client, settings):
        settings.PMD_X_ACCEL_REDIRECT_PREFIX = "/_vault/"
        bdr = _ready(owner)
        response = owner_client.get(f"{URL}/{bdr.pk}/download")
        assert response.status_code == 200
        assert response["X-Accel-Redirect"] == f"/_vault/{bdr.file_path}"
        assert response["Content-Type"] == "application/zip"
        assert response["Content-Disposition"].startswith('attachment; filename="pixelposts-')
        assert response.content == b""

    def test_another_user_gets_404(self, owner, other_client):
        bdr = _ready(owner)
        response = other_client.get(f"{URL}/{bdr.pk}/download")
        assert response.status_code == 404


class TestRetry:
    def _failed(self, owner, posts):
        return make_bdr(
            owner,
            posts,
            status=Status.FAILED,
            error_message="None of the artworks could be read.",
            send_email=True,
            include_comments=True,
        )

    def test_it_makes_a_new_request_that_does_not_count_against_the_limit(
        self, owner, owner_client, settings
    ):
        settings.PMD_BDR_DAILY_LIMIT = 1
        posts = _bulk_posts(owner, 2)
        failed = self._failed(owner, posts)
        assert downloads.requests_left_today(owner) == 0
        response = owner_client.post(f"{URL}/{failed.pk}/retry")
        assert response.status_code == 201
        retry = BatchDownloadRequest.objects.get(retry_of=failed)
        assert response.json()["id"] == str(retry.pk)
        assert response.json()["status"] == "pending"
        assert "does not count towards today's requests" in response.json()["message"]
        assert (retry.post_ids, retry.send_email, retry.include_comments) == (
            failed.post_ids,
            True,
            True,
        )
        assert downloads.requests_left_today(owner) == 0

    def test_it_leaves_out_posts_deleted_since(self, owner, owner_client):
        posts = _bulk_posts(owner, 2)
        failed = self._failed(owner, posts)
        Post.objects.filter(pk=posts[0].pk).update(
            deleted_by_user=True, deleted_by_user_date=timezone.now()
        )
        assert owner_client.post(f"{URL}/{failed.pk}/retry").status_code == 201
        retry = BatchDownloadRequest.objects.get(retry_of=failed)
        assert (retry.post_ids, retry.artwork_count) == ([posts[1].pk], 1)

    def test_it_refuses_a_retry_with_no_post_left(self, owner, owner_client):
        posts = _bulk_posts(owner, 1)
        failed = self._failed(owner, posts)
        Post.objects.filter(pk=posts[0].pk).update(
            deleted_by_user=True, deleted_by_user_date=timezone.now()
        )
        response = owner_client.post(f"{URL}/{failed.pk}/retry")
        assert response.status_code == 409
        assert response.json() == {"error": "None of these posts can be downloaded any more."}
        assert BatchDownloadRequest.objects.count() == 1

    @pytest.mark.parametrize("status", [Status.PENDING, Status.READY, Status.EXPIRED])
    def test_it_retries_failed_requests_only(self, owner, owner_client, status):
        bdr = make_bdr(owner, _bulk_posts(owner, 1), status=status)
        response = owner_client.post(f"{URL}/{bdr.pk}/retry")
        assert response.status_code == 409
        assert response.json() == {"error": "Only a failed download can be retried."}
        assert BatchDownloadRequest.objects.count() == 1

    def test_it_retries_once(self, owner, owner_client):
        failed = self._failed(owner, _bulk_posts(owner, 1))
        assert owner_client.post(f"{URL}/{failed.pk}/retry").status_code == 201
        response = owner_client.post(f"{URL}/{failed.pk}/retry")
        assert response.status_code == 409
        assert response.json() == {"error": "This download has been retried already."}
        assert BatchDownloadRequest.objects.count() == 2

    def test_another_user_cannot_retry(self, owner, other_client):
        failed = self._failed(owner, _bulk_posts(owner, 1))
        assert other_client.post(f"{URL}/{failed.pk}/retry").status_code == 404
        assert BatchDownloadRequest.objects.count() == 1

    def test_it_answers_json_even_to_htmx(self, owner, owner_client):
        failed = self._failed(owner, _bulk_posts(owner, 1))
        response = owner_client.post(f"{URL}/{failed.pk}/retry", headers={"HX-Request": "true"})
        assert response.status_code == 201
        retry = BatchDownloadRequest.objects.get(retry_of=failed)
        assert response.json()["id"] == str(retry.pk)
