"""Reads for the dashboard: the table, the JSON list and "select all"."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet

from pmd_project.inputs import ID_LIMIT, BadInput
from posts.models import DELETED_SORT_FIELDS, LIVE_ARTWORK, SORT_FIELDS, Post

from .actions import recently_deleted_posts
from .counts import cached_counts
from .table_state import TableState

# What a table row shows; everything else stays in the database.
TABLE_COLUMNS = (
    "id", "title", "description", "created_at", "frame_count", "file_format", "file_bytes",
    "width", "height", "reaction_count", "comment_count", "view_count", "hidden_by_user",
    "hidden_by_mod", "deleted_by_user_date",
)  # fmt: skip


def live_artworks(*, owner: AbstractBaseUser) -> QuerySet[Post]:
    """The owner's posts the PMD lists. Playlists are excluded here, and so
    everywhere in the PMD (SPEC §3: the playlist feature is deferred); deleted
    posts appear only under "Recently deleted"."""
    return Post.objects.filter(LIVE_ARTWORK, owner=owner)


def matching_posts(*, owner: AbstractBaseUser, state: TableState) -> QuerySet[Post]:
    """The posts the table's search and filters select, in no order."""
    if state.view == "deleted":
        posts = recently_deleted_posts(owner=owner)
    else:
        posts = live_artworks(owner=owner)
    if state.visibility == "visible":
        posts = posts.filter(hidden_by_user=False, hidden_by_mod=False)
    elif state.visibility == "hidden":
        posts = posts.filter(Q(hidden_by_user=True) | Q(hidden_by_mod=True))
    if state.file_format != "all":
        posts = posts.filter(file_format=state.file_format)
    for word in state.search.split():
        word = word.lstrip("#")
        if word:
            posts = posts.filter(
                Q(title__icontains=word)
                | Q(description__icontains=word)
                | Q(hashtags__icontains=word)
            )
    return posts


def matching_counts(*, owner: AbstractBaseUser, states: Sequence[TableState]) -> list[int]:
    """How many posts each state's search and filters match, in order.

    Counts are cached under the owner's posts version (pmd/counts.py), read
    once for all of them: one query, however many states.
    """
    keys: list[str | None] = []
    computes = {}
    for state in states:
        if state.view == "deleted":
            # Small, and its window moves with the clock: not worth caching.
            keys.append(None)
            continue
        key = hashlib.blake2b(state.filter_key.encode(), digest_size=12).hexdigest()
        keys.append(key)
        computes[key] = matching_posts(owner=owner, state=state).count
    cached = cached_counts(owner.pk, computes) if computes else {}
    return [
        cached[key] if key else matching_posts(owner=owner, state=state).count()
        for key, state in zip(keys, states, strict=True)
    ]


def matching_count(*, owner: AbstractBaseUser, state: TableState) -> int:
    return matching_counts(owner=owner, states=[state])[0]


def table_ordering(sort: str, direction: str) -> list[str]:
    field = SORT_FIELDS.get(sort) or DELETED_SORT_FIELDS[sort]
    prefix = "-" if direction == "desc" else ""
    # id breaks ties, so every post has one place and pages never overlap.
    return [f"{prefix}{field}", f"{prefix}id"]


@dataclass
class TablePage:
    rows: list[Post]
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


def table_page(
    *, owner: AbstractBaseUser, state: TableState, total: int | None = None
) -> TablePage:
    """One page of the table, costing the same on the first and the last page.

    Two measures keep deep pages cheap at 100,000 posts (PITFALLS §7):
    - a deferred join: the page's ids come from an index-only scan of the
      sort's (owner, column, id) index, and only those rows are read;
    - past the middle, the scan runs from the other end of the index, so the
      last page skips as few entries as the first.

    `total` is matching_count() of `state`, when the caller has it already.
    """
    if total is None:
        total = matching_count(owner=owner, state=state)
    num_pages = max(1, math.ceil(total / state.size))
    number = min(max(state.page, 1), num_pages)
    clamped_from = state.page if number != state.page else None
    offset = (number - 1) * state.size
    limit = min(state.size, max(total - offset, 0))
    if not limit:
        return TablePage([], total, number, num_pages, state.size, clamped_from)

    ordering = table_ordering(state.sort, state.direction)
    reverse = offset > total // 2
    if reverse:
        opposite = "desc" if state.direction == "asc" else "asc"
        scan_order = table_ordering(state.sort, opposite)
        start = total - offset - limit
    else:
        scan_order = ordering
        start = offset
    matching = matching_posts(owner=owner, state=state)
    page_ids = matching.order_by(*scan_order).values("id")[start : start + limit]
    rows = list(Post.objects.filter(id__in=page_ids).order_by(*ordering).only(*TABLE_COLUMNS))
    return TablePage(rows, total, number, num_pages, state.size, clamped_from)


# --- The JSON list (SPEC §6): keyset pagination over (created_at, id) ----------


BAD_CURSOR = "The cursor is not valid; start again without one."


def encode_cursor(post: Post) -> str:
    raw = json.dumps([post.created_at.isoformat(), post.pk], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """The (created_at in UTC, id) a cursor holds, or BadInput."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created, post_id = json.loads(raw)
        created_at = datetime.fromisoformat(created)
        if created_at.tzinfo is None:
            raise ValueError(created)
        # A date near year 1 or 9999 may not survive the move to UTC.
        created_at = created_at.astimezone(UTC)
    except (ValueError, TypeError, OverflowError, RecursionError, binascii.Error):
        raise BadInput(BAD_CURSOR) from None
    if isinstance(post_id, bool) or not isinstance(post_id, int) or not 0 < post_id < ID_LIMIT:
        raise BadInput(BAD_CURSOR)
    return created_at, post_id


@dataclass
class KeysetPage:
    items: list[Post]
    next_cursor: str | None
    total_count: int


def posts_newest_first(
    *,
    owner: AbstractBaseUser,
    limit: int,
    cursor: str | None,
    state: TableState | None = None,
    fields: tuple[str, ...] | None = None,
) -> KeysetPage:
    """A page of the owner's live artworks, newest first (created_at, then id,
    descending), after `cursor`. Walking the cursors visits every post exactly
    once, however many share one created_at. Raises BadInput for a bad cursor."""
    state = state or TableState()
    posts = matching_posts(owner=owner, state=state).order_by("-created_at", "-id")
    if cursor:
        created_at, post_id = decode_cursor(cursor)
        posts = posts.filter(
            Q(created_at__lt=created_at) | Q(created_at=created_at, id__lt=post_id)
        )
    if fields:
        posts = posts.only(*fields)
    items = list(posts[: limit + 1])
    next_cursor = encode_cursor(items[limit - 1]) if len(items) > limit else None
    return KeysetPage(items[:limit], next_cursor, matching_count(owner=owner, state=state))
