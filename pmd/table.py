"""What the dashboard table template needs: rows, headers with their sort
links, pager links. Shared by the full page and its HTMX partial."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from posts.models import Post

from .selectors import TablePage, matching_counts, table_page
from .table_state import COLUMNS, FORMATS, PAGE_SIZES, TableState

_UNITS = (("year", 365 * 86400), ("month", 30 * 86400), ("week", 7 * 86400),
          ("day", 86400), ("hour", 3600), ("minute", 60))  # fmt: skip


def ago(value: datetime, now: datetime) -> str:
    """ "3 days ago": the largest unit only, as lists show dates."""
    seconds = (now - value).total_seconds()
    if seconds < 60:
        return "just now" if seconds > -60 else "in the future"
    for unit, size in _UNITS:
        if seconds >= size:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if count != 1 else ''} ago"
    return "just now"


def exact_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def human_size(size: int) -> str:
    """1.2 MB, 340 KB, 87 bytes (binary multiples, as file managers show them)."""
    if size < 1024:
        return f"{size} byte{'s' if size != 1 else ''}"
    for unit in ("KB", "MB", "GB", "TB"):
        size /= 1024
        if size < 1024 or unit == "TB":
            return f"{size:.1f} {unit}"
    raise AssertionError("unreachable")


class TableRow:
    """A post as one table row shows it, formatted once in Python: a 512-row
    page formats ~6,000 values, and the template engine's filters would spend
    most of the request on them."""

    __slots__ = (
        "id", "title", "description", "art_url", "created_iso", "created_exact",
        "created_ago", "frames", "file_format", "size", "size_bytes", "width", "height",
        "reactions", "comments", "views", "hidden", "hidden_by_user", "hidden_by_mod",
        "deleted_exact", "deleted_ago",
    )  # fmt: skip

    def __init__(self, post: Post, now: datetime) -> None:
        # Strings, not ints: the template engine localizes every number it prints.
        self.id = str(post.pk)
        self.title = post.title
        self.description = post.description
        self.art_url = post.art_url
        self.created_iso = post.created_at.isoformat()
        self.created_exact = exact_time(post.created_at)
        self.created_ago = ago(post.created_at, now)
        self.frames = str(post.frame_count)
        self.file_format = post.file_format.upper()
        self.size = human_size(post.file_bytes)
        self.size_bytes = f"{post.file_bytes:,}"
        self.width = str(post.width)
        self.height = str(post.height)
        self.reactions = f"{post.reaction_count:,}"
        self.comments = f"{post.comment_count:,}"
        self.views = f"{post.view_count:,}"
        self.hidden = post.hidden_by_user or post.hidden_by_mod
        self.hidden_by_user = post.hidden_by_user
        self.hidden_by_mod = post.hidden_by_mod
        deleted = post.deleted_by_user_date
        self.deleted_exact = exact_time(deleted) if deleted else ""
        self.deleted_ago = ago(deleted, now) if deleted else ""


@dataclass(frozen=True)
class Header:
    label: str
    css: str
    sort_key: str | None
    href: str | None
    aria_sort: str  # "ascending", "descending" or "none"

    @property
    def arrow(self) -> str:
        return {"ascending": "▲", "descending": "▼"}.get(self.aria_sort, "")


def _headers(state: TableState) -> list[Header]:
    headers = []
    for key, label, css in COLUMNS:
        aria_sort = "none"
        if key and key == state.sort:
            aria_sort = "ascending" if state.direction == "asc" else "descending"
        href = f"?{state.sort_link(key)}" if key else None
        headers.append(Header(label, css, key, href, aria_sort))
    return headers


def _pager(state: TableState, page: TablePage) -> dict[str, str | None]:
    def link(number: int) -> str:
        return f"?{state.query_string(page=number)}"

    return {
        "first": link(1) if page.has_previous else None,
        "previous": link(page.number - 1) if page.has_previous else None,
        "next": link(page.number + 1) if page.has_next else None,
        "last": link(page.num_pages) if page.has_next else None,
    }


def table_context(*, owner: AbstractBaseUser, state: TableState) -> dict:
    # Both counts at once: they share one read of the owner's posts version.
    total, live_total = matching_counts(owner=owner, states=[state, TableState()])
    page = table_page(owner=owner, state=state, total=total)
    notes = list(state.notes)
    if page.clamped_from is not None:
        notes.append(
            f"There is no page {page.clamped_from}; showing page {page.number} of {page.num_pages}."
        )
    now = timezone.now()
    return {
        "state": state,
        "page": page,
        "rows": [TableRow(post, now) for post in page.rows],
        "headers": _headers(state),
        "pager": _pager(state, page),
        "notes": notes,
        "live_total": live_total,
        "page_sizes": PAGE_SIZES,
        "formats": FORMATS,
        "state_query": state.query_string(page=page.number),
        "live_view_href": f"?{state.query_string(view='live', page=1)}",
        "deleted_view_href": f"?{state.query_string(view='deleted', page=1)}",
    }
