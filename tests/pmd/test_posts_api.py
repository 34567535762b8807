from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from posts.models import Post
from testing.factories import make_post, make_posts


def _walk(client: Client, url: str, limit: int) -> tuple[list[dict], list[int]]:
    items, totals, cursor = [], [], None
    while True:
        query = f"?limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        data = client.get(url + query).json()
        items += data["items"]
        totals.append(data["total_count"])
        cursor = data["next_cursor"]
        if not cursor:
            return items, totals


class TestPostsList:
    def test_it_visits_every_post_once_newest_first_even_with_shared_timestamps(
        self, owner, other, owner_client
    ):
        same_moment = timezone.now() - timedelta(days=1)
        make_posts(owner, 230, created_at=same_moment)
        make_posts(owner, 40)
        make_posts(owner, 5, kind="playlist")
        make_posts(owner, 5, deleted_by_user=True, deleted_by_user_date=timezone.now())
        make_posts(other, 12)
        items, totals = _walk(owner_client, "/api/pmd/posts", limit=17)
        ids = [item["id"] for item in items]
        expected = list(
            Post.objects.filter(owner=owner, kind="artwork", deleted_by_user=False)
            .order_by("-created_at", "-id")
            .values_list("id", flat=True)
        )
        assert ids == expected
        assert len(set(ids)) == 270
        assert set(totals) == {270}

    def test_its_items_carry_the_spec_fields(self, owner, owner_client):
        post = make_post(owner, title="Frog <b>", reaction_count=3, comment_count=2, view_count=9)
        item = owner_client.get("/api/pmd/posts").json()["items"][0]
        assert item == {
            "id": post.pk,
            "public_sqid": post.public_sqid,
            "title": "Frog <b>",
            "description": post.description,
            "created_at": post.created_at.isoformat(),
            "width": post.width,
            "height": post.height,
            "frame_count": post.frame_count,
            "file_format": post.file_format,
            "file_bytes": post.file_bytes,
            "art_url": f"/art/{post.public_sqid}",
            "hidden_by_user": False,
            "license": None,
            "reaction_count": 3,
            "comment_count": 2,
            "view_count": 9,
            "color_count": post.color_count,
        }
        assert post.color_count >= 2, "the factory counts the colours of the file it writes"
        assert "+00:00" in item["created_at"]

    def test_it_defaults_to_512(self, owner, owner_client):
        make_posts(owner, 515)
        data = owner_client.get("/api/pmd/posts").json()
        assert len(data["items"]) == 512
        assert data["next_cursor"]

    @pytest.mark.parametrize("limit", ["0", "513", "-1", "abc", "1.5", ""])
    def test_it_refuses_a_bad_limit(self, owner_client, limit):
        response = owner_client.get(f"/api/pmd/posts?limit={limit}")
        assert response.status_code == 400
        assert response.json() == {"error": "limit must be a whole number from 1 to 512."}

    @pytest.mark.parametrize(
        "cursor",
        [
            "zzz",
            "%%%",
            base64.urlsafe_b64encode(b'["not a date", 5]').decode(),
            base64.urlsafe_b64encode(b'["2026-01-01T00:00:00", 5]').decode(),  # no time zone
            base64.urlsafe_b64encode(b'["2026-01-01T00:00:00+00:00", "5"]').decode(),
            base64.urlsafe_b64encode(b'["2026-01-01T00:00:00+00:00", -5]').decode(),
            base64.urlsafe_b64encode(
                b'["2026-01-01T00:00:00+00:00", 99999999999999999999]'
            ).decode(),
            base64.urlsafe_b64encode(b'{"a": 1}').decode(),
            base64.urlsafe_b64encode(b"\xff\xfe").decode(),
        ],
    )
    def test_it_refuses_a_cursor_that_does_not_decode(self, owner_client, cursor):
        response = owner_client.get(f"/api/pmd/posts?cursor={cursor}")
        assert response.status_code == 400
        assert response.json() == {"error": "The cursor is not valid; start again without one."}

    def test_it_is_401_for_anonymous(self, client):
        response = client.get("/api/pmd/posts")
        assert response.status_code == 401
        assert response.json() == {"error": "Log in to use the PMD API."}

    def test_a_cursor_never_reaches_another_users_posts(
        self, owner, other, other_client, owner_client
    ):
        make_posts(owner, 3)
        make_posts(other, 2)
        cursor = owner_client.get("/api/pmd/posts?limit=1").json()["next_cursor"]
        items = other_client.get(f"/api/pmd/posts?cursor={cursor}").json()["items"]
        assert {item["id"] for item in items} <= set(
            Post.objects.filter(owner=other).values_list("id", flat=True)
        )


class TestPostIds:
    def test_it_returns_every_matching_id_in_pages_of_at_most_512(self, owner, owner_client):
        make_posts(owner, 700, title="Frog")
        make_posts(owner, 20, title="Castle")
        make_posts(owner, 10, title="Frog", hidden_by_user=True)
        ids, cursor, fetches = [], None, 0
        while True:
            url = "/api/pmd/posts/ids?q=frog&visibility=visible&limit=512"
            data = owner_client.get(url + (f"&cursor={cursor}" if cursor else "")).json()
            fetches += 1
            assert len(data["ids"]) <= 512
            assert data["total_count"] == 700
            ids += data["ids"]
            cursor = data["next_cursor"]
            if not cursor:
                break
        assert fetches == 2
        assert set(ids) == set(
            Post.objects.filter(title="Frog", hidden_by_user=False).values_list("id", flat=True)
        )
        assert len(ids) == 700

    def test_it_is_401_for_anonymous(self, client):
        assert client.get("/api/pmd/posts/ids").status_code == 401
