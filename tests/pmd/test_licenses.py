"""Licences: the seeded table, set_license through POST /api/pmd/action and
its undo, the list API's `license`, the table's column and filter."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pmd.models import ActivityEntry
from posts.models import License, Post
from posts.public_ids import user_sqid
from testing.factories import ensure_licenses, make_posts

URL = "/api/pmd/action"
UNDO_URL = "/api/pmd/action/undo"
SEEDED = {
    "CC0-1.0",
    "CC-BY-4.0",
    "CC-BY-SA-4.0",
    "CC-BY-NC-4.0",
    "CC-BY-NC-SA-4.0",
    "CC-BY-ND-4.0",
    "CC-BY-NC-ND-4.0",
}


@pytest.fixture(autouse=True)
def _licenses(db):
    ensure_licenses()


def post_json(client: Client, body, url: str = URL):
    return client.post(url, json.dumps(body), content_type="application/json")


def licenses_of(posts) -> list[str | None]:
    by_id = dict(Post.objects.filter(pk__in=[p.pk for p in posts]).values_list("id", "license"))
    return [by_id[p.pk] for p in posts]


def state() -> tuple[list, int]:
    return list(Post.objects.order_by("id").values_list("id", "license")), (
        ActivityEntry.objects.count()
    )


class TestTable:
    def test_the_migration_seeds_the_common_licences(self, db):
        assert set(License.objects.values_list("identifier", flat=True)) >= SEEDED
        cc_by = License.objects.get(identifier="CC-BY-4.0")
        assert cc_by.url == "https://creativecommons.org/licenses/by/4.0/"
        assert "Attribution" in cc_by.name


class TestSetLicense:
    def test_it_sets_the_licence_and_counts_what_changed(self, owner, owner_client):
        posts = make_posts(owner, 3)
        Post.objects.filter(pk=posts[0].pk).update(license="CC-BY-4.0")
        response = post_json(
            owner_client,
            {"action": "set_license", "post_ids": [p.pk for p in posts], "license": "CC-BY-4.0"},
        )
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["affected_count"] == 2, (body, licenses_of(posts))
        assert body["changed_ids"] == [posts[1].pk, posts[2].pk]
        assert body["message"] == "2 posts set to CC-BY-4.0 (1 already had it)."
        assert licenses_of(posts) == ["CC-BY-4.0"] * 3
        entry = ActivityEntry.objects.get(pk=body["activity_id"])
        assert (entry.action, entry.value, entry.count) == ("set_license", "CC-BY-4.0", 2)

    def test_null_clears_the_licence(self, owner, owner_client):
        posts = make_posts(owner, 2, license_id="CC0-1.0")
        response = post_json(
            owner_client,
            {"action": "set_license", "post_ids": [p.pk for p in posts], "license": None},
        )
        assert response.status_code == 200
        assert response.json()["message"] == "2 posts set to all rights reserved."
        assert licenses_of(posts) == [None, None]

    def test_undo_puts_back_each_posts_own_licence(self, owner, owner_client):
        posts = make_posts(owner, 4)
        before = ["CC0-1.0", None, "CC-BY-NC-ND-4.0", "CC-BY-SA-4.0"]
        for post, license in zip(posts, before, strict=True):
            Post.objects.filter(pk=post.pk).update(license=license)
        done = post_json(
            owner_client,
            {"action": "set_license", "post_ids": [p.pk for p in posts], "license": "CC-BY-4.0"},
        ).json()
        # Someone changes one of them since: the undo leaves it be.
        Post.objects.filter(pk=posts[3].pk).update(license="CC0-1.0")
        response = post_json(owner_client, {"activity_id": done["activity_id"]}, UNDO_URL)
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["undo_of"] == done["activity_id"]
        assert body["affected_count"] == 3
        assert "1 had changed since" in body["message"]
        assert licenses_of(posts) == ["CC0-1.0", None, "CC-BY-NC-ND-4.0", "CC0-1.0"]
        again = post_json(owner_client, {"activity_id": done["activity_id"]}, UNDO_URL)
        assert again.status_code == 400
        assert "already been undone" in again.json()["error"]

    def test_the_recent_activity_names_the_licence(self, owner, owner_client, owner_sqid):
        posts = make_posts(owner, 2)
        post_json(
            owner_client,
            {"action": "set_license", "post_ids": [p.pk for p in posts], "license": "CC0-1.0"},
        )
        page = owner_client.get(f"/u/{owner_sqid}/posts/activity")
        assert "Set the licence of 2 posts to CC0-1.0" in page.content.decode()

    @pytest.mark.parametrize(
        ("extra", "message"),
        [
            ({"license": "CC-BY-5.0"}, "Unknown licence 'CC-BY-5.0'"),
            ({"license": "cc-by-4.0"}, "Unknown licence"),
            ({"license": ""}, "license must be a licence identifier"),
            ({"license": 4}, "license must be a licence identifier"),
            ({}, "set_license needs a licence"),
            ({"license": "CC0-1.0", "hashtag": "x"}, "Only add_hashtag and remove_hashtag"),
        ],
    )
    def test_it_refuses_a_bad_licence_and_changes_nothing(
        self, owner, owner_client, extra, message
    ):
        posts = make_posts(owner, 2)
        before = state()
        response = post_json(
            owner_client, {"action": "set_license", "post_ids": [p.pk for p in posts], **extra}
        )
        assert response.status_code == 400
        assert message in response.json()["error"]
        assert state() == before

    def test_other_actions_refuse_a_licence(self, owner, owner_client):
        posts = make_posts(owner, 1)
        response = post_json(
            owner_client, {"action": "hide", "post_ids": [posts[0].pk], "license": None}
        )
        assert response.status_code == 400
        assert "Only set_license takes a licence" in response.json()["error"]

    def test_it_refuses_another_users_post_and_more_than_128(self, owner, other, owner_client):
        theirs = make_posts(other, 1)
        mine = make_posts(owner, 129)
        before = state()
        for ids, message in (
            ([mine[0].pk, theirs[0].pk], "is not one of your posts"),
            ([p.pk for p in mine], "At most 128 posts per request"),
        ):
            response = post_json(
                owner_client, {"action": "set_license", "post_ids": ids, "license": "CC0-1.0"}
            )
            assert response.status_code == 400
            assert message in response.json()["error"]
        assert state() == before

    @pytest.mark.django_db(transaction=True)
    def test_a_128_post_request_costs_at_most_6_queries(
        self, owner, owner_client, django_assert_max_num_queries
    ):
        ids = [post.pk for post in make_posts(owner, 128)]
        with django_assert_max_num_queries(8) as captured:
            response = post_json(
                owner_client, {"action": "set_license", "post_ids": ids, "license": "CC-BY-4.0"}
            )
        assert response.status_code == 200
        queries = [
            query["sql"]
            for query in captured.captured_queries
            if not query["sql"].startswith(("BEGIN", "COMMIT"))
        ]
        assert [sql.split()[0] for sql in queries] == [
            "SELECT",  # session
            "SELECT",  # user
            "SELECT",  # the licence exists
            "SELECT",  # the posts, locked and validated
            "UPDATE",  # one statement for all 128
            "INSERT",  # the audit entry
        ]
        assert Post.objects.filter(license="CC-BY-4.0").count() == 128


@given(
    license=st.one_of(
        st.none(),
        st.text(max_size=80),
        st.sampled_from(sorted(SEEDED)),
        st.integers(),
        st.booleans(),
        st.lists(st.text(max_size=3), max_size=2),
        st.dictionaries(st.text(max_size=3), st.text(max_size=3), max_size=2),
    )
)
@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_licence_value_is_set_or_refused_cleanly(owner, owner_client, license):
    post = Post.objects.filter(owner=owner).first() or make_posts(owner, 1)[0]
    before = state()
    response = post_json(
        owner_client, {"action": "set_license", "post_ids": [post.pk], "license": license}
    )
    assert response.status_code in (200, 400), response.content
    if response.status_code == 400:
        assert set(response.json()) == {"error"}
        assert state() == before
    else:
        post.refresh_from_db()
        assert post.license_id == license


class TestLists:
    def test_the_list_api_gives_each_posts_licence(self, owner, owner_client):
        licensed = make_posts(owner, 1, license_id="CC-BY-NC-4.0")[0]
        plain = make_posts(owner, 1)[0]
        items = {item["id"]: item for item in owner_client.get("/api/pmd/posts").json()["items"]}
        assert items[licensed.pk]["license"] == "CC-BY-NC-4.0"
        assert items[plain.pk]["license"] is None

    def test_the_ids_api_filters_by_licence(self, owner, owner_client):
        licensed = make_posts(owner, 2, license_id="CC0-1.0")
        plain = make_posts(owner, 3)
        for value, expected in (
            ("CC0-1.0", licensed),
            ("none", plain),
            ("all", licensed + plain),
            ("CC-BY-4.0", []),
        ):
            body = owner_client.get("/api/pmd/posts/ids", {"license": value}).json()
            assert sorted(body["ids"]) == sorted(p.pk for p in expected), value
            assert body["total_count"] == len(expected)

    def test_the_table_shows_sorts_and_filters_the_licence(self, owner, owner_client):
        a = make_posts(owner, 1, title="Alpha", license_id="CC0-1.0")[0]
        b = make_posts(owner, 1, title="Bravo", license_id="CC-BY-4.0")[0]
        make_posts(owner, 1, title="Charlie")
        url = f"/u/{user_sqid(owner.pk)}/posts"
        page = owner_client.get(url).content.decode()
        assert 'aria-sort="none"' in page and ">Licence<" in page
        assert '<option value="CC-BY-NC-SA-4.0"' in page

        def titles(query):
            response = owner_client.get(url, query, headers={"HX-Request": "true"})
            return re.findall(
                r'class="truncate" id="t\d+" title="([^"]*)"', response.content.decode()
            )

        ascending = titles({"sort": "license", "dir": "asc"})
        descending = titles({"sort": "license", "dir": "desc"})
        # Posts without a licence together at one end; the order of the
        # identifiers is the database's collation's.
        assert "Charlie" in (ascending[0], ascending[-1])
        assert descending == list(reversed(ascending))
        assert titles({"license": "CC0-1.0"}) == ["Alpha"]
        assert titles({"license": "none"}) == ["Charlie"]
        assert titles({"license": "<script>"}) == titles({})
        # Setting a licence moves the filter's cached count at once.
        assert titles({"license": "CC-BY-4.0"}) == ["Bravo"]
        post_json(
            owner_client, {"action": "set_license", "post_ids": [a.pk], "license": "CC-BY-4.0"}
        )
        assert sorted(titles({"license": "CC-BY-4.0"})) == ["Alpha", "Bravo"]
        assert 'data-total="2"' in owner_client.get(url, {"license": "CC-BY-4.0"}).content.decode()
        assert licenses_of([a, b]) == ["CC-BY-4.0", "CC-BY-4.0"]
