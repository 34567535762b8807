"""What the dashboard table template needs: rows, headers with their sort
links, pager links. Shared by the full page and its HTMX partial."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, timedelta

from django.contrib.auth.models import User
from django.template.defaultfilters import filesizeformat

from posts.models import art_urls

from .facets import Facets, table_counts
from .grid import grid_tiles
from .saved_views import saved_view_counts, saved_views
from .search import HELP, SearchRefused, search_read
from .selectors import (
    PostQuery,
    PostRow,
    TablePage,
    matching_counts,
    month_counts,
    table_page,
)
from .table_rows import row_html, tile_html
from .table_state import DEFAULT_PAGE_SIZE, FORMATS, PAGE_SIZES, ZOOMS, TableState


class TableRow:
    """A post as one table row shows it, formatted once in Python: a 512-row
    page formats ~6,000 values, and the template engine's filters would spend
    most of the request on them. Times and sizes go through the same filters
    as the download panel's (pmd_format)."""

    __slots__ = (
        "id", "title", "description", "art_url", "created_at", "frames", "file_format",
        "size", "size_bytes", "width", "height", "reactions", "comments", "views",
        "hidden", "hidden_by_user", "hidden_by_mod", "deleted_at", "license", "month", "html",
    )  # fmt: skip

    def __init__(self, post: PostRow, art_url: Callable[[str], str]) -> None:
        # Strings, not ints: the template engine localizes every number it prints.
        self.id = str(post.pk)
        self.title = post.title
        self.description = post.description
        self.art_url = art_url(post.public_sqid)
        # Times as written by the table's rows only (the grid shows none).
        self.created_at = post.created_at
        self.frames = str(post.frame_count)
        self.file_format = post.file_format.upper()
        self.size = filesizeformat(post.file_bytes)
        self.size_bytes = f"{post.file_bytes:,}"
        self.width = str(post.width)
        self.height = str(post.height)
        self.reactions = f"{post.reaction_count:,}"
        self.comments = f"{post.comment_count:,}"
        self.views = f"{post.view_count:,}"
        self.hidden = post.hidden_by_user or post.hidden_by_mod
        self.hidden_by_user = post.hidden_by_user
        self.hidden_by_mod = post.hidden_by_mod
        self.deleted_at = post.deleted_by_user_date
        self.license = post.license_id or ""
        # The timeline's group row this row opens, if it is the first of its month.
        self.month: MonthGroup | None = None
        # The row's <tr> in the table, or its <li> in the grid (pmd.table_rows).
        self.html = ""


@dataclass(frozen=True)
class MonthGroup:
    """A month of uploads (UTC) in the timeline: its name, how many posts of
    the search it holds, and the search that selects exactly them."""

    key: str
    label: str
    count: int
    search: str


def _timeline(
    state: TableState, query: PostQuery, posts: list[PostRow], rows: list[TableRow]
) -> None:
    """Sorted by upload date, each month's first row on the page opens a group."""
    if state.sort != "uploaded" or state.view != "live" or not posts:
        return
    months = [post.created_at.astimezone(UTC) for post in posts]
    counts = month_counts(query, sorted({(moment.year, moment.month) for moment in months}))
    previous = None
    for row, moment in zip(rows, months, strict=True):
        key = (moment.year, moment.month)
        if key == previous:
            continue
        previous = key
        start = date(moment.year, moment.month, 1)
        within = f"after:{(start - timedelta(days=1)).isoformat()}" if start.year > 1 else ""
        if key != (9999, 12):
            following = date(moment.year + moment.month // 12, moment.month % 12 + 1, 1)
            within = f"{within} before:{following.isoformat()}".strip()
        row.month = MonthGroup(
            key=f"{moment.year:04d}-{moment.month:02d}",
            label=start.strftime("%B %Y"),
            count=counts.get(key, 0),
            search=f"{state.search.strip()} {within}".strip(),
        )


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
    for key, label, css in state.columns:
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


@dataclass(frozen=True)
class FacetLink:
    label: str
    count: int
    href: str
    current: bool


def facet_links(state: TableState, facets: Facets) -> dict[str, list[FacetLink]]:
    """Each filter's options with their counts, as links that choose them; a
    hashtag's link adds it to the search."""

    def link(**changes) -> str:
        return f"?{state.query_string(page=1, **changes)}"

    labels = {"all": "All", "visible": "Visible", "hidden": "Hidden"}
    visibility = [
        FacetLink(labels[value], count, link(visibility=value), state.visibility == value)
        for value, count in facets.visibility.items()
    ]
    formats = [
        FacetLink(
            "All" if value == "all" else value.upper(),
            facets.formats[value],
            link(file_format=value),
            state.file_format == value,
        )
        for value in FORMATS
    ]
    hashtags = [
        FacetLink(f"#{tag}", count, link(search=f"{state.search.strip()} #{tag}".strip()), False)
        for tag, count in facets.hashtags
        if f"#{tag}" not in state.search.lower().split()
    ]
    return {"visibility": visibility, "formats": formats, "hashtags": hashtags}


@dataclass(frozen=True)
class ViewTab:
    id: int
    name: str
    count: int | None
    href: str
    current: bool


def _view_tabs(owner: User, state: TableState) -> list[ViewTab]:
    """The owner's saved views as tabs, with their counts; the one the table
    shows now (same search, filters, sort and size) is the current one."""
    views = saved_views(user=owner)
    if not views:
        return []
    now = state.query_string(page=1, layout="table") if state.view == "live" else None
    tabs = []
    for view, count in zip(views, saved_view_counts(views, owner), strict=True):
        query = TableState.of_saved_view(view).query_string()
        tabs.append(ViewTab(view.pk, view.name, count, f"?{query}", query == now))
    return tabs


@dataclass(frozen=True)
class SearchNote:
    """A search that could not be run: the reason, and the text as typed with
    the part it is about picked out (`before`, `at`, `after`)."""

    message: str
    before: str
    at: str
    after: str


def _search_note(text: str) -> SearchNote | None:
    if not text.strip():
        return None
    try:
        search_read(text)
    except SearchRefused as error:
        start, end = error.start, max(error.end, error.start)
        return SearchNote(error.message, text[:start], text[start:end], text[end:])
    return None


def table_context(*, owner: User, state: TableState) -> dict:
    query = state.query(owner)
    search_note = _search_note(state.search)
    if search_note:
        # Nothing matches a search that cannot be read: an empty table under
        # the note, rather than every post under a search that says otherwise.
        (live_total,) = matching_counts([PostQuery(owner=owner)])
        page = TablePage([], 0, 1, 1, query.size, None)
        facets = None
    else:
        # The counts at once: they share one read of the owner's posts version.
        total, live_total, counts = table_counts(query)
        page = table_page(query, total=total)
        facets = facet_links(state, counts)
    art_url = art_urls()
    rows = [TableRow(post, art_url) for post in page.rows]
    _timeline(state, query, page.rows, rows)
    deleted_view = state.view == "deleted"
    if state.layout == "grid":
        for row, tile in zip(rows, grid_tiles(page.rows, state.zoom), strict=True):
            row.html = tile_html(row, tile, deleted_view=deleted_view)
    else:
        for row in rows:
            row.html = row_html(row, deleted_view=deleted_view)
    # Said by the pager and "Go to page", where a page number is asked for.
    clamp_note = ""
    if page.clamped_from is not None:
        clamp_note = (
            f"There is no page {page.clamped_from}; showing page {page.number} of {page.num_pages}."
        )
    return {
        "state": state,
        "page": page,
        "rows": rows,
        "zooms": ZOOMS,
        "headers": _headers(state),
        "pager": _pager(state, page),
        "notes": state.notes,
        "search_note": search_note,
        "view_tabs": _view_tabs(owner, state),
        "facets": facets,
        "clamp_note": clamp_note,
        "live_total": live_total,
        "page_sizes": PAGE_SIZES,
        "default_page_size": DEFAULT_PAGE_SIZE,
        "search_help": HELP,
        "formats": FORMATS,
        "state_query": state.query_string(page=page.number),
        "live_view_href": f"?{state.view_link('live')}",
        "deleted_view_href": f"?{state.view_link('deleted')}",
    }
