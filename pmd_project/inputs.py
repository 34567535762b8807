"""One way in for client input, so bad input is refused the same way everywhere.

Every value a client sends is read by one small function here, which returns
the value or raises BadInput with a message for a person and a 4xx status.
The HTTP edges turn BadInput into a response (the JSON API in pmd.api); no
view calls int() or json.loads() on client text itself.
"""

from __future__ import annotations

import json
import re
import reprlib
from typing import Any

# 2**63 - 1 (the largest id a database column holds) has 19 digits. Longer
# digit strings are refused before int() sees them: Python refuses to parse
# more than 4,300 digits, and nothing the API counts is that large.
MAX_DIGITS = 19
ID_LIMIT = 2**63

# A batch of 128 ids with options is well under 8 KB; anything near this is not ours.
MAX_BODY_BYTES = 64 * 1024

# Control characters no search means (a NUL never gets this far: see
# pmd_project.errors.RefuseNulMiddleware).
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_RANGE = re.compile(r"bytes=([0-9]*)-([0-9]*)")


class BadInput(Exception):
    """The client sent something we refuse; `status` is the 4xx to answer."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def digits(text: str) -> int | None:
    """The whole number `text` spells in ASCII digits, or None. "²", "١",
    " 1", "+1", "1_0" and 5,000 digits are not numbers here."""
    if 0 < len(text) <= MAX_DIGITS and text.isascii() and text.isdigit():
        return int(text)
    return None


def whole_number(text: str, *, name: str, minimum: int, maximum: int) -> int:
    """A query parameter that must be a whole number in [minimum, maximum]."""
    value = digits(text)
    if value is None or not minimum <= value <= maximum:
        raise BadInput(f"{name} must be a whole number from {minimum} to {maximum}.")
    return value


def search_text(text: str, *, max_length: int) -> str:
    """Search words as typed, without control characters, whitespace
    collapsed, at most `max_length` characters."""
    return " ".join(_CONTROL.sub(" ", text[: max_length * 4]).split())[:max_length]


def json_object(body: bytes) -> dict[str, Any]:
    """A request body that must be a JSON object of at most MAX_BODY_BYTES."""
    if len(body) > MAX_BODY_BYTES:
        raise BadInput("The request body is too large.", 413)
    try:
        data = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError):
        raise BadInput("The request body must be JSON.") from None
    except RecursionError:
        # The C decoder gives up on deep nesting ("[" * 40,000) this way.
        raise BadInput("The request body is nested too deeply.") from None
    if not isinstance(data, dict):
        raise BadInput("The request body must be a JSON object.")
    return data


def post_ids(value: Any, *, limit: int) -> list[int]:
    """A non-empty list of at most `limit` distinct post ids, order kept.

    Duplicates count once. Booleans, floats, strings and numbers outside a
    64-bit id are refused rather than coerced.
    """
    if not isinstance(value, list):
        raise BadInput("post_ids must be a list of post ids.")
    if not value:
        raise BadInput("Select at least one post.")
    ids: list[int] = []
    seen: set[int] = set()
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int) or not 0 < item < ID_LIMIT:
            # reprlib keeps a quoted value short and shallow.
            raise BadInput(
                f"post_ids must hold post ids (positive integers); {reprlib.repr(item)} is not one."
            )
        if item not in seen:
            seen.add(item)
            ids.append(item)
    if len(ids) > limit:
        raise BadInput(f"At most {limit} posts per request; this one has {len(ids)}.")
    return ids


def flag(value: Any, *, name: str) -> bool:
    if not isinstance(value, bool):
        raise BadInput(f"{name} must be true or false.")
    return value


def byte_range(header: str, size: int) -> tuple[int, int] | None:
    """The (first, last) byte a `Range: bytes=…` header asks of a file of
    `size` bytes, or None to send the whole file: a malformed or multi-range
    header may be ignored (RFC 9110 §14.2). BadInput 416 for a range that
    lies outside the file."""
    match = _RANGE.fullmatch(header.strip())
    if not match or not any(match.groups()):
        return None
    first_text, last_text = match.groups()
    # digits() gives None for a number too long to read: past the end of any file.
    if not first_text:
        # "bytes=-N": the last N bytes.
        suffix = digits(last_text)
        if suffix == 0:
            raise BadInput("The requested range is outside the file.", 416)
        return (0 if suffix is None else max(size - suffix, 0)), size - 1
    first = digits(first_text)
    last = digits(last_text) if last_text else None
    if first is None or first >= size or (last is not None and last < first):
        raise BadInput("The requested range is outside the file.", 416)
    return first, size - 1 if last is None else min(last, size - 1)
