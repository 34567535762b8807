"""How many distinct colours an artwork uses: what pixel artists call its
palette size, searched as `colors:<=16`.

Every frame of an animation counts, and every pixel in full: a 16-colour
sprite is a 16-colour sprite however large it is scaled. Pixels with no
opacity at all are one colour, "transparent", whatever RGB they carry (a
GIF's transparent index and a PNG's cleared pixels hold arbitrary values).
"""

from __future__ import annotations

from typing import IO

from PIL import Image, ImageSequence

# Pillow refuses images past its decompression-bomb limit on its own; this
# caps the work of one image at what the largest artwork the site takes
# (4096 × 4096, 256 frames) could ever need.
MAX_PIXELS = 4096 * 4096 * 256


class UnreadableImage(ValueError):
    """The file is not an image Pillow can read, or is too large to count."""


def distinct_colors(file: IO[bytes]) -> int:
    """The number of distinct colours over all of the image's frames."""
    try:
        with Image.open(file) as image:
            colours: set[object] = set()
            seen_pixels = 0
            for frame in ImageSequence.Iterator(image):
                rgba = frame.convert("RGBA")
                width, height = rgba.size
                seen_pixels += width * height
                if seen_pixels > MAX_PIXELS:
                    raise UnreadableImage("The image has too many pixels to count its colours.")
                # getcolors is C code: a list of (count, colour) of at most
                # width × height entries, never a per-pixel Python loop.
                for _count, rgba_value in rgba.getcolors(width * height) or ():
                    # Half-transparent pixels are colours of their own.
                    # RGBA: each value is a 4-tuple, never a float.
                    colours.add(rgba_value if rgba_value[3] else 0)  # type: ignore[index]
            return len(colours)
    except UnreadableImage:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise UnreadableImage(f"The image could not be read: {error}") from None
