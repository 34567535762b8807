"""What a hashtag may be (pmd.hashtags), without the database."""

from __future__ import annotations

import pytest

from pmd.hashtags import (
    MAX_LENGTH,
    BadHashtag,
    hashtag_parse,
    hashtags_have,
    hashtags_without,
)


class TestHashtagParse:
    @pytest.mark.parametrize(
        ("typed", "stored"),
        [
            ("pixel", "pixel"),
            ("#Pixel", "pixel"),
            ("  #PIXEL_Art2 ", "pixel_art2"),
            ("8bit", "8bit"),
            ("_", "_"),
            ("ドット絵", "ドット絵"),
            ("Пиксель", "пиксель"),
            # Combining marks follow a letter in many scripts.
            ("हिन्दी", "हिन्दी"),
            # Composed and decomposed "é" are one hashtag.
            ("cafe\u0301", "café"),
            ("x" * MAX_LENGTH, "x" * MAX_LENGTH),
        ],
    )
    def test_it_takes_letters_of_any_script_digits_and_underscore(self, typed, stored):
        assert hashtag_parse(typed) == stored

    @pytest.mark.parametrize(
        ("typed", "message"),
        [
            ("", 'Type a hashtag, such as "pixelart".'),
            ("  # ", 'Type a hashtag, such as "pixelart".'),
            ("pixel-art", "A hashtag takes letters, digits and _ only; '-' is not one."),
            ("pixel art", "A hashtag takes letters, digits and _ only; ' ' is not one."),
            ("##pixel", "A hashtag takes letters, digits and _ only; '#' is not one."),
            ("frog🐸", "A hashtag takes letters, digits and _ only; '🐸' is not one."),
            ("\u0301e", "A hashtag takes letters, digits and _ only; '\u0301' is not one."),
            ("a\x00b", r"'\x00' is not one."),
            ("x" * (MAX_LENGTH + 1), "A hashtag has at most 30 characters; this one has 31."),
            (None, 'hashtag must be text, such as "pixelart".'),
            (7, 'hashtag must be text, such as "pixelart".'),
        ],
    )
    def test_it_refuses_anything_else_saying_why(self, typed, message):
        with pytest.raises(BadHashtag) as caught:
            hashtag_parse(typed)
        assert message in str(caught.value)


class TestMatching:
    def test_it_matches_without_regard_to_case(self):
        assert hashtags_have("retro Pixel fox", "pixel")
        assert hashtags_have("STRASSE", "straße")
        assert not hashtags_have("pixelart", "pixel")
        assert not hashtags_have("", "pixel")

    def test_it_removes_every_spelling_and_keeps_the_rest_in_order(self):
        assert hashtags_without("retro Pixel fox PIXEL", "pixel") == "retro fox"
        assert hashtags_without("pixel", "pixel") == ""
        assert hashtags_without("  a  b ", "c") == "a b"
