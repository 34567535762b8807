from __future__ import annotations

import random
import re
from dataclasses import replace
from datetime import timedelta

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pmd.selectors import PostQuery, matching_posts, table_page
from pmd.table import TableRow
from pmd.table_rows import row_html
from pmd.table_state import TableState
from posts.models import SORT_FIELDS, Post, art_urls
from posts.public_ids import user_sqid
from testing.factories import make_post, make_posts
from tests.pmd.bdr_helpers import make_bdr


def _ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr data-post-id="(\d+)"', html)]


def _expected(owner, sort: str, direction: str) -> list[int]:
    field = SORT_FIELDS[sort]
    posts = list(Post.objects.filter(owner=owner, kind="artwork", deleted_by_user=False))

    def key(post):
        value = getattr(post, field)
        return (value, post.pk)

    return [post.pk for post in sorted(posts, key=key, reverse=direction == "desc")]


@pytest.fixture
def varied_posts(owner):
    rng = random.Random(4)
    now = timezone.now()
    shared = now - timedelta(days=3)
    posts = make_posts(owner, 45)
    for index, post in enumerate(posts):
        # Many ties: equal timestamps, sizes and counts must still order by id.
        post.created_at = shared if index % 3 == 0 else now - timedelta(hours=rng.randint(1, 500))
        post.title = rng.choice(["Alpha", "beta", "Gamma ✨", "delta", "Émile"]) + f" {index % 4}"
        post.description = rng.choice(["", "zeta", "Zeta two", "eta"])
        post.frame_count = rng.randint(1, 4)
        post.file_format = rng.choice(["png", "gif", "webp", "bmp"])
        post.file_bytes = rng.choice([100, 200, 300])
        post.width = post.height = rng.choice([8, 16, 32])
        post.reaction_count = rng.randint(0, 3)
        post.comment_count = rng.randint(0, 3)
        post.view_count = rng.randint(0, 3)
        post.hidden_by_user = rng.random() < 0.3
    Post.objects.bulk_update(
        posts,
        [
            "created_at",
            "title",
            "description",
            "frame_count",
            "file_format",
            "file_bytes",
            "width",
            "height",
            "reaction_count",
            "comment_count",
            "view_count",
            "hidden_by_user",
        ],
    )
    make_posts(owner, 3, kind="playlist", title="Playlist")
    make_posts(owner, 2, deleted_by_user=True, deleted_by_user_date=now, title="Deleted")
    return posts


class TestTableOrder:
    @pytest.mark.parametrize("sort", [s for s in SORT_FIELDS if s not in ("title", "description")])
    @pytest.mark.parametrize("direction", ["asc", "desc"])
    def test_it_orders_every_column_both_ways_with_id_breaking_ties(
        self, owner, varied_posts, sort, direction
    ):
        query = PostQuery(owner=owner, sort=sort, direction=direction, size=16)
        walked = []
        for number in (1, 2, 3):
            walked += [p.pk for p in table_page(replace(query, page=number)).rows]
        assert walked == _expected(owner, sort, direction)

    @pytest.mark.parametrize("sort", ["title", "description"])
    @pytest.mark.parametrize("direction", ["asc", "desc"])
    def test_text_columns_walk_every_post_once_in_database_order(
        self, owner, varied_posts, sort, direction
    ):
        # Text order is the database collation's; what must hold everywhere is
        # that paging walks each post once and agrees with one ORDER BY.
        query = PostQuery(owner=owner, sort=sort, direction=direction, size=16)
        walked = []
        for number in (1, 2, 3):
            walked += [p.pk for p in table_page(replace(query, page=number)).rows]
        field = SORT_FIELDS[sort]
        prefix = "-" if direction == "desc" else ""
        expected = list(
            Post.objects.filter(owner=owner, kind="artwork", deleted_by_user=False)
            .order_by(f"{prefix}{field}", f"{prefix}id")
            .values_list("id", flat=True)
        )
        assert walked == expected
        assert len(set(walked)) == 45

    def test_pages_past_the_middle_match_a_plain_offset(self, owner, varied_posts):
        for number in range(1, 8):
            page = table_page(
                PostQuery(owner=owner, sort="size", direction="asc", size=7, page=number)
            )
            expected = _expected(owner, "size", "asc")[(number - 1) * 7 : number * 7]
            assert [p.pk for p in page.rows] == expected


class TestTableFilters:
    def test_it_never_shows_playlists_or_deleted_posts(self, owner, varied_posts):
        page = table_page(PostQuery(owner=owner, size=512))
        assert page.total == 45
        assert not [p for p in page.rows if p.title in ("Playlist", "Deleted")]

    def test_it_filters_by_visibility_and_format(self, owner, varied_posts):
        hidden = table_page(PostQuery(owner=owner, visibility="hidden", size=512))
        assert {p.pk for p in hidden.rows} == {p.pk for p in varied_posts if p.hidden_by_user}
        gifs = table_page(PostQuery(owner=owner, file_format="gif", visibility="visible"))
        assert {p.pk for p in gifs.rows} == {
            p.pk for p in varied_posts if p.file_format == "gif" and not p.hidden_by_user
        }

    def test_moderator_hidden_posts_count_as_hidden(self, owner):
        post = make_post(owner, hidden_by_mod=True, write_file=False)
        assert [p.pk for p in table_page(PostQuery(owner=owner, visibility="hidden")).rows] == [
            post.pk
        ]
        assert table_page(PostQuery(owner=owner, visibility="visible")).total == 0

    def test_it_searches_words_in_title_and_description_and_hashtags_by_hash(self, owner):
        by_title = make_post(owner, title="Neon Frog", write_file=False)
        by_text = make_post(owner, description="a frog at night", write_file=False)
        by_tag = make_post(owner, hashtags="retro froggy", write_file=False)
        make_post(owner, title="Castle", description="stone", hashtags="medieval", write_file=False)
        found = matching_posts(PostQuery(owner=owner, search="FROG"))
        assert set(found.values_list("id", flat=True)) == {by_title.pk, by_text.pk}
        tagged = matching_posts(PostQuery(owner=owner, search="#froggy"))
        assert list(tagged.values_list("id", flat=True)) == [by_tag.pk]

    def test_recently_deleted_shows_the_last_thirty_days_only(self, owner):
        now = timezone.now()
        recent = make_post(
            owner,
            deleted_by_user=True,
            deleted_by_user_date=now - timedelta(days=29),
            write_file=False,
        )
        make_post(
            owner,
            deleted_by_user=True,
            deleted_by_user_date=now - timedelta(days=31),
            write_file=False,
        )
        make_post(owner, write_file=False)
        page = table_page(PostQuery(owner=owner, view="deleted"))
        assert [p.pk for p in page.rows] == [recent.pk]


class TestRecentlyDeletedOrder:
    @pytest.fixture
    def deleted(self, owner):
        now = timezone.now()
        posts = make_posts(owner, 5, deleted_by_user=True, deleted_by_user_date=now)
        for hours, post in zip((30, 2, 90, 2, 7), posts, strict=True):
            post.deleted_by_user_date = now - timedelta(hours=hours)
        Post.objects.bulk_update(posts, ["deleted_by_user_date"])
        make_posts(owner, 2)
        return posts

    @pytest.mark.parametrize("direction", ["asc", "desc"])
    def test_it_sorts_by_when_each_was_deleted_both_ways(self, owner, deleted, direction):
        state = TableState(view="deleted", sort="deleted", direction=direction, size=2)
        walked = []
        for number in (1, 2, 3):
            walked += [p.pk for p in table_page(state.with_changes(page=number).query(owner)).rows]
        expected = sorted(deleted, key=lambda p: (p.deleted_by_user_date, p.pk))
        assert walked == [p.pk for p in (expected if direction == "asc" else expected[::-1])]

    def test_deleted_is_a_sort_of_recently_deleted_alone(self):
        from django.http import QueryDict

        deleted = TableState.from_query(QueryDict("view=deleted&sort=deleted"))
        assert (deleted.sort, deleted.direction, deleted.notes) == ("deleted", "asc", ())
        assert deleted.columns[0] == ("deleted", "Deleted", "col-visibility col-deleted")
        live = TableState.from_query(QueryDict("sort=deleted"))
        assert live.sort == "uploaded" and live.notes
        assert live.columns[0][1] == "Visible"
        # Back to the posts from a table sorted by deletion: sorted as the posts start.
        assert deleted.view_link("live") == ""
        assert deleted.with_changes(search="frog").view_link("live") == "q=frog"
        assert TableState(sort="size").view_link("deleted") == "view=deleted&sort=size&dir=desc"

    @pytest.mark.postgresql_only
    def test_its_order_is_read_from_the_recently_deleted_index(self, owner, deleted):
        state = TableState(view="deleted", sort="deleted", direction="desc")
        query = matching_posts(state.query(owner)).order_by("-deleted_by_user_date", "-id")
        with connection.cursor() as cursor:
            # The table is tiny: make the planner show what it can use.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_sort = off")
            sql, params = query.values("id").query.sql_with_params()
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        assert "post_recently_deleted" in plan, plan
        assert "Sort" not in plan.split("Index")[0], plan


class TestTableState:
    def test_it_falls_back_to_defaults_with_notes(self):
        from django.http import QueryDict

        state = TableState.from_query(QueryDict("sort=nope&size=7&page=x&visibility=z&format=tga"))
        assert (state.sort, state.size, state.page, state.visibility, state.file_format) == (
            "uploaded",
            32,
            1,
            "all",
            "all",
        )
        assert len(state.notes) == 3

    def test_its_links_keep_the_state_and_flip_the_direction(self):
        state = TableState(sort="title", direction="asc", search="frog", size=64, page=3)
        assert state.sort_link("title") == "q=frog&sort=title&dir=desc&size=64"
        assert state.sort_link("size") == "q=frog&sort=size&dir=desc&size=64"
        assert TableState().query_string() == ""


class TestTablePage:
    def test_it_clamps_an_out_of_range_page_and_says_so(self, owner, owner_client):
        make_posts(owner, 40)
        body = owner_client.get(f"/u/{user_sqid(owner.pk)}/posts?page=9").content.decode()
        assert "There is no page 9; showing page 2 of 2." in body
        assert len(_ids(body)) == 8

    def test_htmx_gets_only_the_table_and_history_restore_the_page(self, owner, owner_client):
        make_posts(owner, 3)
        url = f"/u/{user_sqid(owner.pk)}/posts?sort=title"
        partial = owner_client.get(url, headers={"HX-Request": "true"}).content.decode()
        assert partial.lstrip().startswith('<div id="post-table"')
        assert "<html" not in partial
        restore = owner_client.get(
            url, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
        ).content.decode()
        assert "<html" in restore

    def test_it_shows_counts_sizes_and_marks(self, owner, owner_client):
        make_post(
            owner,
            title="Counted",
            reaction_count=1234,
            comment_count=5,
            view_count=98765,
            file_bytes=1_250_000,
            hidden_by_mod=True,
            write_file=False,
        )
        body = owner_client.get(f"/u/{user_sqid(owner.pk)}/posts").content.decode()
        for text in (
            "1,234",
            "98,765",
            '<td class="col-number col-size" title="1,250,000 bytes">1.2\xa0MB</td>',
            "Hidden by moderator",
            'aria-sort="descending"',
        ):
            assert text in body
        assert 'class="is-hidden"' in body

    def test_it_escapes_user_text(self, owner, owner_client):
        make_post(
            owner, title="<script>alert(1)</script>", description='"><img src=x>', write_file=False
        )
        body = owner_client.get(f"/u/{user_sqid(owner.pk)}/posts").content.decode()
        assert "<script>alert(1)</script>" not in body
        assert "<img src=x>" not in body
        assert "&lt;script&gt;" in body

    def test_its_query_count_is_the_same_for_any_page_and_size(self, owner, owner_client):
        make_posts(owner, 600)
        base = f"/u/{user_sqid(owner.pk)}/posts"
        counts = {}
        queries = ("", "?page=19", "?size=512", "?size=512&page=2", "?sort=reactions&page=10")
        # A filtered page shows two counts (its own and the header's total).
        for query in (*queries, "?visibility=visible&format=png&page=3"):
            owner_client.get(base + query)  # counts cached after the first view
            with CaptureQueriesContext(connection) as captured:
                response = owner_client.get(base + query, headers={"HX-Request": "true"})
            assert response.status_code == 200
            counts[query] = len(captured.captured_queries)
        # Session, user, the owner's saved views (none: no second read of the
        # version for their counts), the owner's posts version (the counts'
        # and facets' cache key), the page's rows; sorted by upload date, the
        # timeline's month counts.
        by_date = {query: n for query, n in counts.items() if "sort=" not in query}
        assert set(by_date.values()) == {6}, counts
        assert counts["?sort=reactions&page=10"] == 5, counts

    def test_links_work_without_javascript(self, owner, owner_client):
        make_posts(owner, 40)
        body = owner_client.get(f"/u/{user_sqid(owner.pk)}/posts").content.decode()
        assert 'href="?page=2"' in body
        assert 'href="?sort=title&amp;dir=asc"' in body


class TestTimesAndSizes:
    """Django's naturaltime and filesizeformat, the exact UTC time on hover."""

    def test_a_row_reads_like_the_download_panel(self, owner):
        created = timezone.now() - timedelta(days=3, hours=5)
        post = make_post(owner, created_at=created, file_bytes=87, write_file=False)
        row = TableRow(post, art_urls())
        assert row.art_url == post.art_url == f"/art/{post.public_sqid}"
        assert (
            f'<td class="col-uploaded"><time datetime="{created.isoformat()}" '
            f'title="{created.strftime("%Y-%m-%d %H:%M:%S")} UTC">3\xa0days, 5\xa0hours ago</time>'
            "</td>"
        ) in row_html(row, deleted_view=False)
        assert row.size == "87\xa0bytes"
        assert row.deleted_at is None
        post.file_bytes = 2048
        assert TableRow(post, art_urls()).size == "2.0\xa0KB"

    def test_the_deleted_view_says_when_each_was_deleted(self, owner, owner_client):
        deleted = timezone.now() - timedelta(hours=2)
        make_post(owner, deleted_by_user=True, deleted_by_user_date=deleted, write_file=False)
        body = owner_client.get(f"/u/{user_sqid(owner.pk)}/posts?view=deleted").content.decode()
        assert (
            '<span class="deleted-when"><span class="card-label">Deleted </span>'
            f'<time datetime="{deleted.isoformat()}" '
            f'title="{deleted.strftime("%Y-%m-%d %H:%M:%S")} UTC">2\xa0hours ago</time></span>'
        ) in body

    def test_the_table_and_the_download_panel_show_a_time_alike(self, owner):
        moment = timezone.now() - timedelta(minutes=5)
        post = make_post(owner, created_at=moment, write_file=False)
        bdr = make_bdr(owner, [post], created_at=moment)
        panel_row = render_to_string("pmd/_download_request_row.html", {"bdr": bdr})
        table_row = row_html(TableRow(post, art_urls()), deleted_view=False)
        when = re.search(r'<td class="col-uploaded">(<time [^>]*>[^<]*</time>)</td>', table_row)
        assert when and when.group(1).endswith("5\xa0minutes ago</time>")
        assert f'<span class="bdr-when muted">{when.group(1)}</span>' in panel_row
