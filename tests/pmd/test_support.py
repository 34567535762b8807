"""Support inside a user's dashboard: staff with pmd.act_for_others open
another user's /u/<sqid>/posts and act there through the API's target_sqid;
everyone else is treated as before."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from pmd.models import ActivityEntry, BatchDownloadRequest
from posts.models import Post
from posts.public_ids import user_sqid
from testing.factories import make_posts, make_user


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def support(db):
    user = make_user("sam", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="act_for_others"))
    return user


@pytest.fixture
def plain_staff(db):
    return make_user("pat", is_staff=True)


def post_json(client: Client, url: str, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def hidden(posts) -> list[bool]:
    return list(
        Post.objects.filter(pk__in=[p.pk for p in posts])
        .order_by("id")
        .values_list("hidden_by_user", flat=True)
    )


class TestPage:
    def test_support_opens_the_dashboard_with_a_banner_naming_the_owner(self, owner, support):
        make_posts(owner, 2, title="Owner's art")
        response = client_for(support).get(f"/u/{user_sqid(owner.pk)}/posts")
        assert response.status_code == 200
        page = response.content.decode()
        assert "You are in <strong>alice</strong>’s dashboard as support" in page
        assert f'data-target-sqid="{user_sqid(owner.pk)}"' in page
        assert "Owner&#x27;s art" in page
        # The live panel follows the owner's events, not support's own.
        assert f'&amp;target_sqid={user_sqid(owner.pk)}">' in page

    def test_the_owner_sees_no_banner(self, owner, owner_client):
        page = owner_client.get(f"/u/{user_sqid(owner.pk)}/posts").content.decode()
        assert "as support" not in page and "data-target-sqid" not in page
        assert "target_sqid" not in page

    @pytest.mark.parametrize("who", ["plain_staff", "other"])
    def test_others_are_sent_to_the_profile_as_before(self, request, owner, who):
        response = client_for(request.getfixturevalue(who)).get(f"/u/{user_sqid(owner.pk)}/posts")
        assert response.status_code == 302
        assert response["Location"] == f"/u/{user_sqid(owner.pk)}/"

    def test_a_superusers_dashboard_is_closed_to_support(self, support):
        boss = make_user("root", is_staff=True, is_superuser=True)
        response = client_for(support).get(f"/u/{user_sqid(boss.pk)}/posts")
        assert response.status_code == 302


class TestApi:
    def test_support_acts_for_the_owner_and_is_recorded_as_actor(self, owner, support):
        posts = make_posts(owner, 3)
        client = client_for(support)
        target = f"?target_sqid={user_sqid(owner.pk)}"
        listed = client.get(f"/api/pmd/posts{target}").json()
        assert {item["id"] for item in listed["items"]} == {p.pk for p in posts}
        response = post_json(
            client, f"/api/pmd/action{target}", {"action": "hide", "post_ids": [posts[0].pk]}
        )
        assert response.status_code == 200, response.content
        entry = ActivityEntry.objects.get(pk=response.json()["activity_id"])
        assert (entry.user, entry.actor) == (owner, support)
        assert hidden(posts) == [True, False, False]
        # The owner sees who did it; support can undo it for them.
        activity = client_for(owner).get(f"/u/{user_sqid(owner.pk)}/posts/activity")
        assert "Hid 1 post" in activity.content.decode()
        assert "(by support: sam)" in activity.content.decode()
        undo = post_json(client, f"/api/pmd/action/undo{target}", {"activity_id": entry.pk}).json()
        assert ActivityEntry.objects.get(pk=undo["activity_id"]).actor == support
        assert hidden(posts) == [False, False, False]

    def test_support_edits_for_the_owner(self, owner, support):
        posts = make_posts(owner, 2, title="typo")
        client = client_for(support)
        target = f"?target_sqid={user_sqid(owner.pk)}"
        body = {"post_ids": [p.pk for p in posts], "title": {"op": "set", "value": "fixed"}}
        token = post_json(client, f"/api/pmd/edit/preview{target}", body).json()["token"]
        applied = post_json(client, f"/api/pmd/edit{target}", {**body, "token": token}).json()
        assert applied["affected_count"] == 2
        assert ActivityEntry.objects.get(pk=applied["activity_id"]).actor == support

    def test_a_download_requested_by_support_is_the_owners(self, owner, support):
        posts = make_posts(owner, 1)
        response = post_json(
            client_for(support),
            f"/api/pmd/bdr?target_sqid={user_sqid(owner.pk)}",
            {
                "post_ids": [posts[0].pk],
                "include_comments": False,
                "include_reactions": False,
                "send_email": True,
            },
        )
        assert response.status_code == 201, response.content
        bdr = BatchDownloadRequest.objects.get()
        # The ready email goes to the request's user: the owner; support is
        # recorded as the one who asked.
        assert bdr.user == owner and bdr.send_email
        assert bdr.requested_by == support
        own = post_json(
            client_for(owner),
            "/api/pmd/bdr",
            {"post_ids": [posts[0].pk], "include_comments": False, "include_reactions": False,
             "send_email": False},
        )  # fmt: skip
        assert own.status_code == 201
        assert BatchDownloadRequest.objects.get(pk=own.json()["id"]).requested_by is None

    def test_without_target_sqid_support_acts_on_their_own_posts(self, owner, support):
        theirs = make_posts(owner, 1)
        response = post_json(
            client_for(support), "/api/pmd/action", {"action": "hide", "post_ids": [theirs[0].pk]}
        )
        assert response.status_code == 400
        assert hidden(theirs) == [False]

    @pytest.mark.parametrize(
        ("who", "target", "status", "message"),
        [
            ("plain_staff", "owner", 403, "You may not act in another user's dashboard."),
            ("other", "owner", 403, "You may not act in another user's dashboard."),
            ("support", "root", 403, "You may not act in another user's dashboard."),
            ("support", "nobody", 404, "No such user."),
        ],
    )
    def test_it_refuses_who_may_not_and_changes_nothing(
        self, request, owner, who, target, status, message
    ):
        boss = make_user("root", is_staff=True, is_superuser=True)
        posts = make_posts(owner, 1) + make_posts(boss, 1)
        sqid = {"owner": user_sqid(owner.pk), "root": user_sqid(boss.pk), "nobody": "zzzzzzzz"}
        client = client_for(request.getfixturevalue(who))
        count = ActivityEntry.objects.count()
        for method, url, body in (
            ("get", "/api/pmd/posts", None),
            ("post", "/api/pmd/action", {"action": "hide", "post_ids": [p.pk for p in posts]}),
        ):
            full = f"{url}?target_sqid={sqid[target]}"
            response = client.get(full) if method == "get" else post_json(client, full, body)
            assert response.status_code == status, (url, response.content)
            assert response.json() == {"error": message}
        assert hidden(posts) == [False, False]
        assert ActivityEntry.objects.count() == count

    def test_the_admin_shows_the_actor(self, owner, support):
        posts = make_posts(owner, 1)
        post_json(
            client_for(support),
            f"/api/pmd/action?target_sqid={user_sqid(owner.pk)}",
            {"action": "hide", "post_ids": [posts[0].pk]},
        )
        admin = make_user("adm", is_staff=True, is_superuser=True)
        page = client_for(admin).get("/admin/pmd/activityentry/").content.decode()
        assert "sam" in page and "alice" in page
