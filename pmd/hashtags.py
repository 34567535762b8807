"""Hashtags as the site keeps them: Post.hashtags is a space-separated list
of words without "#", matched without regard to case.

What a hashtag may be: letters of any script, the combining marks some
scripts need after a letter (Devanagari vowel signs, for example), decimal
digits and "_", at most MAX_LENGTH characters, in Unicode's composed form
(NFC) and stored in lower case. Letters of any script rather than ASCII
alone, because artists tag in their own languages (#ドット絵 is among the
most used pixel-art tags); punctuation, spaces, symbols and emoji are not
letters, so a hashtag is still one searchable word.
"""

from __future__ import annotations

import reprlib
import unicodedata

# 16 hashtags of 30 characters and the spaces between them fit the 500
# characters of Post.hashtags (settings.PMD_HASHTAG_LIMIT is at most 16).
MAX_LENGTH = 30


class BadHashtag(ValueError):
    """Not a hashtag; the message says why, for a person."""


def _allowed(char: str, first: bool) -> bool:
    category = unicodedata.category(char)
    if char == "_" or category == "Nd" or category.startswith("L"):
        return True
    return not first and category in ("Mn", "Mc")


def hashtag_parse(value: object) -> str:
    """The hashtag `value` names, lower case without "#", or BadHashtag.
    One leading "#" is allowed and dropped, as are spaces around it."""
    if not isinstance(value, str):
        raise BadHashtag('hashtag must be text, such as "pixelart".')
    text = value.strip()
    if text.startswith("#"):
        text = text[1:]
    # Lower case can change the length ("İ" becomes "i" and a dot): check after.
    text = unicodedata.normalize("NFC", text.lower())
    if not text:
        raise BadHashtag('Type a hashtag, such as "pixelart".')
    if len(text) > MAX_LENGTH:
        raise BadHashtag(
            f"A hashtag has at most {MAX_LENGTH} characters; this one has {len(text)}."
        )
    for index, char in enumerate(text):
        if not _allowed(char, first=index == 0):
            raise BadHashtag(
                f"A hashtag takes letters, digits and _ only; {reprlib.repr(char)} is not one."
            )
    return text


def hashtag_key(word: str) -> str:
    """What two spellings of one hashtag share. casefold, not lower():
    "STRASSE" and "straße" are one hashtag, as a search would find; every
    comparison of hashtags goes through this."""
    return word.casefold()


def hashtags_have(hashtags: str, hashtag: str) -> bool:
    key = hashtag_key(hashtag)
    return any(hashtag_key(word) == key for word in hashtags.split())


def hashtags_without(hashtags: str, hashtag: str) -> str:
    """`hashtags` without `hashtag` in any case, the others kept in order."""
    key = hashtag_key(hashtag)
    return " ".join(word for word in hashtags.split() if hashtag_key(word) != key)
