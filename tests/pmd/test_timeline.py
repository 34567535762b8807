"""The timeline: sorted by upload date, the table groups its rows by month
(UTC), each group with its count and the search that selects exactly it."""

from __future__ import annotations

from datetime import UTC, datetime

from pmd.selectors import PostQuery, matching_posts
from posts.public_ids import user_sqid
from testing.factories import make_post


def at(year, month, day, hour=12):
    return datetime(year, month, day, hour, tzinfo=UTC)


def posts_in(owner, *moments, **fields):
    return [make_post(owner, created_at=m, write_file=False, **fields) for m in moments]


class TestGroups:
    def test_months_open_groups_with_counts_and_their_search(self, owner, owner_client):
        posts_in(owner, at(2026, 3, 31, 23), at(2026, 3, 1, 0), at(2026, 2, 14))
        posts_in(owner, at(2025, 12, 31, 23), title="castle")
        posts_in(owner, at(2026, 1, 1, 0), at(2026, 3, 10), title="castle")
        page = owner_client.get(f"/u/{user_sqid(owner.pk)}/posts", {"size": 16})
        groups = [row.month for row in page.context["rows"] if row.month]
        assert [(g.label, g.count) for g in groups] == [
            ("March 2026", 3),
            ("February 2026", 1),
            ("January 2026", 1),
            ("December 2025", 1),
        ]
        assert groups[0].search == "after:2026-02-28 before:2026-04-01"
        # The search of a group selects exactly its posts, whatever else the search says.
        searched = owner_client.get(f"/u/{user_sqid(owner.pk)}/posts", {"q": "castle"})
        castle_groups = [row.month for row in searched.context["rows"] if row.month]
        march = castle_groups[0]
        assert (march.label, march.count) == ("March 2026", 1)
        found = matching_posts(PostQuery(owner=owner, search=march.search))
        assert [post.created_at for post in found] == [at(2026, 3, 10)]
        html = page.content.decode()
        assert 'scope="rowgroup"' in html
        assert 'aria-label="Select all 3 posts of March 2026"' in html

    def test_a_group_counts_posts_beyond_the_page(self, owner, owner_client):
        posts_in(owner, *(at(2026, 5, day) for day in range(1, 21)))
        page = owner_client.get(f"/u/{user_sqid(owner.pk)}/posts", {"size": 16, "page": 2})
        groups = [row.month for row in page.context["rows"] if row.month]
        assert [(g.label, g.count) for g in groups] == [("May 2026", 20)]

    def test_other_sorts_and_recently_deleted_have_no_groups(self, owner, owner_client):
        posts_in(owner, at(2026, 3, 1), at(2026, 2, 1))
        page = owner_client.get(f"/u/{user_sqid(owner.pk)}/posts", {"sort": "title"})
        assert not any(row.month for row in page.context["rows"])
        assert 'scope="rowgroup"' not in page.content.decode()
