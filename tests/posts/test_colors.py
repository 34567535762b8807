"""Counting an artwork's colours, as `colors:` searches them."""

from __future__ import annotations

import io
import random

import pytest
from PIL import Image

from posts.colors import UnreadableImage, distinct_colors
from posts.demo_art import PALETTES, make_artwork


def _encode(image: Image.Image, file_format: str, **options) -> io.BytesIO:
    buffer = io.BytesIO()
    image.save(buffer, format=file_format, **options)
    buffer.seek(0)
    return buffer


def _striped(colours: list[tuple[int, ...]], scale: int = 1) -> Image.Image:
    image = Image.new("RGBA", (len(colours), 1))
    image.putdata(colours)
    return image.resize((len(colours) * scale, scale), Image.Resampling.NEAREST)


class TestDistinctColors:
    def test_it_counts_each_colour_once_however_large_the_image(self):
        colours = [(255, 0, 0, 255), (0, 255, 0, 255), (0, 0, 255, 255)]
        assert distinct_colors(_encode(_striped(colours), "PNG")) == 3
        assert distinct_colors(_encode(_striped(colours, scale=64), "PNG")) == 3

    def test_it_counts_every_transparent_pixel_as_one_colour(self):
        colours = [(255, 0, 0, 0), (0, 255, 0, 0), (0, 0, 255, 255), (0, 0, 255, 128)]
        # Two fully transparent pixels of different RGB: one colour; the
        # half-transparent blue is a colour of its own.
        assert distinct_colors(_encode(_striped(colours), "PNG")) == 3

    def test_it_counts_the_colours_of_every_frame_of_an_animation(self):
        frames = [
            Image.new("RGB", (4, 4), (255, 0, 0)),
            Image.new("RGB", (4, 4), (0, 255, 0)),
            Image.new("RGB", (4, 4), (0, 0, 255)),
        ]
        buffer = io.BytesIO()
        frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:])
        buffer.seek(0)
        assert distinct_colors(buffer) == 3

    @pytest.mark.parametrize(
        ("file_format", "options"),
        [("PNG", {}), ("GIF", {}), ("WEBP", {"lossless": True}), ("BMP", {})],
    )
    def test_it_reads_every_format_the_site_takes(self, file_format, options):
        colours = [(11, 11, 20), (35, 230, 255), (255, 61, 242), (140, 255, 90)]
        image = _striped([(*colour, 255) for colour in colours], scale=8).convert("RGB")
        assert distinct_colors(_encode(image, file_format, **options)) == 4

    def test_it_counts_a_demo_sprite_within_its_palette(self):
        artwork = make_artwork(random.Random(7), "png")
        assert 2 <= distinct_colors(io.BytesIO(artwork.data)) <= max(map(len, PALETTES))

    def test_it_refuses_what_is_not_an_image(self):
        with pytest.raises(UnreadableImage, match="could not be read"):
            distinct_colors(io.BytesIO(b"GIF89a not really"))
