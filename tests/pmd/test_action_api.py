"""POST /api/pmd/action (SPEC §6), through Django's middleware: sessions,
CSRF, the JSON conventions, and what the public profile shows afterwards."""

from __future__ import annotations

import json
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
from tests.factories import make_posts
from tests.pmd.action_state import database_state, flags

URL = "/api/pmd/action"


def post_json(client: Client, body, **headers):
    raw = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(URL, raw, content_type="application/json", headers=headers)


def assert_refused(client: Client, body, expected_message: str, status: int = 400) -> None:
    before = database_state()
    response = post_json(client, body)
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
            "affected_count": 2,
            "requested_count": 3,
            "message": "2 posts hidden (1 was already hidden).",
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
                "1 post deleted. You can restore it from Recently deleted for 7 days.",
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
            deleted_by_user_date=timezone.now() - timedelta(days=6, hours=23),
        )
        (old,) = make_posts(
            owner,
            1,
            deleted_by_user=True,
            deleted_by_user_date=timezone.now() - timedelta(days=7, minutes=1),
        )
        assert_refused(
            owner_client,
            {"action": "restore", "post_ids": [recent.pk, old.pk]},
            f"Post {old.pk} was deleted more than 7 days ago and can no longer be restored.",
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
            ({"post_ids": [1]}, "Say which action to run: one of hide, unhide, delete, restore."),
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
