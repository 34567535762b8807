"""The search language's terms as conditions on posts.

pmd.search_language reads what was typed into terms, without the database;
this turns them into one Q for PostQuerySet, and refuses what only the
database can refuse (a licence, while the site has none). Both refusals are
SearchRefused, an Invalid carrying where in the text the trouble is, so the
API answers 400 with the message and the page shows it beside the search box.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import cast

from django.core.exceptions import FieldDoesNotExist
from django.db.models import Q

from pmd.errors import Invalid
from pmd.search_language import HELP, Query, QueryError, Term, parse
from posts.models import NOT_HIDDEN, Post

__all__ = ["HELP", "SearchRefused", "search_filter", "search_read", "search_uses_counters"]

# Columns the database's triggers or the views count; a change to them does not
# move the owner's posts version, so a count that filters on one is never cached.
COUNTER_FIELDS = frozenset({"reaction_count", "comment_count", "view_count"})
# A post whose colours were never counted has no color_count: it matches no
# colors: term, negated or not (it is not "not ≤ 16" either, it is unknown).
NULLABLE_FIELDS = frozenset({"color_count"})

LICENSES_MISSING = (
    "Searching by licence is not available yet: posts have no licences on this site. "
    "Remove the license: term."
)

_LOOKUPS = {"=": "exact", "<": "lt", "<=": "lte", ">": "gt", ">=": "gte"}


class SearchRefused(Invalid):
    """The search cannot be run; `start` and `end` (0-based, end exclusive)
    say which characters of the text it is about."""

    def __init__(self, message: str, *, start: int = 0, end: int = 0) -> None:
        super().__init__(message)
        self.start = start
        self.end = end


@lru_cache(maxsize=512)
def _parsed(text: str) -> Query | QueryError:
    # Reading is pure, and a page reads its query several times (table,
    # counts, facets): once is enough.
    try:
        return parse(text)
    except QueryError as error:
        return error


def search_read(text: str) -> Query:
    """The terms of `text`, or SearchRefused saying what and where."""
    parsed = _parsed(text)
    if isinstance(parsed, QueryError):
        raise SearchRefused(parsed.message, start=parsed.start, end=parsed.end)
    for term in parsed.terms:
        if term.kind == "license":
            _license_available(term)
    return parsed


def search_uses_counters(text: str) -> bool:
    parsed = _parsed(text)
    return isinstance(parsed, Query) and any(
        term.kind == "number" and term.field in COUNTER_FIELDS for term in parsed.terms
    )


def search_filter(query: Query) -> Q:
    """One condition: every term of `query` holds."""
    condition = Q()
    for term in query.terms:
        condition &= _negated(term, _condition(term)) if term.negated else _condition(term)
    return condition


def _negated(term: Term, condition: Q) -> Q:
    if term.kind == "number" and term.field in NULLABLE_FIELDS:
        return ~condition & Q(**{f"{term.field}__isnull": False})
    return ~condition


def _condition(term: Term) -> Q:
    if term.kind == "word":
        word = str(term.value)
        return Q(title__icontains=word) | Q(description__icontains=word)
    if term.kind == "hashtag":
        # A whole word of the space-separated list, in any case. Hashtags are
        # letters, digits, marks and "_": nothing a pattern would read.
        return Q(hashtags__iregex=rf"(^|\s){re.escape(str(term.value))}(\s|$)")
    if term.kind == "number":
        return Q(**{f"{term.field}__{_LOOKUPS[term.op]}": term.value})
    if term.kind == "size":
        # A size term's value is its (width, height) pair.
        size = cast(tuple[int, int], term.value)
        return Q(width=size[0], height=size[1])
    if term.kind == "format":
        return Q(file_format=term.value)
    if term.kind == "is":
        hidden = Q(hidden_by_user=True) | Q(hidden_by_mod=True)
        return Q(NOT_HIDDEN) if term.value == "visible" else hidden
    if term.kind == "date":
        return _date_condition(term.op, term.value)  # type: ignore[arg-type]
    if term.kind == "license":
        return _license_condition(term)
    raise AssertionError(f"a term of kind {term.kind!r} has no condition")


def _date_condition(op: str, day: date) -> Q:
    """Upload dates are days in UTC: before: is before the day starts, after:
    after it ends, on: within it."""
    start = datetime.combine(day, time.min, tzinfo=UTC)
    try:
        end: datetime | None = start + timedelta(days=1)
    except OverflowError:
        # after:9999-12-31: no day follows.
        end = None
    if op == "<":
        return Q(created_at__lt=start)
    if op == ">":
        return Q(created_at__gte=end) if end else Q(pk__in=[])
    return Q(created_at__gte=start, created_at__lt=end) if end else Q(created_at__gte=start)


def _license_field():
    try:
        return Post._meta.get_field("license")
    except FieldDoesNotExist:
        return None


def _license_available(term: Term) -> None:
    field = _license_field()
    if field is None:
        raise SearchRefused(LICENSES_MISSING, start=term.start, end=term.end)
    if term.value is None:
        return
    licenses = field.related_model.objects
    if not licenses.filter(identifier__iexact=term.value).exists():
        raise SearchRefused(
            f"There is no licence {term.value!r}; license: takes an identifier such as "
            "cc-by-4.0, or none.",
            start=term.start,
            end=term.end,
        )


def _license_condition(term: Term) -> Q:
    if term.value is None:
        return Q(license__isnull=True)
    return Q(license__identifier__iexact=term.value)
