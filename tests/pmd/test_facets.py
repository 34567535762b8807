"""Exact counts beside the filters for the current search: each option counted
with the other filters and the search, in a few queries, never stale."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pmd.counts import forget_cached_counts
from pmd.facets import TABLE_COUNTS, facet_counts, table_counts
from pmd.selectors import PostQuery, matching_posts, query_cache_key
from posts.models import Post
from posts.public_ids import user_sqid
from testing.factories import make_comment, make_posts


@pytest.fixture
def mix(owner, other):
    make_posts(owner, 4, file_format="png", hashtags="pixelart retro", title="frog")
    make_posts(owner, 2, file_format="gif", hashtags="pixelart", title="frog", hidden_by_user=True)
    make_posts(owner, 1, file_format="gif", hashtags="Retro", title="castle", hidden_by_mod=True)
    make_posts(owner, 3, file_format="bmp", hashtags="", title="frog")
    make_posts(owner, 2, title="frog", deleted_by_user=True, deleted_by_user_date=timezone.now())
    make_posts(other, 5, file_format="png", hashtags="pixelart", title="frog")


class TestCounts:
    def test_each_option_counts_with_the_other_filters_and_the_search(self, owner, mix):
        facets = facet_counts(PostQuery(owner=owner, search="frog", file_format="gif"))
        # Visibility under format:gif and "frog".
        assert facets.visibility == {"all": 2, "visible": 0, "hidden": 2}
        # Formats under visibility "all" and "frog", whatever format is chosen.
        assert facets.formats == {"all": 9, "png": 4, "gif": 2, "webp": 0, "bmp": 3}
        # Hashtags among the posts matching everything.
        assert facets.hashtags == [("pixelart", 2)]

    def test_hashtags_are_counted_in_any_case_most_used_first(self, owner, mix):
        facets = facet_counts(PostQuery(owner=owner))
        assert facets.hashtags == [("pixelart", 6), ("retro", 5)]
        assert facet_counts(PostQuery(owner=owner, visibility="hidden")).visibility == {
            "all": 10,
            "visible": 7,
            "hidden": 3,
        }

    @pytest.mark.parametrize(
        "filters",
        [{}, {"visibility": "hidden"}, {"visibility": "visible", "file_format": "gif"},
         {"file_format": "bmp", "search": "frog"}, {"license": "none", "search": "-#retro"}],
    )  # fmt: skip
    def test_the_total_is_the_count_of_the_matching_posts(self, owner, mix, filters):
        query = PostQuery(owner=owner, **filters)
        assert table_counts(query)[0] == matching_posts(query).count()

    def test_the_table_counts_take_three_queries_and_then_one(self, owner, mix):
        query = PostQuery(owner=owner, search="#pixelart w:16")
        with CaptureQueriesContext(connection) as first:
            total, live_total, facets = table_counts(query)
        with CaptureQueriesContext(connection) as second:
            assert table_counts(query) == (total, live_total, facets)
        assert (total, live_total) == (6, 10)
        # The posts version, the owner's total, and one grouped query for the
        # query's total, its visibility, format and hashtag counts.
        assert len(first.captured_queries) == 3
        assert len(second.captured_queries) == 1
        # Forgotten (as the bench forgets them), they are counted again.
        forget_cached_counts(owner.pk, [query_cache_key(TABLE_COUNTS, query)])
        with CaptureQueriesContext(connection) as third:
            assert table_counts(query) == (total, live_total, facets)
        assert len(third.captured_queries) == 2

    def test_a_change_by_anyone_is_counted(self, owner, mix):
        query = PostQuery(owner=owner, search="frog")
        assert facet_counts(query).visibility["hidden"] == 2
        Post.objects.filter(owner=owner, title="frog", file_format="bmp").update(hidden_by_mod=True)
        assert facet_counts(query).visibility["hidden"] == 5

    def test_a_search_on_counters_is_counted_every_time(self, owner, mix):
        query = PostQuery(owner=owner, search="comments:>0")
        assert facet_counts(query).formats["all"] == 0
        make_comment(Post.objects.filter(owner=owner, file_format="bmp").first())
        assert facet_counts(query).formats == {"all": 1, "png": 0, "gif": 0, "webp": 0, "bmp": 1}


class TestPage:
    def test_the_counts_are_links_beside_the_filters(self, owner, owner_client, mix):
        response = owner_client.get(
            f"/u/{user_sqid(owner.pk)}/posts", {"q": "frog", "format": "gif"}
        )
        html = response.content.decode()
        assert 'aria-label="Filters with their counts"' in html
        links = response.context["facets"]
        assert [(link.label, link.count, link.current) for link in links["visibility"]] == [
            ("All", 2, True),
            ("Visible", 0, False),
            ("Hidden", 2, False),
        ]
        png = next(link for link in links["formats"] if link.label == "PNG")
        assert (png.count, png.href) == (4, "?q=frog&format=png")
        assert [(link.label, link.href) for link in links["hashtags"]] == [
            ("#pixelart", "?q=frog+%23pixelart&format=gif")
        ]

    def test_a_search_that_cannot_be_read_has_no_counts(self, owner, owner_client, mix):
        response = owner_client.get(f"/u/{user_sqid(owner.pk)}/posts", {"q": "w:>x"})
        assert response.context["facets"] is None
        assert "Filters with their counts" not in response.content.decode()
