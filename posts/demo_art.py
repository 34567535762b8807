"""Real pixel-art images for demo data, made with Pillow.

Each sprite is a small mirrored pattern on a palette, scaled up with nearest
neighbour so it stays crisp; animated GIFs cycle the palette and bob.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass

from PIL import Image

FORMATS = ("png", "gif", "webp", "bmp")
SIZES = (8, 12, 16, 24, 32, 48, 64, 96, 128, 160, 192, 256)

PALETTES = [
    [(11, 11, 20), (35, 230, 255), (255, 61, 242), (140, 255, 90), (255, 197, 61)],
    [(20, 12, 28), (68, 36, 52), (48, 52, 109), (78, 74, 78), (133, 76, 48), (208, 70, 72)],
    [(15, 56, 15), (48, 98, 48), (139, 172, 15), (155, 188, 15)],
    [
        (0, 0, 0),
        (29, 43, 83),
        (126, 37, 83),
        (0, 135, 81),
        (171, 82, 54),
        (255, 163, 0),
        (255, 236, 39),
    ],
    [(26, 28, 44), (93, 39, 93), (177, 62, 83), (239, 125, 87), (255, 205, 117), (167, 240, 112)],
]


@dataclass(frozen=True)
class Artwork:
    file_format: str
    width: int
    height: int
    frame_count: int
    data: bytes


def _sprite_cells(rng: random.Random, grid: int, colours: int) -> list[list[int]]:
    half = (grid + 1) // 2
    cells = [[0] * grid for _ in range(grid)]
    for y in range(grid):
        for x in range(half):
            value = rng.randrange(colours) if rng.random() < 0.55 else 0
            cells[y][x] = value
            cells[y][grid - 1 - x] = value
    return cells


def _frame(
    cells: list[list[int]], palette: list[tuple[int, int, int]], size: int, shift: int, offset: int
) -> Image.Image:
    grid = len(cells)
    small = Image.new("RGB", (grid, grid), palette[0])
    pixels = small.load()
    for y in range(grid):
        for x in range(grid):
            value = cells[(y + offset) % grid][x]
            if value:
                pixels[x, y] = palette[1 + (value - 1 + shift) % (len(palette) - 1)]
    return small.resize((size, size), Image.Resampling.NEAREST)


def make_artwork(rng: random.Random, file_format: str) -> Artwork:
    size = rng.choice(SIZES)
    grid = min(size, rng.choice((8, 8, 12, 16)))
    palette = rng.choice(PALETTES)
    cells = _sprite_cells(rng, grid, len(palette))
    buffer = io.BytesIO()
    frame_count = 1
    if file_format == "gif":
        # Most animations are short; a few are long, so many-frame GIFs get exercised.
        frame_count = rng.choice((2, 3, 4, 6, 8, 12)) if rng.random() < 0.9 else rng.randint(16, 64)
        frames = [
            _frame(cells, palette, size, shift=i, offset=i % 2).quantize(colors=len(palette))
            for i in range(frame_count)
        ]
        frames[0].save(
            buffer,
            "GIF",
            save_all=True,
            append_images=frames[1:],
            duration=120,
            loop=0,
            optimize=False,
        )
    else:
        image = _frame(cells, palette, size, shift=0, offset=0)
        if file_format == "png":
            image.save(buffer, "PNG", optimize=False)
        elif file_format == "webp":
            image.save(buffer, "WEBP", lossless=True, quality=50, method=0)
        else:
            image.save(buffer, "BMP")
    return Artwork(file_format, size, size, frame_count, buffer.getvalue())


def make_pool(rng: random.Random, per_format: int) -> list[Artwork]:
    """A varied set of images to draw from; generating one per post would
    make seeding 100,000 posts take minutes for no gain in realism."""
    return [make_artwork(rng, fmt) for fmt in FORMATS for _ in range(per_format)]
