"""Reads for the dashboard: the table, the JSON list and "select all".

They take a PostQuery, plain typed data: the view layer turns the URL into
one (pmd.table_state), so nothing here knows of query strings or the page.
Which posts count is the posts app's to say (posts.models.PostQuerySet).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, NamedTuple, TypeVar

from django.contrib.auth.models import User
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncMonth

from pmd.errors import Invalid
from pmd_project.lib.inputs import ID_LIMIT
from posts.models import DELETED_SORT_FIELDS, SORT_FIELDS, Post, PostQuerySet
from posts.public_ids import post_sqid

from .counts import cached_counts
from .search import search_filter, search_read, search_uses_counters

T = TypeVar("T")


class PostRow(NamedTuple):
    """A post as a table row or grid tile shows it: its columns as the
    database returns them, not a model instance (for 512 rows, building the
    instances took a third as long as the query itself). Everything else
    stays in the database."""

    id: int
    title: str
    description: str
    created_at: datetime
    frame_count: int
    file_format: str
    file_bytes: int
    width: int
    height: int
    reaction_count: int
    comment_count: int
    view_count: int
    hidden_by_user: bool
    hidden_by_mod: bool
    deleted_by_user_date: datetime | None
    license_id: str | None

    @property
    def pk(self) -> int:
        return self.id

    @property
    def public_sqid(self) -> str:
        return post_sqid(self.id)


TABLE_COLUMNS = PostRow._fields


@dataclass(frozen=True)
class PostQuery:
    """Which of an owner's posts to read, in which order, a page at a time:
    the table's view, search and filters, sort and page, as plain values."""

    owner: User
    # "live": the owner's artworks; "deleted": their "Recently deleted".
    view: Literal["live", "deleted"] = "live"
    # What was typed in the search box: the search language
    # (pmd.search_language); a search that cannot be read is SearchRefused.
    search: str = ""
    visibility: Literal["all", "visible", "hidden"] = "all"
    # "all", or one of Post.Format's values.
    file_format: str = "all"
    # "all", "none" (no licence: all rights reserved), or a licence's identifier.
    license: str = "all"
    # A key of posts.models.SORT_FIELDS (or DELETED_SORT_FIELDS in "Recently deleted").
    sort: str = "uploaded"
    direction: Literal["asc", "desc"] = "desc"
    page: int = 1
    size: int = 32

    @property
    def filter_key(self) -> str:
        """Identifies the set of matching posts (not their order or page)."""
        return f"{self.view}|{self.visibility}|{self.file_format}|{self.license}|{self.search}"


def live_artworks(*, owner: User) -> PostQuerySet:
    """The owner's posts the PMD lists and acts on."""
    return Post.objects.filter(owner=owner).live_artworks()


def matching_posts(query: PostQuery) -> QuerySet[Post]:
    """The posts the query's view, search and filters select, in no order.
    Raises SearchRefused (an Invalid) for a search that cannot be run."""
    posts = Post.objects.filter(owner=query.owner)
    posts = posts.recently_deleted() if query.view == "deleted" else posts.live_artworks()
    if query.visibility == "visible":
        posts = posts.not_hidden()
    elif query.visibility == "hidden":
        posts = posts.hidden()
    if query.file_format != "all":
        posts = posts.filter(file_format=query.file_format)
    if query.license == "none":
        posts = posts.filter(license__isnull=True)
    elif query.license != "all":
        posts = posts.filter(license_id=query.license)
    if query.search.strip():
        posts = posts.filter(search_filter(search_read(query.search)))
    return posts


def query_cache_key(what: str, query: PostQuery) -> str:
    """The key `what` of the query's matching posts is cached under (with the
    owner's posts version, pmd/counts.py)."""
    return hashlib.blake2b(f"{what}|{query.filter_key}".encode(), digest_size=12).hexdigest()


def cached_per_query(items: Sequence[tuple[str, PostQuery, Callable[[], T]]]) -> list[T]:
    """compute() for each (what, query, compute) of one owner, in order, each
    cached under the owner's posts version (pmd/counts.py) as `what` of the
    query's matching posts: the version is read once for all of them."""
    (owner_id,) = {query.owner.pk for _, query, _ in items}
    keys: list[str | None] = []
    computes = {}
    for what, query, compute in items:
        if query.view == "deleted" or search_uses_counters(query.search):
            # "Recently deleted" is small, and its window moves with the clock;
            # reactions, comments and views change without moving the posts
            # version the cache is keyed on: counted each time.
            keys.append(None)
            continue
        key = query_cache_key(what, query)
        keys.append(key)
        computes[key] = compute
    cached = cached_counts(owner_id, computes) if computes else {}
    return [
        cached[key] if key else compute() for key, (_, _, compute) in zip(keys, items, strict=True)
    ]


def matching_counts(queries: Sequence[PostQuery]) -> list[int]:
    """How many posts each query (of one owner) matches, in order: one query
    (the posts version), however many are asked, once cached."""
    return cached_per_query([("count", query, matching_posts(query).count) for query in queries])


def matching_count(query: PostQuery) -> int:
    return matching_counts([query])[0]


def table_ordering(sort: str, direction: str) -> list[str]:
    field = SORT_FIELDS.get(sort) or DELETED_SORT_FIELDS[sort]
    prefix = "-" if direction == "desc" else ""
    # id breaks ties, so every post has one place and pages never overlap.
    return [f"{prefix}{field}", f"{prefix}id"]


@dataclass
class TablePage:
    rows: list[PostRow]
    total: int
    number: int
    num_pages: int
    size: int
    clamped_from: int | None

    @property
    def first_index(self) -> int:
        return (self.number - 1) * self.size + 1 if self.total else 0

    @property
    def last_index(self) -> int:
        return min(self.number * self.size, self.total)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.num_pages


def table_page(query: PostQuery, *, total: int | None = None) -> TablePage:
    """One page of the table, costing the same on the first and the last page.

    Two measures keep deep pages cheap at 100,000 posts (OFFSET reads and throws
    away every row it skips: ~400 ms for the last page measured):
    - a deferred join: the page's ids come from an index-only scan of the
      sort's (owner, column, id) index, and only those rows are read;
    - past the middle, the scan runs from the other end of the index, so the
      last page skips as few entries as the first.

    `total` is matching_count() of `query`, when the caller has it already.
    """
    if total is None:
        total = matching_count(query)
    num_pages = max(1, math.ceil(total / query.size))
    number = min(max(query.page, 1), num_pages)
    clamped_from = query.page if number != query.page else None
    offset = (number - 1) * query.size
    limit = min(query.size, max(total - offset, 0))
    if not limit:
        return TablePage([], total, number, num_pages, query.size, clamped_from)

    ordering = table_ordering(query.sort, query.direction)
    reverse = offset > total // 2
    if reverse:
        opposite = "desc" if query.direction == "asc" else "asc"
        scan_order = table_ordering(query.sort, opposite)
        start = total - offset - limit
    else:
        scan_order = ordering
        start = offset
    page_ids = matching_posts(query).order_by(*scan_order).values("id")[start : start + limit]
    found = Post.objects.filter(id__in=page_ids).order_by(*ordering)
    rows = [PostRow(*values) for values in found.values_list(*TABLE_COLUMNS)]
    return TablePage(rows, total, number, num_pages, query.size, clamped_from)


def month_counts(query: PostQuery, months: Sequence[tuple[int, int]]) -> dict[tuple[int, int], int]:
    """How many posts `query` matches in each (year, month) of `months`
    (upload dates in UTC): the timeline's group rows, one grouped query."""
    if not months:
        return {}
    low = datetime(*min(months), 1, tzinfo=UTC)
    year, month = max(months)
    # The first moment after the last month (none after December 9999).
    high = (
        None
        if (year, month) == (9999, 12)
        else datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    )
    posts = matching_posts(query).filter(created_at__gte=low)
    if high:
        posts = posts.filter(created_at__lt=high)
    grouped = (
        posts.order_by()
        .annotate(month=TruncMonth("created_at", tzinfo=UTC))
        .values("month")
        .annotate(n=Count("id"))
    )
    return {(row["month"].year, row["month"].month): row["n"] for row in grouped}


# --- The JSON list: keyset pagination over (created_at, id) --------------------


BAD_CURSOR = "The cursor is not valid; start again without one."


def encode_cursor(post: Post) -> str:
    raw = json.dumps([post.created_at.isoformat(), post.pk], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """The (created_at in UTC, id) a cursor holds, or Invalid."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created, post_id = json.loads(raw)
        created_at = datetime.fromisoformat(created)
        if created_at.tzinfo is None:
            raise ValueError(created)
        # A date near year 1 or 9999 may not survive the move to UTC.
        created_at = created_at.astimezone(UTC)
    except (ValueError, TypeError, OverflowError, RecursionError, binascii.Error):
        raise Invalid(BAD_CURSOR) from None
    if isinstance(post_id, bool) or not isinstance(post_id, int) or not 0 < post_id < ID_LIMIT:
        raise Invalid(BAD_CURSOR)
    return created_at, post_id


@dataclass
class KeysetPage:
    items: list[Post]
    next_cursor: str | None
    total_count: int


def posts_newest_first(
    query: PostQuery,
    *,
    limit: int,
    cursor: str | None,
    fields: tuple[str, ...] | None = None,
) -> KeysetPage:
    """A page of the posts `query` matches, newest first (created_at, then id,
    descending; the query's own sort and page are not used), after `cursor`.
    Walking the cursors visits every post exactly once, however many share
    one created_at. Raises Invalid for a bad cursor."""
    posts = matching_posts(query).order_by("-created_at", "-id")
    if cursor:
        created_at, post_id = decode_cursor(cursor)
        posts = posts.filter(
            Q(created_at__lt=created_at) | Q(created_at=created_at, id__lt=post_id)
        )
    if fields:
        posts = posts.only(*fields)
    items = list(posts[: limit + 1])
    next_cursor = encode_cursor(items[limit - 1]) if len(items) > limit else None
    return KeysetPage(items[:limit], next_cursor, matching_count(query))
