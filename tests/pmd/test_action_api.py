"""POST /api/pmd/action, through Django's middleware: sessions,
CSRF, the JSON conventions, and what the public profile shows afterwards."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from pmd.models import ActivityEntry
from posts.models import Post
from posts.public_ids import user_sqid
from testing.factories import make_posts
from tests.pmd.action_state import database_state, flags, hashtags

URL = "/api/pmd/action"
UNDO_URL = "/api/pmd/action/undo"


def post_json(client: Client, body, url: str = URL, **headers):
    raw = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(url, raw, content_type="application/json", headers=headers)


def assert_refused(
    client: Client, body, expected_message: str, status: int = 400, url: str = URL
) -> None:
    before = database_state()
    response = post_json(client, body, url=url)
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    assert expected_message in response.json()["error"]
    assert set(response.json()) == {"error"}
    assert database_state() == before, "a refused request changed the database"


class TestContract:
    def test_its_url_is_named(self):
        assert reverse("pmd:api-action") == URL

    def test_it_answers_success_with_the_counts_and_a_message(self, owner, owner_client):
        posts = make_posts(owner, 2) + make_posts(owner, 1, hidden_by_user=True)
        response = post_json(owner_client, {"action": "hide", "post_ids": [p.pk for p in posts]})
        assert response.status_code == 200
        assert response.json() == {
            "success": True,
            "action": "hide",
            "hashtag": None,
            "affected_count": 2,
            "requested_count": 3,
            "changed_ids": [posts[0].pk, posts[1].pk],
            "full_ids": [],
            "message": "2 posts hidden (1 was already hidden).",
            "activity_id": ActivityEntry.objects.get().pk,
            "undo_of": None,
        }

    @pytest.mark.parametrize(
        ("action", "start", "end", "message"),
        [
            ("hide", {}, (True, False, False), "1 post hidden."),
            ("unhide", {"hidden_by_user": True}, (False, False, False), "1 post unhidden."),
            (
                "delete",
                {},
                (False, False, True),
                "1 post deleted. You can restore it from Recently deleted for 30 days.",
            ),
            (
                "restore",
                {"deleted_by_user": True, "deleted_by_user_date": timezone.now()},
                (False, False, False),
                "1 post restored.",
            ),
        ],
    )
    def test_each_action_changes_its_flags(self, owner, owner_client, action, start, end, message):
        (post,) = make_posts(owner, 1, **start)
        response = post_json(owner_client, {"action": action, "post_ids": [post.pk]})
        assert response.status_code == 200
        assert response.json()["message"] == message
        assert flags(post)[:3] == end
        entry = ActivityEntry.objects.get()
        assert (entry.user, entry.action, entry.post_ids, entry.count) == (
            owner,
            action,
            [post.pk],
            1,
        )

    def test_it_is_idempotent_for_hide_and_unhide(self, owner, owner_client):
        posts = make_posts(owner, 4)
        body = {"action": "hide", "post_ids": [p.pk for p in posts]}
        assert post_json(owner_client, body).json()["affected_count"] == 4
        state = database_state()[0]
        second = post_json(owner_client, body)
        assert second.status_code == 200
        assert second.json()["affected_count"] == 0
        assert second.json()["message"] == "All 4 posts were already hidden; nothing changed."
        assert database_state()[0] == state
        body["action"] = "unhide"
        assert post_json(owner_client, body).json()["affected_count"] == 4
        assert post_json(owner_client, body).json()["affected_count"] == 0

    def test_it_counts_duplicates_once(self, owner, owner_client):
        a, b = make_posts(owner, 2)
        response = post_json(owner_client, {"action": "delete", "post_ids": [a.pk, b.pk, a.pk]})
        assert response.json()["affected_count"] == 2
        assert response.json()["requested_count"] == 2
        assert ActivityEntry.objects.get().post_ids == [a.pk, b.pk]

    def test_it_soft_deletes_with_the_time(self, owner, owner_client):
        (post,) = make_posts(owner, 1)
        before = timezone.now()
        post_json(owner_client, {"action": "delete", "post_ids": [post.pk]})
        post.refresh_from_db()
        assert post.deleted_by_user is True
        assert before <= post.deleted_by_user_date <= timezone.now()
        assert Post.objects.filter(pk=post.pk).exists()

    def test_it_restores_within_the_window_only(self, owner, owner_client):
        (recent,) = make_posts(
            owner,
            1,
            deleted_by_user=True,
            deleted_by_user_date=timezone.now() - timedelta(days=29, hours=23),
        )
        (old,) = make_posts(
            owner,
            1,
            deleted_by_user=True,
            deleted_by_user_date=timezone.now() - timedelta(days=30, minutes=1),
        )
        assert_refused(
            owner_client,
            {"action": "restore", "post_ids": [recent.pk, old.pk]},
            f"Post {old.pk} was deleted more than 30 days ago and can no longer be restored.",
        )
        response = post_json(owner_client, {"action": "restore", "post_ids": [recent.pk]})
        assert response.json()["affected_count"] == 1
        assert flags(recent)[2:] == (False, None)

    def test_a_moderator_hidden_post_stays_hidden_after_unhide(self, owner, owner_client):
        (post,) = make_posts(owner, 1, hidden_by_user=True, hidden_by_mod=True)
        response = post_json(owner_client, {"action": "unhide", "post_ids": [post.pk]})
        assert response.json()["message"] == ("1 post unhidden. 1 stays hidden by a moderator.")
        assert flags(post)[:2] == (False, True)


class TestLimits:
    def test_it_takes_128_posts_and_refuses_129(self, owner, owner_client):
        ids = [post.pk for post in make_posts(owner, 129)]
        assert_refused(
            owner_client,
            {"action": "hide", "post_ids": ids},
            "At most 128 posts per request; this one has 129.",
        )
        response = post_json(owner_client, {"action": "hide", "post_ids": ids[:128]})
        assert response.status_code == 200
        assert response.json()["affected_count"] == 128
        assert Post.objects.filter(hidden_by_user=True).count() == 128

    def test_its_query_count_does_not_grow_with_the_posts(self, owner, owner_client):
        posts = make_posts(owner, 129)
        counts = []
        for ids in ([posts[0].pk], [post.pk for post in posts[1:]]):
            with CaptureQueriesContext(connection) as captured:
                response = post_json(owner_client, {"action": "hide", "post_ids": ids})
            assert response.status_code == 200
            counts.append(len(captured.captured_queries))
        assert counts[0] == counts[1]

    @pytest.mark.django_db(transaction=True)
    def test_a_128_post_request_costs_at_most_5_queries(
        self, owner, owner_client, django_assert_max_num_queries
    ):
        ids = [post.pk for post in make_posts(owner, 128)]
        # A real transaction (not the test's savepoint), as in production.
        # Django also logs the BEGIN and COMMIT that wrap the action; they
        # are the transaction's markers, not queries of their own.
        with django_assert_max_num_queries(7) as captured:
            response = post_json(owner_client, {"action": "hide", "post_ids": ids})
        assert response.status_code == 200
        statements = [query["sql"] for query in captured.captured_queries]
        assert [sql.split()[0] for sql in statements] == [
            "SELECT",  # session
            "SELECT",  # user
            "BEGIN",
            "SELECT",  # the posts, locked and validated
            "UPDATE",
            "INSERT",  # the audit entry
            "COMMIT",
        ]
        assert len([sql for sql in statements if not sql.startswith(("BEGIN", "COMMIT"))]) <= 5
        assert '"posts_post"' in statements[3] and '"pmd_activityentry"' in statements[5]
        assert Post.objects.filter(hidden_by_user=True).count() == 128
        assert ActivityEntry.objects.get().count == 128


class TestBadInput:
    @pytest.mark.parametrize(
        ("body", "message"),
        [
            ({"action": "explode", "post_ids": [1]}, "Unknown action 'explode'"),
            (
                {"post_ids": [1]},
                "Say which action to run: one of hide, unhide, delete, restore, add_hashtag, "
                "remove_hashtag, delete_forever.",
            ),
            ({"action": ["hide"], "post_ids": [1]}, "Say which action to run"),
            ({"action": "HIDE", "post_ids": [1]}, "Unknown action 'HIDE'"),
            ({"action": "hide", "post_ids": []}, "Select at least one post."),
            ({"action": "hide"}, "post_ids must be a list of post ids."),
            ({"action": "hide", "post_ids": "1,2"}, "post_ids must be a list of post ids."),
            ({"action": "hide", "post_ids": [1, "2"]}, "'2' is not one"),
            ({"action": "hide", "post_ids": [1.5]}, "1.5 is not one"),
            ({"action": "hide", "post_ids": [True]}, "True is not one"),
            ({"action": "hide", "post_ids": [-3]}, "-3 is not one"),
            ({"action": "hide", "post_ids": [0]}, "0 is not one"),
            ({"action": "hide", "post_ids": [2**64]}, "is not one"),
            ({"action": "hide", "post_ids": [None]}, "None is not one"),
            ("not json", "The request body must be JSON."),
            ("[1, 2]", "The request body must be a JSON object."),
            ("", "The request body must be a JSON object."),
        ],
    )
    def test_it_refuses_malformed_requests_and_changes_nothing(
        self, owner, owner_client, body, message
    ):
        make_posts(owner, 2)
        assert_refused(owner_client, body, message)

    def test_it_refuses_a_batch_with_one_bad_id_as_a_whole(self, owner, owner_client):
        posts = make_posts(owner, 5)
        ids = [post.pk for post in posts] + ["6"]
        assert_refused(owner_client, {"action": "delete", "post_ids": ids}, "'6' is not one")

    @pytest.mark.parametrize("action", ["hide", "unhide", "delete"])
    def test_it_refuses_a_deleted_post_and_changes_nothing(self, owner, owner_client, action):
        live = make_posts(owner, 3, hidden_by_user=action == "unhide")
        (gone,) = make_posts(owner, 1, deleted_by_user=True, deleted_by_user_date=timezone.now())
        assert_refused(
            owner_client,
            {"action": action, "post_ids": [p.pk for p in live] + [gone.pk]},
            f"Post {gone.pk} is",
        )

    def test_it_refuses_a_playlist_and_changes_nothing(self, owner, owner_client):
        live = make_posts(owner, 3)
        (playlist,) = make_posts(owner, 1, kind="playlist")
        assert_refused(
            owner_client,
            {"action": "hide", "post_ids": [p.pk for p in live] + [playlist.pk]},
            f"Post {playlist.pk} is a playlist",
        )

    def test_it_refuses_an_unknown_id_and_changes_nothing(self, owner, owner_client):
        live = make_posts(owner, 3)
        assert_refused(
            owner_client,
            {"action": "delete", "post_ids": [p.pk for p in live] + [8_888_888]},
            "Post 8888888 is not one of your posts. Nothing was changed.",
        )

    def test_it_refuses_restoring_a_live_post(self, owner, owner_client):
        (live,) = make_posts(owner, 1)
        assert_refused(
            owner_client,
            {"action": "restore", "post_ids": [live.pk]},
            f"Post {live.pk} is not deleted, so there is nothing to restore.",
        )

    def test_it_refuses_a_body_too_large(self, owner, owner_client):
        body = {"action": "hide", "post_ids": [1] * 30_000}
        assert_refused(owner_client, body, "too large", status=413)


class TestAccess:
    def test_it_refuses_another_users_posts_and_changes_nothing(self, owner, other, other_client):
        mine = make_posts(owner, 3)
        (theirs,) = make_posts(other, 1)
        for action in ("hide", "delete"):
            assert_refused(
                other_client,
                {"action": action, "post_ids": [theirs.pk] + [p.pk for p in mine]},
                "are not your posts. Nothing was changed.",
            )
        assert not Post.objects.filter(hidden_by_user=True).exists()

    def test_it_refuses_restoring_another_users_deleted_post(self, owner, other_client):
        (post,) = make_posts(owner, 1, deleted_by_user=True, deleted_by_user_date=timezone.now())
        assert_refused(
            other_client,
            {"action": "restore", "post_ids": [post.pk]},
            f"Post {post.pk} is not one of your posts.",
        )

    def test_it_answers_anonymous_with_401_json(self, owner, client):
        posts = make_posts(owner, 2)
        assert_refused(
            client,
            {"action": "hide", "post_ids": [p.pk for p in posts]},
            "Log in to use the PMD API.",
            status=401,
        )

    def test_it_refuses_get(self, owner_client):
        assert owner_client.get(URL).status_code == 405

    def test_it_needs_the_csrf_token(self, owner):
        (post,) = make_posts(owner, 1)
        client = Client(enforce_csrf_checks=True)
        client.force_login(owner)
        assert_refused(
            client,
            {"action": "hide", "post_ids": [post.pk]},
            "security token (CSRF) is missing or out of date",
            status=403,
        )
        client.get("/accounts/login/")  # as the page does: it renders the token
        token = client.cookies["csrftoken"].value
        response = post_json(client, {"action": "hide", "post_ids": [post.pk]}, X_CSRFToken=token)
        assert response.status_code == 200
        assert flags(post)[0] is True

    def test_anonymous_without_a_csrf_token_hears_401_not_403(self, owner):
        (post,) = make_posts(owner, 1)
        assert_refused(
            Client(enforce_csrf_checks=True),
            {"action": "hide", "post_ids": [post.pk]},
            "Log in to use the PMD API.",
            status=401,
        )

    def test_other_pages_keep_djangos_csrf_page(self, owner):
        client = Client(enforce_csrf_checks=True)
        response = client.post("/accounts/login/", {"username": "alice", "password": "x"})
        assert response.status_code == 403
        assert response["Content-Type"].startswith("text/html")

    def test_a_wrong_csrf_token_is_refused(self, owner):
        (post,) = make_posts(owner, 1)
        client = Client(enforce_csrf_checks=True)
        client.force_login(owner)
        client.get("/accounts/login/")
        before = database_state()
        response = post_json(
            client, {"action": "hide", "post_ids": [post.pk]}, X_CSRFToken="x" * 32
        )
        assert response.status_code == 403
        assert database_state() == before


class TestPublicProfile:
    """Hidden and deleted posts leave the profile at once; unhidden and
    restored ones come back."""

    def profile(self, owner) -> str:
        return Client().get(f"/u/{user_sqid(owner.pk)}/").content.decode()

    def shown(self, owner, posts) -> list[bool]:
        body = self.profile(owner)
        return [f'src="{post.art_url}"' in body for post in posts]

    def test_hide_unhide_delete_restore_show_on_the_profile(self, owner, owner_client):
        (kept,) = make_posts(owner, 1, title="Kept frog")
        moved = make_posts(owner, 2, title="Moving toad")
        ids = [post.pk for post in moved]
        assert self.shown(owner, moved) == [True, True]
        steps = [("hide", False), ("unhide", True), ("delete", False), ("restore", True)]
        for action, shown in steps:
            response = post_json(owner_client, {"action": action, "post_ids": ids})
            assert response.status_code == 200, response.content
            assert self.shown(owner, moved) == [shown, shown], action
            assert self.shown(owner, [kept]) == [True]

    def test_a_moderator_hidden_post_does_not_come_back_on_unhide(self, owner, owner_client):
        (post,) = make_posts(
            owner, 1, title="Flagged newt", hidden_by_user=True, hidden_by_mod=True
        )
        assert self.shown(owner, [post]) == [False]
        post_json(owner_client, {"action": "unhide", "post_ids": [post.pk]})
        assert self.shown(owner, [post]) == [False]
        assert "Flagged newt" not in self.profile(owner)

    def test_a_restored_hidden_post_stays_off_the_profile(self, owner, owner_client):
        (post,) = make_posts(owner, 1, title="Shy axolotl", hidden_by_user=True)
        post_json(owner_client, {"action": "delete", "post_ids": [post.pk]})
        post_json(owner_client, {"action": "restore", "post_ids": [post.pk]})
        assert flags(post)[:3] == (True, False, False)
        assert self.shown(owner, [post]) == [False]
        post_json(owner_client, {"action": "unhide", "post_ids": [post.pk]})
        assert self.shown(owner, [post]) == [True]
        assert "Shy axolotl" in self.profile(owner)


class TestHashtags:
    def test_it_adds_and_removes_one_hashtag_and_says_which_posts_changed(
        self, owner, owner_client
    ):
        (has_it,) = make_posts(owner, 1, hashtags="retro Pixel")
        lacking = make_posts(owner, 2, hashtags="retro")
        ids = [has_it.pk] + [post.pk for post in lacking]
        response = post_json(
            owner_client, {"action": "add_hashtag", "post_ids": ids, "hashtag": "#PIXEL"}
        )
        assert response.status_code == 200, response.content
        data = response.json()
        assert (data["action"], data["hashtag"]) == ("add_hashtag", "pixel")
        assert data["changed_ids"] == [post.pk for post in lacking]
        assert (data["affected_count"], data["requested_count"], data["full_ids"]) == (2, 3, [])
        assert data["message"] == "Added #pixel to 2 posts (1 already had it)."
        assert [hashtags(post) for post in lacking] == ["retro pixel", "retro pixel"]
        assert hashtags(has_it) == "retro Pixel"
        # Idempotent: the same request again changes nothing.
        again = post_json(
            owner_client, {"action": "add_hashtag", "post_ids": ids, "hashtag": "pixel"}
        ).json()
        assert (again["affected_count"], again["changed_ids"]) == (0, [])
        removed = post_json(
            owner_client, {"action": "remove_hashtag", "post_ids": ids, "hashtag": "PIXEL"}
        ).json()
        assert removed["changed_ids"] == ids
        assert removed["message"] == "Removed #pixel from 3 posts."
        assert {hashtags(post) for post in [has_it, *lacking]} == {"retro"}
        entries = ActivityEntry.objects.order_by("id")
        assert [(e.action, e.hashtag, e.count) for e in entries] == [
            ("add_hashtag", "pixel", 2),
            ("add_hashtag", "pixel", 0),
            ("remove_hashtag", "pixel", 3),
        ]

    def test_it_reports_posts_already_at_the_cap(self, owner, owner_client):
        (full,) = make_posts(owner, 1, hashtags=" ".join(f"t{n}" for n in range(16)))
        (roomy,) = make_posts(owner, 1)
        response = post_json(
            owner_client,
            {"action": "add_hashtag", "post_ids": [full.pk, roomy.pk], "hashtag": "fox"},
        )
        assert response.status_code == 200
        data = response.json()
        assert (data["changed_ids"], data["full_ids"]) == ([roomy.pk], [full.pk])
        assert data["message"] == (
            "Added #fox to 1 post. 1 post has no room for another hashtag (at most 16 per "
            "post), so #fox was not added to it."
        )
        assert "fox" not in hashtags(full)

    @pytest.mark.parametrize(
        ("body", "message"),
        [
            ({"action": "add_hashtag"}, 'add_hashtag needs a hashtag, such as "pixelart".'),
            ({"action": "remove_hashtag"}, "remove_hashtag needs a hashtag"),
            ({"action": "add_hashtag", "hashtag": ""}, 'Type a hashtag, such as "pixelart".'),
            ({"action": "add_hashtag", "hashtag": "#"}, "Type a hashtag"),
            ({"action": "add_hashtag", "hashtag": "pixel-art"}, "'-' is not one."),
            ({"action": "add_hashtag", "hashtag": "two words"}, "' ' is not one."),
            ({"action": "add_hashtag", "hashtag": "x" * 31}, "at most 30 characters"),
            ({"action": "add_hashtag", "hashtag": None}, 'hashtag must be text, such as "pix'),
            ({"action": "add_hashtag", "hashtag": 5}, 'hashtag must be text, such as "pix'),
            ({"action": "add_hashtag", "hashtag": ["a"]}, "hashtag must be text"),
            ({"action": "hide", "hashtag": "pixel"}, "leave it out for hide."),
            ({"action": "delete", "hashtag": "pixel"}, "leave it out for delete."),
            ({"action": "unhide", "hashtag": None}, "hashtag must be text"),
        ],
    )
    def test_it_refuses_a_bad_missing_or_unwanted_hashtag_and_changes_nothing(
        self, owner, owner_client, body, message
    ):
        posts = make_posts(owner, 2, hashtags="retro")
        assert_refused(owner_client, {**body, "post_ids": [p.pk for p in posts]}, message)

    @pytest.mark.parametrize("action", ["add_hashtag", "remove_hashtag"])
    def test_it_refuses_ids_that_are_not_the_callers_live_artworks(
        self, owner, other, owner_client, action
    ):
        live = make_posts(owner, 3, hashtags="pixel")
        (theirs,) = make_posts(other, 1, hashtags="pixel")
        (gone,) = make_posts(
            owner, 1, hashtags="pixel", deleted_by_user=True, deleted_by_user_date=timezone.now()
        )
        (playlist,) = make_posts(owner, 1, hashtags="pixel", kind="playlist")
        ids = [post.pk for post in live]
        for bad, message in (
            (theirs, f"Post {theirs.pk} is not one of your posts. Nothing was changed."),
            (gone, f"Post {gone.pk} is deleted. Nothing was changed."),
            (playlist, f"Post {playlist.pk} is a playlist"),
        ):
            assert_refused(
                owner_client,
                {"action": action, "post_ids": [*ids, bad.pk], "hashtag": "pixel"},
                message,
            )

    def test_it_takes_128_posts_and_refuses_129(self, owner, owner_client):
        ids = [post.pk for post in make_posts(owner, 129)]
        assert_refused(
            owner_client,
            {"action": "add_hashtag", "post_ids": ids, "hashtag": "fox"},
            "At most 128 posts per request; this one has 129.",
        )
        response = post_json(
            owner_client, {"action": "add_hashtag", "post_ids": ids[:128], "hashtag": "fox"}
        )
        assert response.json()["affected_count"] == 128

    @pytest.mark.django_db(transaction=True)
    def test_a_128_post_add_costs_at_most_6_queries(
        self, owner, owner_client, django_assert_max_num_queries
    ):
        ids = [post.pk for post in make_posts(owner, 128)]
        with django_assert_max_num_queries(8) as captured:
            response = post_json(
                owner_client, {"action": "add_hashtag", "post_ids": ids, "hashtag": "fox"}
            )
        assert response.status_code == 200
        statements = [query["sql"] for query in captured.captured_queries]
        queries = [sql for sql in statements if not sql.startswith(("BEGIN", "COMMIT"))]
        assert [sql.split()[0] for sql in queries] == [
            "SELECT",  # session
            "SELECT",  # user
            "SELECT",  # the posts, locked and validated, with their hashtags
            "UPDATE",  # one statement for all 128
            "INSERT",  # the audit entry
        ]
        assert Post.objects.filter(hashtags="pixelart fox").count() == 128

    def test_the_table_search_finds_the_hashtag_at_once(self, owner, owner_client):
        tagged = make_posts(owner, 3, title="Lake")
        make_posts(owner, 2, title="Lake")
        post_json(
            owner_client,
            {"action": "add_hashtag", "post_ids": [p.pk for p in tagged], "hashtag": "Heron"},
        )
        body = owner_client.get(
            f"/u/{user_sqid(owner.pk)}/posts", {"q": "#heron"}, headers={"HX-Request": "true"}
        ).content.decode()
        shown = {int(post_id) for post_id in re.findall(r'data-post-id="(\d+)"', body)}
        assert shown == {post.pk for post in tagged}


class TestUndo:
    def test_it_undoes_an_action_by_its_activity_id(self, owner, owner_client):
        posts = make_posts(owner, 2) + make_posts(owner, 1, hidden_by_user=True)
        ids = [post.pk for post in posts]
        hid = post_json(owner_client, {"action": "hide", "post_ids": ids}).json()
        response = post_json(owner_client, {"activity_id": hid["activity_id"]}, url=UNDO_URL)
        assert response.status_code == 200, response.content
        data = response.json()
        assert data == {
            "success": True,
            "action": "unhide",
            "hashtag": None,
            "affected_count": 2,
            "requested_count": 2,
            "changed_ids": ids[:2],
            "full_ids": [],
            "message": "Undid hiding 2 posts.",
            "activity_id": data["activity_id"],
            "undo_of": hid["activity_id"],
        }
        assert [flags(post)[0] for post in posts] == [False, False, True]
        undo_entry = ActivityEntry.objects.get(pk=data["activity_id"])
        assert (undo_entry.action, undo_entry.undo_of_id) == ("unhide", hid["activity_id"])

    def test_undoing_a_delete_restores_and_a_hashtag_add_removes(self, owner, owner_client):
        posts = make_posts(owner, 2, hashtags="retro")
        ids = [post.pk for post in posts]
        deleted = post_json(owner_client, {"action": "delete", "post_ids": ids}).json()
        post_json(owner_client, {"activity_id": deleted["activity_id"]}, url=UNDO_URL)
        assert [flags(post)[2:] for post in posts] == [(False, None), (False, None)]
        added = post_json(
            owner_client, {"action": "add_hashtag", "post_ids": ids, "hashtag": "fox"}
        ).json()
        undone = post_json(owner_client, {"activity_id": added["activity_id"]}, url=UNDO_URL)
        assert undone.json()["message"] == "Undid adding #fox to 2 posts."
        assert [hashtags(post) for post in posts] == ["retro", "retro"]

    @pytest.mark.parametrize(
        ("body", "message"),
        [
            ({}, "activity_id: Input should be a valid integer."),
            ({"activity_id": "5"}, "activity_id: Input should be a valid integer."),
            ({"activity_id": 1.0}, "activity_id: Input should be a valid integer."),
            ({"activity_id": True}, "activity_id: Input should be a valid integer."),
            ({"activity_id": 0}, "activity_id: Input should be greater than or equal to 1."),
            ({"activity_id": 2**63}, "activity_id: Input should be less than"),
            ({"activity_id": 1, "post_ids": [1]}, "Unknown field 'post_ids'; leave it out."),
        ],
    )
    def test_it_refuses_a_malformed_request(self, owner_client, body, message):
        assert_refused(owner_client, body, message, url=UNDO_URL)

    def test_it_answers_404_for_another_users_action(self, owner, owner_client, other_client):
        (post,) = make_posts(owner, 1)
        hid = post_json(owner_client, {"action": "hide", "post_ids": [post.pk]}).json()
        for activity_id in (hid["activity_id"], hid["activity_id"] + 999):
            assert_refused(
                other_client,
                {"activity_id": activity_id},
                "You have no action with that activity_id to undo.",
                status=404,
                url=UNDO_URL,
            )
        assert flags(post)[0] is True

    def test_it_refuses_a_second_undo(self, owner, owner_client):
        (post,) = make_posts(owner, 1)
        hid = post_json(owner_client, {"action": "hide", "post_ids": [post.pk]}).json()
        body = {"activity_id": hid["activity_id"]}
        assert post_json(owner_client, body, url=UNDO_URL).status_code == 200
        assert_refused(owner_client, body, "That action has already been undone.", url=UNDO_URL)

    def test_it_answers_anonymous_with_401(self, db, client):
        assert_refused(
            client, {"activity_id": 1}, "Log in to use the PMD API.", status=401, url=UNDO_URL
        )
