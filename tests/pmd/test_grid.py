"""The grid beside the table: whole-number zooms, first frames for
animations, the same URL state as the table."""

from __future__ import annotations

import io

from PIL import Image

from pmd.grid import MAX_TILE_PX, grid_tiles
from pmd.table_state import TableState
from posts.public_ids import user_sqid
from testing.factories import make_post


class TestTiles:
    def test_each_artwork_is_a_whole_multiple_of_its_size(self, owner):
        small = make_post(owner, width=16, height=8, write_file=False)
        large = make_post(owner, width=256, height=200, write_file=False)
        huge = make_post(owner, width=1000, height=40, write_file=False)
        tiles = grid_tiles([small, large, huge], zoom=8)
        assert [(t.zoom, t.width, t.height) for t in tiles] == [
            (8, 128, 64),
            (1, 256, 200),  # 2× would pass MAX_TILE_PX
            (1, 1000, 40),  # never below 1×
        ]
        assert tiles[0].width % small.width == tiles[1].width % large.width == 0
        assert MAX_TILE_PX == 320

    def test_only_animations_get_a_still(self, owner):
        gif = make_post(owner, file_format="gif", frame_count=4, write_file=False)
        still_gif = make_post(owner, file_format="gif", frame_count=1, write_file=False)
        tiles = grid_tiles([gif, still_gif], zoom=1)
        assert [t.animated for t in tiles] == [True, False]
        assert tiles[0].still_url == f"/art/{gif.public_sqid}/still"


class TestState:
    def test_layout_and_zoom_live_in_the_url(self):
        state = TableState.from_query({"layout": "grid", "zoom": "4"})
        assert (state.layout, state.zoom) == ("grid", 4)
        assert state.query_string() == "layout=grid&zoom=4"
        for bad in ({"layout": "cards"}, {"layout": "grid", "zoom": "9"}, {"zoom": "x"}):
            state = TableState.from_query(bad)
            assert state.layout in ("table", "grid") and state.zoom == 2


class TestPage:
    def test_the_grid_shows_tiles_with_the_tables_controls(self, owner, owner_client):
        gif = make_post(owner, file_format="gif", title="Walker")
        png = make_post(owner, file_format="png", title="Tile <b>")
        response = owner_client.get(
            f"/u/{user_sqid(owner.pk)}/posts", {"layout": "grid", "zoom": "3"}
        )
        html = response.content.decode()
        assert '<ul class="post-grid"' in html
        assert '<table class="posts"' not in html  # the grid, not the posts table
        assert f'data-post-id="{png.pk}"' in html and "Tile &lt;b&gt;" in html
        assert f'data-animated="/art/{gif.public_sqid}"' in html
        assert f'src="/art/{gif.public_sqid}/still"' in html
        assert f'width="{png.width * 3}" height="{png.height * 3}"' in html or png.width * 3 > 320
        assert 'data-row-action="hide"' in html and "data-select-row" in html


class TestStill:
    def test_the_first_frame_is_a_png_for_whoever_may_see_the_art(
        self, owner, owner_client, other_client
    ):
        gif = make_post(owner, file_format="gif", hidden_by_user=True)
        response = owner_client.get(f"/art/{gif.public_sqid}/still")
        assert response.status_code == 200
        assert response["Content-Type"] == "image/png"
        image = Image.open(io.BytesIO(response.content))
        assert image.format == "PNG" and getattr(image, "n_frames", 1) == 1
        assert image.size == (gif.width, gif.height)
        # Hidden: the owner's alone.
        assert other_client.get(f"/art/{gif.public_sqid}/still").status_code == 404

    def test_a_missing_file_is_a_404(self, owner, owner_client):
        post = make_post(owner, file_format="gif", write_file=False)
        assert owner_client.get(f"/art/{post.public_sqid}/still").status_code == 404
