"""The grid beside the table: each artwork at a whole multiple of its own size
(1× to 8×, drawn with nearest neighbour by the browser), never in between,
so no pixel is ever blurred or uneven. An animation is shown as its first
frame (posts' art-still) until it is hovered or focused."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.urls import reverse

from .selectors import PostRow

# A tile is at most this wide or tall, so it fits a phone: past it the zoom
# steps down (a 256 px
# sprite at 8× would be 2,048 px), and an artwork larger than it is shown 1×.
MAX_TILE_PX = 320
_SLOT = "__sqid__"


@dataclass(frozen=True)
class GridTile:
    zoom: int
    width: int
    height: int
    animated: bool
    still_url: str


def grid_tiles(posts: Sequence[PostRow], zoom: int) -> list[GridTile]:
    """For each post, in order: the zoom it is shown at and its size on screen."""
    still = reverse("posts:art-still", args=[_SLOT])
    tiles = []
    for post in posts:
        largest = max(post.width, post.height, 1)
        shown = max(1, min(zoom, MAX_TILE_PX // largest))
        tiles.append(
            GridTile(
                zoom=shown,
                width=post.width * shown,
                height=post.height * shown,
                animated=post.frame_count > 1 and post.file_format in ("gif", "webp"),
                still_url=still.replace(_SLOT, post.public_sqid),
            )
        )
    return tiles
