"""Saved views: per user, with their counts, renamed, reordered and deleted
through /api/pmd/views, shown as tabs on the dashboard."""

from __future__ import annotations

import json

import pytest

from pmd.models import SavedView
from posts.public_ids import user_sqid
from testing.factories import make_posts

URL = "/api/pmd/views"


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def patch(client, url, body):
    return client.patch(url, json.dumps(body), content_type="application/json")


@pytest.fixture
def posts(owner):
    make_posts(owner, 3, file_format="gif", frame_count=4)
    make_posts(owner, 2, hidden_by_user=True)


class TestApi:
    def test_it_saves_a_view_with_its_count(self, owner, owner_client, posts):
        response = post(
            owner_client,
            URL,
            {"name": "  Animations ", "q": "frames:>1", "sort": "title", "direction": "asc",
             "size": 64},
        )  # fmt: skip
        assert response.status_code == 201, response.content
        view = response.json()
        assert view | {"id": 0} == {
            "id": 0,
            "name": "Animations",
            "q": "frames:>1",
            "visibility": "all",
            "format": "all",
            "license": "all",
            "sort": "title",
            "direction": "asc",
            "size": 64,
            "position": 0,
            "count": 3,
            "query_string": "q=frames%3A%3E1&sort=title&dir=asc&size=64",
        }
        listed = owner_client.get(URL).json()["items"]
        assert [(item["name"], item["count"]) for item in listed] == [("Animations", 3)]

    @pytest.mark.parametrize(
        ("body", "words"),
        [
            ({"name": ""}, "Give the view a name"),
            ({"name": "x" * 61}, "at most 60 characters"),
            ({"name": "a\u200bb"}, "control or invisible"),
            ({"name": "Bad", "q": "w:>-1"}, "w: takes a whole number"),
            ({"name": "Bad", "q": "license:mit"}, "There is no licence 'mit'"),
            ({"name": "Bad", "sort": "nope"}, "sort:"),
            ({"name": "Bad", "size": 33}, "size:"),
            ({"name": "Bad", "visibility": "gone"}, "visibility:"),
            ({"name": "Bad", "license": "CC BY"}, "license:"),
            ({"name": "Bad", "license": ""}, "license:"),
            ({}, "name:"),
        ],
    )
    def test_bad_views_are_400_and_nothing_is_saved(self, owner_client, body, words):
        response = post(owner_client, URL, body)
        assert response.status_code == 400
        assert words in response.json()["error"]
        assert SavedView.objects.count() == 0

    def test_names_are_unique_per_person_in_any_case_and_limited(self, owner_client, other_client):
        assert post(owner_client, URL, {"name": "Mine"}).status_code == 201
        taken = post(owner_client, URL, {"name": "MINE"})
        assert taken.status_code == 400
        assert "already have a view called 'MINE'" in taken.json()["error"]
        assert post(other_client, URL, {"name": "Mine"}).status_code == 201
        for number in range(19):
            assert post(owner_client, URL, {"name": f"v{number}"}).status_code == 201
        over = post(owner_client, URL, {"name": "one more"})
        assert over.status_code == 400
        assert "at most 20 saved views" in over.json()["error"]

    def test_rename_reorder_and_delete(self, owner_client):
        ids = [post(owner_client, URL, {"name": name}).json()["id"] for name in "ABC"]
        renamed = patch(owner_client, f"{URL}/{ids[1]}", {"name": "Bee"})
        assert renamed.status_code == 200
        assert renamed.json()["name"] == "Bee"
        assert patch(owner_client, f"{URL}/{ids[0]}", {"name": "bee"}).status_code == 400
        order = post(owner_client, f"{URL}/order", {"ids": [ids[2], ids[0], ids[1]]})
        assert [item["name"] for item in order.json()["items"]] == ["C", "A", "Bee"]
        assert [item["name"] for item in owner_client.get(URL).json()["items"]] == ["C", "A", "Bee"]
        for wrong in ([ids[0], ids[1]], [*ids, ids[0]], [*ids, 999]):
            refused = post(owner_client, f"{URL}/order", {"ids": wrong})
            assert refused.status_code == 400
            assert "exactly once" in refused.json()["error"]
        assert owner_client.delete(f"{URL}/{ids[0]}").json() == {"success": True}
        assert [item["name"] for item in owner_client.get(URL).json()["items"]] == ["C", "Bee"]

    def test_nobody_reaches_another_persons_views(self, owner_client, other_client, client):
        view_id = post(owner_client, URL, {"name": "Mine"}).json()["id"]
        assert other_client.get(URL).json() == {"items": []}
        assert patch(other_client, f"{URL}/{view_id}", {"name": "x"}).status_code == 404
        assert other_client.delete(f"{URL}/{view_id}").status_code == 404
        assert post(other_client, f"{URL}/order", {"ids": [view_id]}).status_code == 400
        assert client.get(URL).status_code == 401
        assert SavedView.objects.get(pk=view_id).name == "Mine"

    def test_unsafe_methods_need_the_csrf_token(self, owner):
        from django.test import Client

        client = Client(enforce_csrf_checks=True)
        client.force_login(owner)
        assert post(client, URL, {"name": "x"}).status_code == 403
        assert SavedView.objects.count() == 0


class TestTabs:
    def test_views_are_tabs_with_counts_and_the_current_one_marked(
        self, owner, owner_client, posts
    ):
        post(owner_client, URL, {"name": "Hidden", "visibility": "hidden"})
        post(owner_client, URL, {"name": "GIFs", "format": "gif", "sort": "title",
                                 "direction": "asc"})  # fmt: skip
        page = owner_client.get(f"/u/{user_sqid(owner.pk)}/posts", {"visibility": "hidden"})
        tabs = page.context["view_tabs"]
        assert [(tab.name, tab.count, tab.current) for tab in tabs] == [
            ("Hidden", 2, True),
            ("GIFs", 3, False),
        ]
        assert tabs[1].href == "?format=gif&sort=title&dir=asc"
        html = page.content.decode()
        assert 'data-saved-view="' in html and "Manage views" in html

    def test_a_view_keeps_the_licence_filter(self, owner, owner_client, posts):
        make_posts(owner, 2, license_id="CC0-1.0")
        made = post(owner_client, URL, {"name": "Free", "license": "CC0-1.0"}).json()
        assert (made["license"], made["count"], made["query_string"]) == (
            "CC0-1.0",
            2,
            "license=CC0-1.0",
        )
        page = owner_client.get(f"/u/{user_sqid(owner.pk)}/posts", {"license": "CC0-1.0"})
        assert [(tab.name, tab.count, tab.current) for tab in page.context["view_tabs"]] == [
            ("Free", 2, True)
        ]
        none = post(owner_client, URL, {"name": "Reserved", "license": "none"}).json()
        assert none["count"] == 5

    def test_a_view_whose_search_no_longer_reads_shows_no_count(self, owner, owner_client):
        SavedView.objects.create(user=owner, name="Old", search="shape:round")
        page = owner_client.get(f"/u/{user_sqid(owner.pk)}/posts")
        assert [(tab.name, tab.count) for tab in page.context["view_tabs"]] == [("Old", None)]
