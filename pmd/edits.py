"""Text edits of the bulk "Edit…" dialog, as pure functions: set a title or
description, add a prefix or a suffix, find and replace (literal, or a
regular expression with groups), case-sensitive or not.

An edit is read once from what the client sent (`text_edit`, which refuses
a malformed one as a whole with EditRefused), then applied to each post's
text (`TextEdit.apply`), which either gives the new text or says why this
post cannot take it (PostInvalid: an empty title, one over 300 characters,
an expression that runs too long). The preview and the apply run the same
code, so apply writes exactly what the preview showed.

Regular expressions run in the `regex` package, which, unlike `re`, can stop
a match after a time budget: a pattern such as (a|aa)+$ backtracks for
minutes on a long title, and a request thread must never be held by one.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Any, Literal

import regex

OPS = ("set", "prefix", "suffix", "replace", "regex")
Op = Literal["set", "prefix", "suffix", "replace", "regex"]

# The longest a title can be (Post.title); a description has no column limit,
# this one keeps a bulk edit from writing novels into 10,000 posts.
MAX_LENGTH = {"title": 300, "description": 10_000}
# What one expression may take on one post's text, and on all of a request's.
# The package looks at its clock every so often, so a run stops up to a few
# times later than asked (measured: 60-70 ms for 20 ms).
REGEX_SECONDS_PER_TEXT = 0.02
REGEX_SECONDS_PER_REQUEST = 1.0
MAX_PATTERN_LENGTH = 300


class EditRefused(ValueError):
    """The edit as sent cannot be read; nothing is previewed or written."""


class PostInvalid(ValueError):
    """This post cannot take the edit; `reason` says why, for a person."""


@dataclass
class _Budget:
    seconds: float = REGEX_SECONDS_PER_REQUEST
    spent: float = 0.0


@dataclass(frozen=True)
class TextEdit:
    field: str
    op: Op
    value: str
    find: str = ""
    ignore_case: bool = False
    # dataclasses.field in full: the attribute `field` above hides the name here.
    pattern: Any = dataclasses.field(default=None, compare=False, repr=False)
    budget: _Budget = dataclasses.field(default_factory=_Budget, compare=False, repr=False)

    def apply(self, text: str) -> str:
        """The text after the edit, or PostInvalid."""
        if self.op == "set":
            new = self.value
        elif self.op == "prefix":
            new = self.value + text
        elif self.op == "suffix":
            new = text + self.value
        else:
            new = self._replace(text)
        return _checked(self.field, new)

    def _replace(self, text: str) -> str:
        if self.op == "replace":
            # A literal find: the pattern escapes it, and the replacement is
            # taken as is (no group references in a literal replace).
            return self.pattern.sub(lambda _match: self.value, text)
        if self.budget.spent >= self.budget.seconds:
            raise PostInvalid("The expression took too long on earlier posts; simplify it.")
        started = time.monotonic()
        try:
            return self.pattern.sub(self.value, text, timeout=REGEX_SECONDS_PER_TEXT)
        except TimeoutError:
            raise PostInvalid(
                "The expression takes too long to run on this text; simplify it."
            ) from None
        except (regex.error, IndexError) as error:
            raise PostInvalid(f"The replacement cannot be used: {error}.") from None
        finally:
            self.budget.spent += time.monotonic() - started


def _checked(field_name: str, text: str) -> str:
    if "\x00" in text:
        raise PostInvalid(f"The {field_name} would hold a NUL character.")
    if field_name == "title":
        if not text.strip():
            raise PostInvalid("The title would be empty.")
        if "\n" in text or "\r" in text:
            raise PostInvalid("A title is one line; the edit would break it.")
    limit = MAX_LENGTH[field_name]
    if len(text) > limit:
        raise PostInvalid(
            f"The {field_name} would have {len(text):,} characters; at most {limit:,} fit."
        )
    return text


def text_edit(data: object, *, field_name: str) -> TextEdit:
    """The edit of `field_name` the client sent as
    {op, value, find?, ignore_case?}, or EditRefused."""
    if not isinstance(data, dict):
        raise EditRefused(f'{field_name} must be an object such as {{"op": "set", "value": "…"}}.')
    unknown = sorted(set(data) - {"op", "value", "find", "ignore_case"})
    if unknown:
        raise EditRefused(f"{field_name}: unknown field {unknown[0]!r}; leave it out.")
    op = data.get("op")
    if op not in OPS:
        raise EditRefused(f"{field_name}.op must be one of {', '.join(OPS)}.")
    value = data.get("value", "")
    if not isinstance(value, str):
        raise EditRefused(f"{field_name}.value must be text.")
    if len(value) > MAX_LENGTH[field_name]:
        raise EditRefused(
            f"{field_name}.value has {len(value):,} characters; at most "
            f"{MAX_LENGTH[field_name]:,} fit."
        )
    ignore_case = data.get("ignore_case", False)
    if not isinstance(ignore_case, bool):
        raise EditRefused(f"{field_name}.ignore_case must be true or false.")
    find = data.get("find", "")
    if op in ("replace", "regex"):
        if not isinstance(find, str) or not find:
            raise EditRefused(f"{field_name}.find: say what to find.")
        if len(find) > MAX_PATTERN_LENGTH:
            raise EditRefused(
                f"{field_name}.find has {len(find):,} characters; at most {MAX_PATTERN_LENGTH}."
            )
    elif "find" in data or "ignore_case" in data:
        raise EditRefused(f"{field_name}: find and ignore_case go with replace and regex only.")
    if "\x00" in value or "\x00" in find:
        raise EditRefused(f"{field_name} holds a NUL character.")
    flags = regex.IGNORECASE if ignore_case else 0
    pattern = None
    if op == "replace":
        pattern = regex.compile(regex.escape(find), flags | regex.VERSION0)
    elif op == "regex":
        try:
            pattern = regex.compile(find, flags | regex.VERSION0)
        except (regex.error, OverflowError, RecursionError) as error:
            raise EditRefused(f"{field_name}.find is not a regular expression: {error}.") from None
    return TextEdit(field_name, op, value, find, ignore_case, pattern)
