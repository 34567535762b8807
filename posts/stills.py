"""The first frame of an animation as a PNG: what the dashboard's grid shows
until a GIF is hovered or focused, and all it shows to people who ask for
reduced motion."""

from __future__ import annotations

import io
from typing import IO

from PIL import Image

# Larger than any artwork the site takes (4096 × 4096): refuse, do not decode.
MAX_PIXELS = 4096 * 4096


class NoStill(ValueError):
    """The file is not an image Pillow can read, or is too large."""


def first_frame_png(file: IO[bytes]) -> bytes:
    try:
        with Image.open(file) as image:
            if image.width * image.height > MAX_PIXELS:
                raise NoStill("too large")
            image.seek(0)
            frame = image.convert("RGBA")
    except NoStill:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise NoStill(str(error)) from None
    out = io.BytesIO()
    frame.save(out, "PNG", optimize=False)
    return out.getvalue()
