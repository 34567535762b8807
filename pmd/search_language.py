"""The dashboard's search language: what a person types in the search box, or
sends as `q=` to the list API, read into terms.

    sunset "night sky" #pixelart -#wip size:32x32 w:>=16 frames:>1
    colors:<=16 format:gif is:hidden license:cc-by-4.0 reactions:>10
    comments:0 views:>100 before:2026-01-01 after:2025-06-30 on:2026-02-14

Terms are separated by spaces and all must hold. A word (or a "quoted
phrase") is looked for in titles and descriptions; `#tag` matches a hashtag;
`key:value` compares a column; a `-` in front of any term negates it.

Reading never touches the database and never guesses: anything it cannot read
is a QueryError that says what and where (the character it starts at, counted
from 1 as a person counts), so the page can show it and the API can answer
400 with the same words. Whether a licence identifier exists is the
selector's to say, since that needs the database.
"""

from __future__ import annotations

import datetime
import reprlib
import unicodedata
from dataclasses import dataclass
from typing import Literal, TypedDict

from pmd.hashtags import BadHashtag, hashtag_parse

# A query longer than this is not someone looking for their posts.
MAX_LENGTH = 500
# Each term is a condition in SQL; a few dozen is more than anyone types.
MAX_TERMS = 24
# Python would read up to 4,300 digits; nothing we compare is near 19.
_MAX_DIGITS = 19

Kind = Literal["word", "hashtag", "number", "size", "format", "is", "license", "date"]
Op = Literal["=", "<", "<=", ">", ">="]

# key -> the Post column it compares, and the largest value that makes sense.
NUMBER_FIELDS: dict[str, tuple[str, int]] = {
    "w": ("width", 65_535),
    "width": ("width", 65_535),
    "h": ("height", 65_535),
    "height": ("height", 65_535),
    "frames": ("frame_count", 1_000_000),
    "colors": ("color_count", 16_777_216),
    "colours": ("color_count", 16_777_216),
    "reactions": ("reaction_count", 2**63 - 1),
    "comments": ("comment_count", 2**63 - 1),
    "views": ("view_count", 2**63 - 1),
}
FORMATS = ("png", "gif", "webp", "bmp")
STATES = ("hidden", "visible")
DATE_OPS: dict[str, Op] = {"before": "<", "after": ">", "on": "="}
KEYS = (*NUMBER_FIELDS, "size", "format", "is", "license", "licence", *DATE_OPS)
# What the "?" help lists, in this order.
HELP: tuple[tuple[str, str], ...] = (
    ("sunset", "a word in the title or description"),
    ('"night sky"', "a phrase"),
    ("#pixelart", "posts with that hashtag"),
    ("size:32x32", "exactly that width and height"),
    ("w:>=16  h:<64", "width, height: =, <, <=, >, >="),
    ("frames:>1", "animations (frames of a GIF)"),
    ("colors:<=16", "distinct colours in the image"),
    ("format:gif", "png, gif, webp or bmp"),
    ("is:hidden  is:visible", "hidden by you or a moderator, or not"),
    ("license:cc-by-4.0", "a licence; license:none for all rights reserved"),
    ("reactions:>10  comments:0  views:>100", "counts"),
    ("before:2026-01-01  after:…  on:…", "upload date (UTC)"),
    ("-term", "a minus in front negates any term: -#wip, -is:hidden"),
)


@dataclass(frozen=True)
class Term:
    """One condition. `field` is the Post column for numbers, `value` is
    typed by kind: str (word, hashtag, format, is, license; None for no
    licence), int (number), (width, height) for size, a date for dates."""

    kind: Kind
    value: object
    negated: bool = False
    field: str = ""
    op: Op = "="
    # Where the term was typed (0-based, end exclusive), for messages.
    start: int = 0
    end: int = 0


class _Where(TypedDict):
    """What every Term of one token shares: its minus, and where it was typed."""

    negated: bool
    start: int
    end: int


@dataclass(frozen=True)
class Query:
    terms: tuple[Term, ...] = ()
    # The query as typed, for the search box.
    text: str = ""

    def __bool__(self) -> bool:
        return bool(self.terms)


class QueryError(ValueError):
    """The query cannot be read; `message` says what and where, for a person."""

    def __init__(self, message: str, *, start: int = 0, end: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.start = start
        self.end = end


def parse(text: str) -> Query:
    """The terms of `text`, or QueryError."""
    if len(text) > MAX_LENGTH:
        raise QueryError(
            f"A search has at most {MAX_LENGTH} characters; this one has {len(text):,}."
        )
    for index, char in enumerate(text):
        if unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn") and not char.isspace():
            raise QueryError(
                f"The search holds an invisible control character (U+{ord(char):04X}) at "
                f"character {index + 1}; remove it.",
                start=index,
                end=index + 1,
            )
    terms: list[Term] = []
    for start, end, token, quoted in _tokens(text):
        if len(terms) == MAX_TERMS:
            raise QueryError(
                f"A search has at most {MAX_TERMS} terms; remove some.", start=start, end=len(text)
            )
        terms.append(_term(token, quoted, start, end))
    return Query(terms=tuple(terms), text=text)


def _tokens(text: str):
    """(start, end, token, quoted) for each space-separated token; a token
    that opens with a quote (after an optional "-") runs to the closing one."""
    index, length = 0, len(text)
    while index < length:
        if text[index].isspace():
            index += 1
            continue
        start = index
        quote_at = index + 1 if text[index] == "-" and index + 1 < length else index
        if text[quote_at] == '"':
            close = text.find('"', quote_at + 1)
            if close == -1:
                raise QueryError(
                    f'The quote at character {quote_at + 1} is never closed; add a " after '
                    "the phrase.",
                    start=quote_at,
                    end=length,
                )
            index = close + 1
            if index < length and not text[index].isspace():
                raise QueryError(
                    f"Put a space after the phrase that ends at character {index}.",
                    start=start,
                    end=index + 1,
                )
            yield start, index, text[start:index], True
            continue
        while index < length and not text[index].isspace():
            index += 1
        yield start, index, text[start:index], False


def _term(token: str, quoted: bool, start: int, end: int) -> Term:
    negated = token.startswith("-") and len(token) > 1
    body = token[1:] if negated else token
    where: _Where = {"negated": negated, "start": start, "end": end}

    def refuse(reason: str) -> QueryError:
        return QueryError(
            f"Could not read {reprlib.repr(token)} at character {start + 1}: {reason}",
            start=start,
            end=end,
        )

    if quoted:
        phrase = " ".join(body[1:-1].split())
        if not phrase:
            raise refuse("the quotes hold nothing.")
        return Term("word", phrase, **where)
    if body.startswith("#"):
        try:
            return Term("hashtag", hashtag_parse(body), **where)
        except BadHashtag as error:
            raise refuse(str(error)) from None
    key, colon, value = body.partition(":")
    if not colon or not (key.isascii() and key.isalpha()):
        # "12:30" or "a:b:c" with a key that is no word: a word like any other.
        return Term("word", body, **where)
    key = key.lower()
    if key not in KEYS:
        raise refuse(
            f"there is no {key!r} operator. Operators: {', '.join(_SHOWN_KEYS)}; "
            'put a phrase in quotes to search for a colon ("note: wip").'
        )
    if not value:
        raise refuse(f"{key}: needs a value, such as {_EXAMPLE[key]}.")
    if key in NUMBER_FIELDS:
        field, maximum = NUMBER_FIELDS[key]
        op, number_text = _split_op(value)
        number = _number(number_text)
        if number is None or number > maximum:
            raise refuse(
                f"{key}: takes a whole number from 0 to {maximum:,} after =, <, <=, > or >=, "
                f"such as {_EXAMPLE[key]}."
            )
        return Term("number", number, field=field, op=op, **where)
    if key == "size":
        width_text, x, height_text = value.lower().replace("×", "x").partition("x")
        width, height = _number(width_text), _number(height_text)
        if not (x and width and height and width <= 65_535 and height <= 65_535):
            raise refuse("size: takes a width and a height from 1 to 65,535, such as size:32x32.")
        return Term("size", (width, height), **where)
    if key == "format":
        if value.lower() not in FORMATS:
            raise refuse(f"format: is one of {', '.join(FORMATS)}.")
        return Term("format", value.lower(), **where)
    if key == "is":
        if value.lower() not in STATES:
            raise refuse("is: is hidden or visible.")
        return Term("is", value.lower(), **where)
    if key in ("license", "licence"):
        if value.lower() == "none":
            return Term("license", None, **where)
        if not all(char.isascii() and (char.isalnum() or char in ".-+") for char in value):
            raise refuse("license: takes an identifier such as cc-by-4.0, or none.")
        return Term("license", value, **where)
    # A date: before:, after:, on:
    day = _date(value)
    if day is None:
        raise refuse(f"{key}: takes a date as YYYY-MM-DD, such as {_EXAMPLE[key]}.")
    return Term("date", day, op=DATE_OPS[key], **where)


def _split_op(value: str) -> tuple[Op, str]:
    for op in (">=", "<=", ">", "<", "="):
        if value.startswith(op):
            return op, value[len(op) :]
    return "=", value


def _number(text: str) -> int | None:
    # ASCII digits only: "²", "١" and "+1" are not numbers here.
    if 0 < len(text) <= _MAX_DIGITS and text.isascii() and text.isdigit():
        return int(text)
    return None


def _date(text: str) -> datetime.date | None:
    parts = text.split("-")
    if len(parts) != 3 or [len(part) for part in parts] != [4, 2, 2]:
        return None
    year, month, day = (_number(part) for part in parts)
    if year is None or month is None or day is None:
        return None
    try:
        return datetime.date(year, month, day)
    except ValueError:
        # Year 0, February 30th, month 13.
        return None


_SHOWN_KEYS = ("size", "w", "h", "frames", "colors", "format", "is", "license", "reactions",
               "comments", "views", "before", "after", "on")  # fmt: skip
_EXAMPLE = {
    **{key: f"{key}:>10" for key in NUMBER_FIELDS},
    "w": "w:>=16",
    "width": "width:>=16",
    "h": "h:<64",
    "height": "height:<64",
    "frames": "frames:>1",
    "colors": "colors:<=16",
    "colours": "colours:<=16",
    "size": "size:32x32",
    "format": "format:gif",
    "is": "is:hidden",
    "license": "license:cc-by-4.0",
    "licence": "licence:cc-by-4.0",
    "before": "before:2026-01-01",
    "after": "after:2026-01-01",
    "on": "on:2026-01-01",
}
