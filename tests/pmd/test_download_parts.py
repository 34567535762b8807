"""Downloads of more than 128 posts: the parts of a split,
and the table order the page sends them in.

Each part is a normal download request that says which part it is
(`part` of `parts`); the server's limits are those of any request.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, timedelta

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from pmd import downloads
from pmd.downloads import build, emails
from pmd.models import MAX_DOWNLOAD_PARTS, BatchDownloadRequest
from posts.models import Post
from testing.factories import make_post, make_posts
from tests.pmd.bdr_helpers import make_bdr, open_zip, read_json
from tests.pmd.test_download_panel import _panel, _row

Status = BatchDownloadRequest.Status
URL = "/api/pmd/bdr"
ORDER_URL = "/api/pmd/bdr/table-order"


def _post(client: Client, url: str, body) -> object:
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(url, data=data, content_type="application/json")


class TestCreateAPart:
    def test_it_stores_the_part_and_says_it(self, owner, owner_client):
        posts = make_posts(owner, 3)
        response = _post(
            owner_client, URL, {"post_ids": [p.pk for p in posts], "part": 2, "parts": 5}
        )
        assert response.status_code == 201
        body = response.json()
        assert (body["part"], body["parts"]) == (2, 5)
        assert body["message"].startswith(
            "Download of 3 artworks requested (part 2 of 5). It is queued"
        )
        bdr = BatchDownloadRequest.objects.get()
        assert (bdr.part_number, bdr.part_count) == (2, 5)
        item = owner_client.get(f"{URL}/{bdr.pk}").json()
        assert (item["part"], item["parts"]) == (2, 5)

    def test_a_request_on_its_own_has_no_part(self, owner, owner_client):
        post = make_posts(owner, 1)[0]
        body = _post(owner_client, URL, {"post_ids": [post.pk]}).json()
        assert (body["part"], body["parts"]) == (None, None)
        # Explicit nulls mean the same.
        body = _post(owner_client, URL, {"post_ids": [post.pk], "part": None, "parts": None})
        assert body.status_code == 201
        bdr = BatchDownloadRequest.objects.order_by("created_at").first()
        assert (bdr.part_number, bdr.part_count) == (None, None)

    def test_the_last_possible_part_is_accepted(self, owner, owner_client):
        post = make_posts(owner, 1)[0]
        response = _post(
            owner_client,
            URL,
            {"post_ids": [post.pk], "part": MAX_DOWNLOAD_PARTS, "parts": MAX_DOWNLOAD_PARTS},
        )
        assert response.status_code == 201
        assert BatchDownloadRequest.objects.get().part_number == 100

    @pytest.mark.parametrize(
        ("parts", "message"),
        [
            ({"part": 2}, "Send part and parts together"),
            ({"parts": 5}, "Send part and parts together"),
            ({"part": 2, "parts": None}, "Send part and parts together"),
            ({"part": 6, "parts": 5}, "part must be from 1 to parts"),
            ({"part": 0, "parts": 5}, "part: Input should be greater than or equal to 1"),
            ({"part": -1, "parts": 5}, "part: Input should be greater than or equal to 1"),
            ({"part": 1, "parts": 101}, "parts: Input should be less than or equal to 100"),
            ({"part": "2", "parts": 5}, "part: Input should be a valid integer"),
            ({"part": 2.0, "parts": 5}, "part: Input should be a valid integer"),
            ({"part": True, "parts": 5}, "part: Input should be a valid integer"),
            ({"part": [2], "parts": 5}, "part: Input should be a valid integer"),
            ({"part": 2, "parts": 10**30}, "parts: Input should be less than or equal to 100"),
        ],
    )
    def test_it_refuses_a_bad_part_and_changes_nothing(
        self, owner, owner_client, django_capture_on_commit_callbacks, parts, message
    ):
        post = make_posts(owner, 1)[0]
        with django_capture_on_commit_callbacks() as callbacks:
            response = _post(owner_client, URL, {"post_ids": [post.pk], **parts})
        assert response.status_code == 400
        assert message in response.json()["error"]
        assert BatchDownloadRequest.objects.count() == 0
        assert callbacks == []

    def test_the_service_refuses_a_bad_part_before_writing(self, owner):
        post = make_posts(owner, 1)[0]
        for number, count in ((3, None), (None, 3), (4, 3), (0, 3), (1, 101)):
            with pytest.raises(downloads.service.Invalid):
                downloads.download_request_create(
                    user=owner,
                    post_ids=[post.pk],
                    include_comments=False,
                    include_reactions=False,
                    send_email=False,
                    part_number=number,
                    part_count=count,
                )
        assert BatchDownloadRequest.objects.count() == 0

    @pytest.mark.parametrize(("number", "count"), [(3, None), (None, 3), (4, 3), (0, 0), (1, 101)])
    def test_the_database_refuses_a_bad_part_too(self, owner, number, count):
        with pytest.raises(IntegrityError), transaction.atomic():
            BatchDownloadRequest.objects.create(
                user=owner, post_ids=[1], artwork_count=1, part_number=number, part_count=count
            )

    def test_each_part_uses_one_of_the_days_requests(self, owner, owner_client):
        posts = make_posts(owner, 9)
        statuses = [
            _post(
                owner_client, URL, {"post_ids": [post.pk], "part": number, "parts": 9}
            ).status_code
            for number, post in enumerate(posts, start=1)
        ]
        # The server's limit is unchanged: the ninth part is refused like any ninth request.
        assert statuses == [201] * 8 + [429]
        assert BatchDownloadRequest.objects.count() == 8

    def test_a_part_still_takes_at_most_128_posts(self, owner, owner_client):
        posts = make_posts(owner, 129)
        response = _post(
            owner_client, URL, {"post_ids": [p.pk for p in posts], "part": 1, "parts": 2}
        )
        assert response.status_code == 400
        assert response.json() == {"error": "At most 128 posts per request; this one has 129."}


class TestAPartsZip:
    def test_its_file_name_says_which_part(self, owner, owner_client):
        bdr = make_bdr(owner, [make_post(owner)], part_number=2, part_count=5)
        assert build.download_request_build(bdr.pk) == "ready"
        bdr.refresh_from_db()
        day = bdr.completed_at.astimezone(UTC).date().isoformat()
        name = f"pixelposts-{day}-1-artwork-part-2-of-5.zip"
        assert downloads.attachment_name(bdr) == name
        response = owner_client.get(f"{URL}/{bdr.pk}/download")
        assert response["Content-Disposition"] == f'attachment; filename="{name}"'

    def test_a_128_post_part_is_named_as_the_issue_says(self, owner):
        bdr = BatchDownloadRequest(
            user=owner,
            post_ids=list(range(1, 129)),
            artwork_count=128,
            part_number=2,
            part_count=5,
            created_at=timezone.now().replace(year=2026, month=12, day=1, hour=12),
        )
        assert downloads.attachment_name(bdr) == (
            "pixelposts-2026-12-01-128-artworks-part-2-of-5.zip"
        )

    def test_the_name_holds_no_user_text(self, owner):
        post = make_post(owner, title="../../etc/passwd part 9 of 9")
        bdr = make_bdr(owner, [post], part_number=1, part_count=3)
        assert re.fullmatch(
            r"pixelposts-\d{4}-\d\d-\d\d-1-artwork-part-1-of-3\.zip", downloads.attachment_name(bdr)
        )

    def test_its_metadata_says_which_part(self, owner):
        bdr = make_bdr(owner, [make_post(owner), make_post(owner)], part_number=3, part_count=3)
        build.download_request_build(bdr.pk)
        metadata = read_json(open_zip(bdr), "metadata.json")
        assert (metadata["part"], metadata["parts"]) == (3, 3)
        assert metadata["artwork_count"] == 2


class TestAPartsEmails:
    """Five parts, five emails: each subject says which part it is about."""

    def test_the_ready_email_names_the_part(self, owner):
        bdr = make_bdr(owner, [make_post(owner)], part_number=2, part_count=5, send_email=True)
        build.download_request_build(bdr.pk)
        assert emails.send_download_email(bdr.pk, "ready") == emails.SENT
        assert mail.outbox[-1].subject == "Your download of 1 artwork (part 2 of 5) is ready"

    def test_the_failed_email_names_the_part(self, owner):
        bdr = make_bdr(
            owner, [make_post(owner, write_file=False)], status=Status.FAILED, part_number=5,
            part_count=5, send_email=True,
        )  # fmt: skip
        assert emails.send_download_email(bdr.pk, "failed") == emails.SENT
        assert mail.outbox[-1].subject == (
            "Your download of 1 artwork (part 5 of 5) could not be built"
        )


class TestRetryOfAPart:
    def test_it_keeps_its_part(self, owner, owner_client):
        posts = [make_post(owner, write_file=False) for _ in range(2)]
        failed = make_bdr(
            owner, posts, status=Status.FAILED, error_message="No luck.", part_number=2,
            part_count=5,
        )  # fmt: skip
        response = owner_client.post(f"{URL}/{failed.pk}/retry")
        assert response.status_code == 201
        body = response.json()
        assert (body["part"], body["parts"]) == (2, 5)
        assert "(part 2 of 5)" in body["message"]
        retry = BatchDownloadRequest.objects.get(retry_of=failed)
        assert (retry.part_number, retry.part_count) == (2, 5)

    def test_a_retry_of_a_request_on_its_own_has_no_part(self, owner):
        failed = make_bdr(owner, [make_post(owner, write_file=False)], status=Status.FAILED)
        retry = downloads.download_request_retry(bdr=failed)
        assert (retry.part_number, retry.part_count) == (None, None)


class TestThePanelAndTheAdmin:
    def test_a_part_reads_part_2_of_5_in_the_panel(self, owner):
        post = make_post(owner)
        part = make_bdr(owner, [post], part_number=2, part_count=5)
        build.download_request_build(part.pk)
        alone = make_bdr(owner, [post])
        html = _panel(owner)
        row = _row(html, part)
        assert re.search(r'class="bdr-what">Part 2 of 5 · 1 artwork<', row)
        assert re.search(r'aria-label="Download part 2 of 5, 1 artwork, requested ', row)
        assert "Part " not in _row(html, alone)

    def test_a_failed_parts_retry_button_names_the_part(self, owner):
        failed = make_bdr(
            owner, [make_post(owner, write_file=False)], status=Status.FAILED, part_number=4,
            part_count=4,
        )  # fmt: skip
        row = _row(_panel(owner), failed)
        assert 'aria-label="Retry the download of part 4 of 4, 1 artwork, requested ' in row

    def test_the_admin_lists_the_part(self, owner, staff):
        post = make_post(owner, write_file=False)
        make_bdr(owner, [post], part_number=2, part_count=5)
        make_bdr(owner, [post])
        client = Client()
        client.force_login(staff)
        html = client.get(reverse("admin:pmd_batchdownloadrequest_changelist")).content.decode()
        assert '<th scope="col" class="sortable column-part">' in html
        assert '<td class="field-part">2 of 5</td>' in html
        assert '<td class="field-part">—</td>' in html


class TestTableOrder:
    """POST /api/pmd/bdr/table-order: the order a split sends its parts in."""

    @pytest.fixture
    def posts(self, owner) -> list[Post]:
        now = timezone.now()
        specs = [("Cobalt", 300), ("apple", 100), ("Banana", 200), ("delta", 200), ("Eel", 50)]
        return [
            make_post(
                owner, title=title, file_bytes=size, created_at=now - timedelta(hours=index),
                write_file=False,
            )
            for index, (title, size) in enumerate(specs)
        ]  # fmt: skip

    def _order(self, client, ids, **sort) -> list[int]:
        response = _post(client, ORDER_URL, {"post_ids": ids, **sort})
        assert response.status_code == 200, response.json()
        items = response.json()["items"]
        positions = [item["position"] for item in items]
        assert positions == sorted(positions)
        return [item["id"] for item in items]

    def test_it_orders_as_the_table_does(self, owner_client, owner_sqid, posts):
        cobalt, apple, banana, delta, eel = (p.pk for p in posts)
        picked = [eel, apple, delta, cobalt]
        # Newest first by default, as the table.
        assert self._order(owner_client, picked) == [cobalt, apple, delta, eel]
        assert self._order(owner_client, picked, sort="uploaded", direction="asc") == [
            eel, delta, apple, cobalt,
        ]  # fmt: skip
        # Size, biggest first; a tie goes by id, as the table breaks it.
        assert self._order(owner_client, picked + [banana], sort="size", direction="desc") == [
            cobalt, max(banana, delta), min(banana, delta), apple, eel,
        ]  # fmt: skip
        # The direction defaults as the table's header link does: A to Z for a title.
        table = owner_client.get(
            reverse("pmd:dashboard", args=[owner_sqid]),
            {"sort": "title", "size": 16},
        )
        rows = [int(pk) for pk in re.findall(r'<tr data-post-id="(\d+)"', table.content.decode())]
        assert self._order(owner_client, picked, sort="title") == [
            pk for pk in rows if pk in picked
        ]

    def test_positions_of_two_calls_compare(self, owner, owner_client, posts):
        ids = [p.pk for p in posts]
        first = _post(owner_client, ORDER_URL, {"post_ids": ids[:2], "sort": "size"}).json()
        second = _post(owner_client, ORDER_URL, {"post_ids": ids[2:], "sort": "size"}).json()
        merged = sorted(first["items"] + second["items"], key=lambda item: item["position"])
        assert [item["id"] for item in merged] == self._order(owner_client, ids, sort="size")
        # Positions count the user's whole table, not just the posts asked about.
        assert {item["position"] for item in merged} == {1, 2, 3, 4, 5}

    def test_it_changes_nothing(self, owner, owner_client, posts):
        self._order(owner_client, [posts[0].pk])
        assert BatchDownloadRequest.objects.count() == 0

    @pytest.mark.parametrize("kind", ["someone else's", "deleted", "playlist", "unknown"])
    def test_it_refuses_posts_that_cannot_be_downloaded(
        self, owner, other, owner_client, posts, kind
    ):
        bad = {
            "someone else's": lambda: make_posts(other, 1)[0].pk,
            "deleted": lambda: make_post(owner, deleted_by_user=True, write_file=False).pk,
            "playlist": lambda: make_posts(owner, 1, kind="playlist")[0].pk,
            "unknown": lambda: posts[-1].pk + 100_000,
        }[kind]()
        response = _post(owner_client, ORDER_URL, {"post_ids": [posts[0].pk, bad]})
        assert response.status_code == 400
        assert response.json()["error"] == (
            "1 of the selected posts cannot be downloaded: they are not your artwork posts, "
            f"or were deleted (ids {bad}). Nothing was requested."
        )

    @pytest.mark.parametrize(
        ("body", "message"),
        [
            ({"post_ids": []}, "Select at least one post"),
            ({"post_ids": "OWN", "sort": "nonsense"}, "sort: Input should be"),
            ({"post_ids": "OWN", "direction": "up"}, "direction: Input should be 'asc' or 'desc'"),
            ({"post_ids": "OWN", "dir": "asc"}, "Unknown field 'dir'"),
            ({"post_ids": ["1"]}, "'1' is not one"),
        ],
    )
    def test_it_refuses_malformed_input(self, owner_client, posts, body, message):
        if body["post_ids"] == "OWN":
            body = {**body, "post_ids": [posts[0].pk]}
        response = _post(owner_client, ORDER_URL, body)
        assert response.status_code == 400
        assert message in response.json()["error"]

    def test_it_takes_at_most_512_ids_a_call(self, owner, owner_client):
        posts = make_posts(owner, 513)
        ids = [p.pk for p in posts]
        assert len(self._order(owner_client, ids[:512])) == 512
        response = _post(owner_client, ORDER_URL, {"post_ids": ids})
        assert response.status_code == 400
        assert response.json() == {"error": "At most 512 posts per request; this one has 513."}

    def test_it_needs_a_session_and_the_csrf_token(self, owner, posts):
        body = json.dumps({"post_ids": [posts[0].pk]})
        anonymous = Client().post(ORDER_URL, body, content_type="application/json")
        assert anonymous.status_code == 401
        client = Client(enforce_csrf_checks=True)
        client.force_login(owner)
        assert client.post(ORDER_URL, body, content_type="application/json").status_code == 403

    def test_get_is_not_allowed(self, owner_client):
        assert owner_client.get(ORDER_URL).status_code == 405
