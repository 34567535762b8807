"""Cached post counts (pmd/counts.py): keyed on the owner's posts version,
which the database bumps whoever writes, so the dashboard's totals are right
at once after any write path."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pmd import counts
from pmd.counts import cached_count
from pmd.selectors import PostQuery, matching_posts
from posts.models import Post
from posts.public_ids import user_sqid
from testing.factories import make_comment, make_post, make_posts, make_reaction
from testing.services import require_redis
from tests.admin_forms import admin_post_form


@pytest.fixture
def redis_cache(settings):
    require_redis()
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": settings.REDIS_URL,
            "KEY_PREFIX": f"pmd-test-counts-{timezone.now().timestamp()}",
        }
    }
    from django.core.cache import cache

    return cache


@pytest.fixture
def staff_client(staff) -> Client:
    client = Client()
    client.force_login(staff)
    return client


class Computes:
    """A compute() that says how often it ran."""

    def __init__(self, value: int):
        self.value, self.calls = value, 0

    def __call__(self) -> int:
        self.calls += 1
        return self.value


class TestCachedCount:
    def test_it_computes_once_until_the_owner_posts_change(self, redis_cache, owner):
        compute = Computes(41)
        assert cached_count(owner.pk, "all", compute) == 41
        assert cached_count(owner.pk, "all", compute) == 41
        assert compute.calls == 1
        make_posts(owner, 1)
        compute.value = 42
        assert cached_count(owner.pk, "all", compute) == 42
        assert compute.calls == 2

    def test_owners_and_keys_are_kept_apart(self, redis_cache, owner, other):
        assert cached_count(owner.pk, "all", lambda: 5) == 5
        assert cached_count(other.pk, "all", lambda: 9) == 9
        assert cached_count(owner.pk, "hidden", lambda: 2) == 2
        make_posts(other, 1)
        assert cached_count(owner.pk, "all", lambda: 100) == 5
        assert cached_count(other.pk, "all", lambda: 10) == 10

    def test_new_comments_reactions_and_views_keep_the_counts(self, redis_cache, owner, other):
        # They change no filter's result: a busy post must not cost a COUNT per view.
        (post,) = make_posts(owner, 1)
        assert cached_count(owner.pk, "all", lambda: 1) == 1
        make_comment(post)
        make_reaction(post, other)
        Post.objects.filter(pk=post.pk).update(view_count=7)
        assert cached_count(owner.pk, "all", lambda: 99) == 1

    def test_one_version_read_serves_every_count(self, redis_cache, owner):
        computes = {"a": lambda: 1, "b": lambda: 2, "c": lambda: 3}
        assert counts.cached_counts(owner.pk, computes) == {"a": 1, "b": 2, "c": 3}
        with CaptureQueriesContext(connection) as captured:
            assert counts.cached_counts(owner.pk, computes) == {"a": 1, "b": 2, "c": 3}
        assert len(captured.captured_queries) == 1

    def test_it_still_counts_when_the_cache_is_down(self, settings, owner):
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": "redis://127.0.0.1:1/0",
                "OPTIONS": {"socket_connect_timeout": 0.2},
            }
        }
        assert cached_count(owner.pk, "all", lambda: 12) == 12
        make_posts(owner, 1)  # the version moves on; nothing to tell the cache
        assert cached_count(owner.pk, "all", lambda: 13) == 13


# --- The dashboard's totals after every write path ------------------------------

FILTERS = {
    "": {},
    "&visibility=visible": {"visibility": "visible"},
    "&visibility=hidden": {"visibility": "hidden"},
    "&format=gif": {"file_format": "gif"},
}


def _shown(client: Client, owner, query: str) -> tuple[int, int, int]:
    """(header total, table total, rows) of the owner's table partial."""
    response = client.get(
        f"/u/{user_sqid(owner.pk)}/posts?size=64{query}", headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    return (
        int(re.search(r'data-live-total="(\d+)"', html)[1]),
        int(re.search(r'data-total="(\d+)"', html)[1]),
        len(re.findall(r"<tr data-post-id=", html)),
    )


def _true(owner, query: str) -> tuple[int, int, int]:
    total = matching_posts(PostQuery(owner=owner, **FILTERS[query])).count()
    return matching_posts(PostQuery(owner=owner)).count(), total, min(total, 64)


def _deleted(post: Post) -> None:
    post.deleted_by_user, post.deleted_by_user_date = True, timezone.now()


def _admin_change(client: Client, post: Post, **changes) -> None:
    url = f"/admin/posts/post/{post.pk}/change/"
    response = client.post(url, admin_post_form(post, **changes))
    assert response.status_code == 302, response.content.decode()[:3000]


def admin_bulk_delete(client, owner, posts, other):
    response = client.post(
        "/admin/posts/post/",
        {"action": "delete_selected", "_selected_action": [p.pk for p in posts[:4]], "post": "yes"},
    )
    assert response.status_code == 302


def admin_delete(client, owner, posts, other):
    response = client.post(f"/admin/posts/post/{posts[0].pk}/delete/", {"post": "yes"})
    assert response.status_code == 302


def admin_hides(client, owner, posts, other):
    _admin_change(client, posts[0], hidden_by_mod=True)


def admin_soft_deletes(client, owner, posts, other):
    _admin_change(client, posts[1], deleted_by_user=True, deleted_by_user_date=timezone.now())


def admin_gives_the_post_to_another_user(client, owner, posts, other):
    _admin_change(client, posts[2], owner_id=other.pk)


def admin_changes_the_format(client, owner, posts, other):
    _admin_change(client, posts[3], file_format="gif")


def orm_save(client, owner, posts, other):
    _deleted(posts[0])
    posts[0].save()


def orm_create(client, owner, posts, other):
    make_post(owner, write_file=False, file_format="gif")


def orm_delete(client, owner, posts, other):
    posts[0].delete()


def orm_bulk_create(client, owner, posts, other):
    make_posts(owner, 3, hidden_by_user=True)


def queryset_update(client, owner, posts, other):
    Post.objects.filter(pk__in=[p.pk for p in posts[:4]]).update(hidden_by_mod=True)


def queryset_delete(client, owner, posts, other):
    Post.objects.filter(pk__in=[p.pk for p in posts[:4]]).delete()


def raw_sql(client, owner, posts, other):
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE posts_post SET kind = 'playlist' WHERE id IN (%s, %s)",
            [posts[0].pk, posts[1].pk],
        )
        cursor.execute("DELETE FROM posts_post WHERE id = %s", [posts[2].pk])


def seed_demo(client, owner, posts, other):
    call_command("seed_demo", "--user", owner.username, "--posts", "45", "--seed", "4")


WRITES = [
    admin_bulk_delete,
    admin_delete,
    admin_hides,
    admin_soft_deletes,
    admin_gives_the_post_to_another_user,
    admin_changes_the_format,
    orm_save,
    orm_create,
    orm_delete,
    orm_bulk_create,
    queryset_update,
    queryset_delete,
    raw_sql,
    seed_demo,
]


class TestTotalsAfterAnyWrite:
    @pytest.mark.parametrize("write", WRITES, ids=[write.__name__ for write in WRITES])
    def test_the_dashboard_is_right_at_once(
        self, redis_cache, owner, other, owner_client, staff_client, write
    ):
        posts = [
            *make_posts(owner, 30),
            *make_posts(owner, 5, file_format="gif", hidden_by_user=True),
        ]
        other_client = Client()
        other_client.force_login(other)
        before = {query: _shown(owner_client, owner, query) for query in FILTERS}
        assert before == {query: _true(owner, query) for query in FILTERS}
        assert _shown(other_client, other, "") == (0, 0, 0)

        write(staff_client, owner, posts, other)
        owner.refresh_from_db()
        owner_client.force_login(owner)  # seed_demo sets the password again

        after = {query: _shown(owner_client, owner, query) for query in FILTERS}
        assert after != before, "the dashboard shows no change"
        assert after == {query: _true(owner, query) for query in FILTERS}
        assert _shown(other_client, other, "") == _true(other, "")

    def test_the_issues_example_the_list_and_the_total_agree(
        self, redis_cache, owner, owner_client, staff_client
    ):
        # The list showed 31 posts while the total said 35 for ten minutes.
        posts = make_posts(owner, 35)
        assert _shown(owner_client, owner, "") == (35, 35, 35)
        admin_bulk_delete(staff_client, owner, posts, None)
        assert _shown(owner_client, owner, "") == (31, 31, 31)

    def test_the_json_api_total_follows_too(self, redis_cache, owner, owner_client):
        posts = make_posts(owner, 6, created_at=timezone.now() - timedelta(days=1))
        assert owner_client.get("/api/pmd/posts").json()["total_count"] == 6
        Post.objects.filter(pk=posts[0].pk).delete()
        body = owner_client.get("/api/pmd/posts").json()
        assert body["total_count"] == len(body["items"]) == 5
