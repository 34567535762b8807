"""The hashtag manager: GET /api/pmd/hashtags, rename (and merge) and remove
across all of the owner's posts, each undone by one POST action/undo."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pmd.models import ActivityEntry
from posts.models import Post
from posts.public_ids import user_sqid
from testing.factories import make_posts

LIST = "/api/pmd/hashtags"
RENAME = "/api/pmd/hashtags/rename"
REMOVE = "/api/pmd/hashtags/remove"
UNDO = "/api/pmd/action/undo"


def post_json(client: Client, url: str, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def tags(posts) -> list[str]:
    by_id = dict(Post.objects.filter(pk__in=[p.pk for p in posts]).values_list("id", "hashtags"))
    return [by_id[p.pk] for p in posts]


def state():
    return list(Post.objects.order_by("id").values_list("id", "hashtags")), (
        ActivityEntry.objects.count()
    )


class TestList:
    def test_it_counts_each_hashtag_over_live_artworks_with_suggestions(
        self, owner, other, owner_client
    ):
        make_posts(owner, 3, hashtags="pixelart cat")
        make_posts(owner, 1, hashtags="pixleart")
        make_posts(owner, 1, hashtags="pokémon")
        make_posts(owner, 2, hashtags="pokemon")
        make_posts(
            owner, 4, hashtags="cat", deleted_by_user=True, deleted_by_user_date=timezone.now()
        )
        make_posts(owner, 1, hashtags="pixelart", kind="playlist")
        make_posts(other, 5, hashtags="other")
        response = owner_client.get(LIST)
        assert response.status_code == 200
        body = response.json()
        assert body["items"] == [
            {"hashtag": "cat", "count": 3},
            {"hashtag": "pixelart", "count": 3},
            {"hashtag": "pokemon", "count": 2},
            {"hashtag": "pixleart", "count": 1},
            {"hashtag": "pokémon", "count": 1},
        ]
        assert {(s["hashtag"], s["into"], s["reason"]) for s in body["suggestions"]} == {
            ("pixleart", "pixelart", "one letter apart"),
            ("pokémon", "pokemon", "accents"),
        }

    def test_anonymous_is_401(self, client):
        assert client.get(LIST).status_code == 401


class TestRename:
    def test_it_renames_everywhere_and_undo_puts_it_back(self, owner, owner_client):
        posts = make_posts(owner, 3, hashtags="pixleart cat")
        untouched = make_posts(owner, 1, hashtags="dog")
        response = post_json(owner_client, RENAME, {"hashtag": "#PixleArt", "to": "pixelart"})
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["affected_count"] == 3
        assert body["message"] == "Renamed #pixleart to #pixelart on 3 posts."
        assert tags(posts) == ["pixelart cat"] * 3
        assert tags(untouched) == ["dog"]
        undo = post_json(owner_client, UNDO, {"activity_id": body["activity_id"]})
        assert undo.status_code == 200, undo.content
        assert undo.json()["affected_count"] == 3
        assert tags(posts) == ["pixleart cat"] * 3
        page = owner_client.get(f"/u/{user_sqid(owner.pk)}/posts/activity").content.decode()
        assert "Renamed #pixleart to #pixelart on 3 posts" in page
        assert "Undid renaming #pixleart on 3 posts" in page

    def test_a_rename_onto_an_existing_tag_merges(self, owner, owner_client):
        both = make_posts(owner, 1, hashtags="pixleart cat pixelart")
        one = make_posts(owner, 1, hashtags="pixleart")
        body = post_json(owner_client, RENAME, {"hashtag": "pixleart", "to": "pixelart"}).json()
        assert body["affected_count"] == 2
        assert tags(both + one) == ["pixelart cat", "pixelart"]
        post_json(owner_client, UNDO, {"activity_id": body["activity_id"]})
        assert tags(both + one) == ["pixleart cat pixelart", "pixleart"]

    def test_undo_leaves_a_post_changed_since(self, owner, owner_client):
        posts = make_posts(owner, 2, hashtags="a1")
        body = post_json(owner_client, RENAME, {"hashtag": "a1", "to": "b1"}).json()
        Post.objects.filter(pk=posts[0].pk).update(hashtags="b1 extra")
        undone = post_json(owner_client, UNDO, {"activity_id": body["activity_id"]}).json()
        assert undone["affected_count"] == 1
        assert tags(posts) == ["b1 extra", "a1"]

    @pytest.mark.parametrize(
        ("body", "message"),
        [
            ({"hashtag": "nothere", "to": "x"}, "None of your posts has #nothere."),
            ({"hashtag": "cat", "to": "CAT"}, "already called that"),
            ({"hashtag": "cat", "to": "no spaces"}, "to: A hashtag takes letters"),
            ({"hashtag": "", "to": "x"}, "hashtag: Type a hashtag"),
            ({"hashtag": "cat"}, "to"),
            ({"hashtag": "cat", "to": "dog", "posts": [1]}, "Unknown field 'posts'"),
        ],
    )
    def test_it_refuses_and_changes_nothing(self, owner, owner_client, body, message):
        make_posts(owner, 2, hashtags="cat")
        before = state()
        response = post_json(owner_client, RENAME, body)
        assert response.status_code == 400
        assert message in response.json()["error"]
        assert state() == before

    def test_it_never_touches_another_users_posts(self, owner, other, owner_client):
        theirs = make_posts(other, 2, hashtags="cat")
        response = post_json(owner_client, RENAME, {"hashtag": "cat", "to": "dog"})
        assert response.status_code == 400
        assert tags(theirs) == ["cat", "cat"]


class TestRemove:
    def test_it_removes_everywhere_and_undo_puts_it_back(self, owner, owner_client):
        posts = make_posts(owner, 2, hashtags="wip cat") + make_posts(owner, 1, hashtags="WIP")
        body = post_json(owner_client, REMOVE, {"hashtag": "wip"}).json()
        assert body["affected_count"] == 3
        assert body["message"] == "Removed #wip from 3 posts."
        assert tags(posts) == ["cat", "cat", ""]
        post_json(owner_client, UNDO, {"activity_id": body["activity_id"]})
        assert tags(posts) == ["wip cat", "wip cat", "WIP"]


@given(
    hashtag=st.one_of(st.text(max_size=35), st.integers(), st.none()),
    to=st.one_of(st.text(max_size=35), st.sampled_from(["cat", "dog"]), st.none()),
)
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_rename_is_done_or_refused_cleanly(owner, owner_client, hashtag, to):
    if not Post.objects.filter(owner=owner).exists():
        make_posts(owner, 2, hashtags="cat dog")
    Post.objects.filter(owner=owner).update(hashtags="cat dog")
    before = state()
    response = post_json(owner_client, RENAME, {"hashtag": hashtag, "to": to})
    assert response.status_code in (200, 400), response.content
    if response.status_code == 400:
        assert set(response.json()) == {"error"}
        assert state() == before
