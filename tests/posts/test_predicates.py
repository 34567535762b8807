"""Which posts count (posts.models.PostQuerySet): each predicate selects what
it says, and on PostgreSQL each one is answered from the partial index whose
condition it is, as the table, the profile and "Recently deleted" read it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from pmd.selectors import PostQuery, matching_posts, table_ordering
from posts.models import SORT_FIELDS, Post
from posts.selectors import visible_posts
from testing.factories import make_post


@pytest.fixture
def kinds(owner, other):
    now = timezone.now()
    posts = {
        "plain": make_post(owner, write_file=False),
        "hidden": make_post(owner, hidden_by_user=True, write_file=False),
        "moderated": make_post(owner, hidden_by_mod=True, write_file=False),
        "playlist": make_post(owner, kind="playlist", write_file=False),
        "just_deleted": make_post(
            owner, deleted_by_user=True, deleted_by_user_date=now, write_file=False
        ),
        "long_deleted": make_post(
            owner,
            deleted_by_user=True,
            deleted_by_user_date=now - timedelta(days=31),
            write_file=False,
        ),
        "deleted_playlist": make_post(
            owner, kind="playlist", deleted_by_user=True, deleted_by_user_date=now, write_file=False
        ),
    }
    make_post(other, write_file=False)
    return posts


def _names(queryset, kinds) -> set[str]:
    ids = set(queryset.values_list("id", flat=True))
    return {name for name, post in kinds.items() if post.pk in ids}


def test_each_predicate_selects_what_it_says(owner, kinds):
    mine = Post.objects.filter(owner=owner)
    assert _names(mine.live_artworks(), kinds) == {"plain", "hidden", "moderated"}
    assert _names(mine.visible(), kinds) == {"plain"}
    assert _names(mine.recently_deleted(), kinds) == {"just_deleted"}
    assert _names(mine.live_artworks().hidden(), kinds) == {"hidden", "moderated"}
    assert _names(mine.live_artworks().not_hidden(), kinds) == {"plain"}
    # The same rule for one post in hand.
    assert {name for name, post in kinds.items() if post.is_visible} == {"plain"}


def _plan(queryset) -> str:
    # With sequential scans and sorts priced out, the planner takes a partial
    # index in the query's order whenever the query's conditions imply the
    # index's condition. Sorts too: once the table's statistics say it holds
    # a row or two (autovacuum analyses it when other tests have filled and
    # emptied it), any index and a sort would otherwise cost about the same.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        sql, params = queryset.query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.postgresql_only
@pytest.mark.parametrize("sort", list(SORT_FIELDS))
def test_the_tables_page_scan_uses_its_sort_index(owner, kinds, sort):
    for visibility in ("all", "visible", "hidden"):
        query = PostQuery(owner=owner, sort=sort, visibility=visibility)
        ids = matching_posts(query).order_by(*table_ordering(sort, "desc")).values("id")[:32]
        plan = _plan(ids)
        # The visible posts newest first are the profile's: its index, in the
        # same order, serves them as well.
        profile = sort == "uploaded" and visibility == "visible" and "post_profile" in plan
        assert f"post_sort_{sort}" in plan or profile, (sort, visibility, plan)


@pytest.mark.postgresql_only
def test_the_profile_and_recently_deleted_use_their_indexes(owner, kinds):
    # Newest first: post_profile, or the uploaded sort's index (its condition
    # is implied too) when the planner finds the two alike on so few rows.
    profile = _plan(visible_posts(owner=owner)[:48])
    assert "post_profile" in profile or "post_sort_uploaded" in profile, profile
    deleted = matching_posts(PostQuery(owner=owner, view="deleted")).order_by(
        "-deleted_by_user_date", "-id"
    )
    assert "post_recently_deleted" in _plan(deleted[:32])
