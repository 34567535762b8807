"""The search language run against posts: every operator through the
selectors, the table page and GET /api/pmd/posts?q=, and bad searches as a
note on the page (200) and a 400 in the API, never a 5xx."""

from __future__ import annotations

import string
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pmd.search import SearchRefused
from pmd.selectors import PostQuery, matching_count, matching_posts
from posts.models import Post
from posts.public_ids import user_sqid
from testing.factories import ensure_licenses, make_comment, make_post, make_posts

API = "/api/pmd/posts"


def found(owner, search: str) -> set[int]:
    return set(matching_posts(PostQuery(owner=owner, search=search)).values_list("id", flat=True))


def at(year: int, month: int, day: int, hour: int = 12) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


@pytest.fixture
def shelf(owner):
    """Five posts that differ in every searched column."""

    def post(name: str, **fields) -> Post:
        return make_post(owner, write_file=False, **fields)

    return {
        "frog": post(
            "frog",
            title="Neon Frog",
            description="a frog at night",
            hashtags="pixelart retro",
            width=32,
            height=32,
            frame_count=1,
            file_format="png",
            color_count=4,
            created_at=at(2025, 6, 30, 23),
            view_count=5,
        ),
        "castle": post(
            "castle",
            title="Castle",
            description="stone walls",
            hashtags="wip medieval",
            width=64,
            height=32,
            frame_count=8,
            file_format="gif",
            color_count=16,
            created_at=at(2026, 1, 1, 0),
            view_count=150,
            hidden_by_user=True,
        ),
        "sky": post(
            "sky",
            title="Night sky",
            description="",
            hashtags="PixelArt",
            width=16,
            height=16,
            frame_count=24,
            file_format="gif",
            color_count=200,
            created_at=at(2026, 2, 14),
            view_count=101,
        ),
        "modded": post(
            "modded",
            title="Sunset",
            description="froggy pond",
            hashtags="",
            width=128,
            height=128,
            frame_count=1,
            file_format="webp",
            color_count=None,
            created_at=at(2026, 3, 1),
            hidden_by_mod=True,
        ),
        "bmp": post(
            "bmp",
            title="Tiles",
            description="a 3x3 set",
            hashtags="tiles pixelart_jam",
            width=48,
            height=48,
            frame_count=1,
            file_format="bmp",
            color_count=2,
            created_at=at(
                2026,
                1,
                1,
                23,
            ),
        ),
    }


def ids(shelf, *names: str) -> set[int]:
    return {shelf[name].pk for name in names}


class TestOperators:
    @pytest.mark.parametrize(
        ("search", "names"),
        [
            ("frog", ["frog", "modded"]),
            ("FROG night", ["frog"]),
            ('"at night"', ["frog"]),
            ("-frog", ["castle", "sky", "bmp"]),
            ("#pixelart", ["frog", "sky"]),
            ("#PIXELART", ["frog", "sky"]),
            ("-#pixelart", ["castle", "modded", "bmp"]),
            ("#pixel", []),
            ("size:32x32", ["frog"]),
            ("size:64×32", ["castle"]),
            ("-size:32x32", ["castle", "sky", "modded", "bmp"]),
            ("w:64", ["castle"]),
            ("w:=32", ["frog"]),
            ("w:<32", ["sky"]),
            ("w:<=32", ["frog", "sky"]),
            ("w:>48", ["castle", "modded"]),
            ("width:>=48 h:<64", ["castle", "bmp"]),
            ("frames:>1", ["castle", "sky"]),
            ("-frames:>1", ["frog", "modded", "bmp"]),
            ("colors:<=16", ["frog", "castle", "bmp"]),
            ("colours:>16", ["sky"]),
            # A post whose colours were never counted matches neither way.
            ("-colors:<=16", ["sky"]),
            ("format:gif", ["castle", "sky"]),
            ("format:GIF -#wip", ["sky"]),
            ("is:hidden", ["castle", "modded"]),
            ("is:visible", ["frog", "sky", "bmp"]),
            ("-is:hidden", ["frog", "sky", "bmp"]),
            ("views:>100", ["castle", "sky"]),
            ("views:0", ["modded", "bmp"]),
            ("before:2026-01-01", ["frog"]),
            ("after:2025-12-31", ["castle", "sky", "modded", "bmp"]),
            ("after:2026-01-01", ["sky", "modded"]),
            ("on:2026-01-01", ["castle", "bmp"]),
            ("-on:2026-01-01", ["frog", "sky", "modded"]),
            ("after:9999-12-31", []),
            ("on:9999-12-31", []),
            ("before:0001-01-01", []),
            ("format:gif is:visible colors:>100 #pixelart frames:>=24 night", ["sky"]),
        ],
    )
    def test_it_finds_what_each_operator_says(self, owner, other, shelf, search, names):
        make_post(other, title="Neon Frog", hashtags="pixelart", write_file=False)
        assert found(owner, search) == ids(shelf, *names)

    def test_it_counts_reactions_and_comments(self, owner, shelf):
        make_comment(shelf["sky"])
        make_comment(shelf["sky"])
        make_comment(shelf["frog"], hidden_by_mod=True)
        assert found(owner, "comments:0") == ids(shelf, "frog", "castle", "modded", "bmp")
        assert found(owner, "comments:>1") == ids(shelf, "sky")
        assert found(owner, "reactions:>10") == set()

    def test_deleted_posts_and_playlists_are_never_found(self, owner, shelf):
        make_post(owner, title="Frog", deleted_by_user=True, write_file=False)
        make_post(owner, title="Frog", kind="playlist", write_file=False)
        assert found(owner, "frog") == ids(shelf, "frog", "modded")

    def test_a_count_on_counters_is_never_cached_stale(self, owner, shelf):
        query = PostQuery(owner=owner, search="comments:>0")
        assert matching_count(query) == 0
        # A comment changes comment_count but not the posts version.
        make_comment(shelf["bmp"])
        assert matching_count(query) == 1

    @pytest.mark.parametrize(
        "search", ["w:>-1", "size:0x99999999999", '"open', "shape:round", "on:0000-01-01"]
    )
    def test_a_search_that_cannot_be_read_is_refused_with_where(self, owner, search):
        with pytest.raises(SearchRefused) as refused:
            matching_posts(PostQuery(owner=owner, search=search))
        assert refused.value.message
        assert 0 <= refused.value.start <= refused.value.end <= len(search)

    def test_license_finds_the_posts_under_it_and_none_those_without(self, owner):
        ensure_licenses()
        by = make_post(owner, title="by", license_id="CC-BY-4.0")
        zero = make_post(owner, title="zero", license_id="CC0-1.0")
        reserved = make_post(owner, title="reserved")
        assert found(owner, "license:cc-by-4.0") == {by.pk}
        assert found(owner, "license:none") == {reserved.pk}
        assert found(owner, "-license:none") == {by.pk, zero.pk}
        with pytest.raises(SearchRefused) as refused:
            found(owner, "frog license:mit")
        assert "There is no licence 'mit'" in refused.value.message
        assert (refused.value.start, refused.value.end) == (5, 16)


class TestApi:
    def test_q_filters_the_list_and_its_total(self, owner_client, shelf):
        response = owner_client.get(API, {"q": "format:gif"})
        assert response.status_code == 200
        body = response.json()
        assert {item["id"] for item in body["items"]} == ids(shelf, "castle", "sky")
        assert body["total_count"] == 2
        sky = next(item for item in body["items"] if item["id"] == shelf["sky"].pk)
        assert sky["color_count"] == 200

    def test_no_q_lists_everything(self, owner_client, shelf):
        assert owner_client.get(API).json()["total_count"] == 5

    def test_the_select_all_ids_take_the_same_search(self, owner_client, shelf):
        body = owner_client.get(f"{API}/ids", {"q": "-#pixelart is:visible"}).json()
        assert set(body["ids"]) == ids(shelf, "bmp")

    @pytest.mark.parametrize(
        ("search", "words"),
        [
            ("w:>-1", "w: takes a whole number"),
            ("size:0x99999999999", "size: takes a width and a height"),
            ('frog "night', "is never closed"),
            ("on:0000-01-01", "on: takes a date"),
            ("frog\x01", "control character (U+0001) at character 5"),
            ("a " * 30, "at most 24 terms"),
            ("x" * 501, "at most 500 characters"),
            ("license:mit", "There is no licence 'mit'"),
        ],
    )
    def test_a_bad_search_is_a_400_that_says_why(self, owner_client, shelf, search, words):
        for path in (API, f"{API}/ids"):
            response = owner_client.get(path, {"q": search})
            assert response.status_code == 400, path
            assert words in response.json()["error"]


class TestPage:
    def test_the_table_shows_what_the_search_finds(self, owner, owner_client, shelf):
        response = owner_client.get(
            f"/u/{user_sqid(owner.pk)}/posts", {"q": "is:visible #pixelart"}
        )
        assert response.status_code == 200
        rows = {post.pk for post in response.context["page"].rows}
        assert rows == ids(shelf, "frog", "sky")
        assert response.context["search_note"] is None
        assert b"Search operators" in response.content

    def test_a_bad_search_is_a_note_that_points_at_it(self, owner, owner_client, shelf):
        response = owner_client.get(
            f"/u/{user_sqid(owner.pk)}/posts",
            {"q": "frog shape:round"},
            headers={"HX-Request": "true"},
        )
        assert response.status_code == 200
        html = response.content.decode()
        assert "there is no &#x27;shape&#x27; operator" in html
        assert '<code class="search-echo">frog <mark>shape:round</mark></code>' in html
        assert 'role="alert"' in html
        assert "data-post-id" not in html
        page = owner_client.get(f"/u/{user_sqid(owner.pk)}/posts", {"q": "frog shape:round"})
        note = page.context["search_note"]
        assert (note.before, note.at, note.after) == ("frog ", "shape:round", "")
        assert page.context["page"].rows == []

    def test_a_search_with_markup_is_escaped(self, owner, owner_client, shelf):
        response = owner_client.get(
            f"/u/{user_sqid(owner.pk)}/posts", {"q": "<script>x:1</script>"}
        )
        assert response.status_code == 200
        assert b"<script>x:1" not in response.content


# Anything at all as q: letters, operators, digits, quotes, control characters.
_PIECES = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "w:",
            "h:>",
            "size:",
            "colors:<=",
            "frames:>",
            "views:",
            "comments:",
            "reactions:",
            "format:",
            "is:",
            "license:",
            "before:",
            "after:",
            "on:",
            "#",
            "-",
            "-#",
            '"',
            "0000-01-01",
            "9999-12-31",
            "2026-02-30",
            "99999999999999999999",
            "-1",
            "x",
            "×",
            "\x00",
            "\x01",
            "\x7f",
            "\u200b",
            "\ud7ff",
            " ",
            "\t",
        ]
    ),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.text(alphabet=string.ascii_letters + string.digits + ':<>=-#"x', max_size=20),
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(pieces=st.lists(_PIECES, max_size=8))
def test_no_search_is_ever_a_5xx(owner, owner_client, pieces):
    search = "".join(pieces)
    page = owner_client.get(f"/u/{user_sqid(owner.pk)}/posts", {"q": search})
    api = owner_client.get(API, {"q": search})
    assert page.status_code == 200
    assert api.status_code in (200, 400)
    if api.status_code == 400:
        assert api.json()["error"]
        assert page.context["search_note"] is not None


@pytest.mark.parametrize(
    "search",
    [
        " ".join(["w:>1"] * 10_000),
        "frog " * 10_000,
        "on:0000-01-01",
        "w:" + "9" * 5_000,
        "\x1b[31m",
    ],
)
def test_hostile_searches_are_answered_quickly_and_clearly(owner, owner_client, search):
    page = owner_client.get(f"/u/{user_sqid(owner.pk)}/posts", {"q": search})
    assert page.status_code == 200
    assert page.context["search_note"].message
    api = owner_client.get(API, {"q": search})
    assert api.status_code == 400
    assert api.json()["error"]


def test_make_posts_is_found_by_size(owner):
    make_posts(owner, 3)
    assert matching_count(PostQuery(owner=owner, search="size:16x16")) == 3
