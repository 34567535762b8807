"""The dashboard table's state, as it lives in the URL.

Sort, direction, page, page size, search and filters are query parameters, so
every view of the table is a link that works without JavaScript, and HTMX can
push it to the history. Unknown values fall back to defaults with a note the
page shows, never an error. The selectors never see this class: query()
hands them the same values as a plain PostQuery.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.models import User

from pmd.selectors import PostQuery
from pmd_project.lib.inputs import digits
from posts.models import DELETED_SORT_FIELDS, SORT_FIELDS, Post

if TYPE_CHECKING:
    from pmd.models import SavedView

PAGE_SIZES = (16, 32, 64, 128, 256, 512)
DEFAULT_PAGE_SIZE = 32
DEFAULT_SORT = "uploaded"
VISIBILITIES = ("all", "visible", "hidden")
FORMATS = ("all", *Post.Format.values)
VIEWS = ("live", "deleted")
# The licence filter: "all", "none" (all rights reserved), or an identifier
# as SPDX spells them; one that no licence has simply matches nothing.
LICENSE_FILTER = re.compile(r"[A-Za-z0-9.+-]{1,64}")
LAYOUTS = ("table", "grid")
# The grid shows each artwork at a whole multiple of its size, never between.
ZOOMS = tuple(range(1, 9))
DEFAULT_ZOOM = 2
# Past the search language's own limit (it says so), short of echoing megabytes.
MAX_SEARCH_LENGTH = 2_000

# Columns in table order: (sort key or None, header label, CSS class). The
# "minor" columns, then the description, then the counters, hide on narrower
# screens (pmd.css).
COLUMNS = (
    ("visibility", "Visible", "col-visibility"),
    (None, "Art", "col-thumb"),
    ("title", "Title", "col-title"),
    ("description", "Description", "col-description"),
    ("uploaded", "Uploaded", "col-uploaded"),
    ("frames", "Frames", "col-number col-minor"),
    ("format", "Format", "col-format"),
    ("license", "Licence", "col-license col-minor"),
    ("size", "Size", "col-number"),
    ("width", "Width", "col-number col-minor"),
    ("height", "Height", "col-number col-minor"),
    ("reactions", "Reactions", "col-number col-counter"),
    ("comments", "Comments", "col-number col-counter"),
    ("views", "Views", "col-number col-minor"),
)
# Under "Recently deleted" the first column says when each post was deleted.
DELETED_COLUMN = ("deleted", "Deleted", "col-visibility col-deleted")


@dataclass(frozen=True)
class TableState:
    sort: str = DEFAULT_SORT
    direction: str = "desc"
    page: int = 1
    size: int = DEFAULT_PAGE_SIZE
    search: str = ""
    visibility: str = "all"
    file_format: str = "all"
    view: str = "live"
    license: str = "all"
    layout: str = "table"
    zoom: int = DEFAULT_ZOOM
    notes: tuple[str, ...] = field(default=(), compare=False)

    @classmethod
    def from_query(cls, query: Mapping[str, Any]) -> TableState:
        notes: list[str] = []
        view = query.get("view", "live")
        if view not in VIEWS:
            view = "live"
        sort = query.get("sort", DEFAULT_SORT)
        if sort not in SORT_FIELDS and not (view == "deleted" and sort in DELETED_SORT_FIELDS):
            notes.append(f"Unknown sort “{sort[:30]}”; showing newest first.")
            sort = DEFAULT_SORT
        direction = query.get("dir", "desc" if sort == DEFAULT_SORT else "asc")
        if direction not in ("asc", "desc"):
            direction = "desc"
        size = digits(query.get("size", str(DEFAULT_PAGE_SIZE)))
        if size not in PAGE_SIZES:
            notes.append(f"Page size must be one of {', '.join(map(str, PAGE_SIZES))}.")
            size = DEFAULT_PAGE_SIZE
        size = min(size, settings.PMD_LIST_LIMIT)
        page = digits(query.get("page", "1"))
        if page is None:
            notes.append("That page number is not a number; showing page 1.")
            page = 1
        # As typed: a search that cannot be read is shown with the place it
        # goes wrong, which any tidying would move (pmd.search).
        search = query.get("q", "")[:MAX_SEARCH_LENGTH]
        visibility = query.get("visibility", "all")
        if visibility not in VISIBILITIES:
            visibility = "all"
        file_format = query.get("format", "all").lower()
        if file_format not in FORMATS:
            file_format = "all"
        license = query.get("license", "all")
        if not LICENSE_FILTER.fullmatch(license):
            license = "all"
        layout = query.get("layout", "table")
        if layout not in LAYOUTS:
            layout = "table"
        zoom = digits(query.get("zoom", str(DEFAULT_ZOOM)))
        if zoom not in ZOOMS:
            zoom = DEFAULT_ZOOM
        return cls(
            sort, direction, page, size, search, visibility, file_format, view, license, layout,
            zoom, tuple(notes),
        )  # fmt: skip

    @classmethod
    def of_saved_view(cls, view: SavedView) -> TableState:
        """The first page of what a saved view shows, in the table."""
        return cls(
            sort=view.sort,
            direction=view.direction,
            size=view.size,
            search=view.search,
            visibility=view.visibility,
            file_format=view.file_format,
            license=view.license,
        )

    def query(self, owner: User) -> PostQuery:
        """What the selectors read for this state of `owner`'s table."""
        return PostQuery(
            owner=owner,
            # from_query lets only these values through.
            view=self.view,  # type: ignore[arg-type]
            search=self.search,
            visibility=self.visibility,  # type: ignore[arg-type]
            file_format=self.file_format,
            license=self.license,
            sort=self.sort,
            direction=self.direction,  # type: ignore[arg-type]
            page=self.page,
            size=self.size,
        )

    @property
    def columns(self) -> tuple[tuple[str | None, str, str], ...]:
        """The table's sortable columns in order: (sort key or None, label, CSS class)."""
        return (DELETED_COLUMN, *COLUMNS[1:]) if self.view == "deleted" else COLUMNS

    def view_link(self, view: str) -> str:
        """Query string of the first page of `view`, keeping search, filters and
        a sort that view has ("Deleted" is not a column of the live posts)."""
        if self.sort in DELETED_SORT_FIELDS and view != "deleted":
            return self.query_string(view=view, page=1, sort=DEFAULT_SORT, direction="desc")
        return self.query_string(view=view, page=1)

    @property
    def is_filtered(self) -> bool:
        return (
            bool(self.search.strip())
            or self.visibility != "all"
            or self.file_format != "all"
            or self.license != "all"
        )

    def with_changes(self, **changes) -> TableState:
        return replace(self, notes=(), **changes)

    def query_string(self, **changes) -> str:
        """This state (with `changes`) as a query string, defaults left out."""
        state = self.with_changes(**changes) if changes else self
        params = {
            "view": state.view if state.view != "live" else None,
            "q": state.search if state.search.strip() else None,
            "visibility": state.visibility if state.visibility != "all" else None,
            "format": state.file_format if state.file_format != "all" else None,
            "license": state.license if state.license != "all" else None,
            "sort": state.sort if state.sort != DEFAULT_SORT else None,
            "dir": state.direction
            if (state.sort, state.direction) != (DEFAULT_SORT, "desc")
            else None,
            "size": state.size if state.size != DEFAULT_PAGE_SIZE else None,
            "page": state.page if state.page != 1 else None,
            "layout": state.layout if state.layout != "table" else None,
            "zoom": state.zoom if state.layout == "grid" and state.zoom != DEFAULT_ZOOM else None,
        }
        return urlencode({key: value for key, value in params.items() if value is not None})

    def sort_link(self, key: str) -> str:
        """Query string that sorts by `key`: flips the direction when already sorted by it."""
        if key == self.sort:
            direction = "asc" if self.direction == "desc" else "desc"
        else:
            # Numbers and dates read best biggest/newest first; text A to Z.
            direction = "asc" if key in ("title", "description", "format") else "desc"
        return self.query_string(sort=key, direction=direction, page=1)
