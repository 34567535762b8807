"""Saved views in the JSON API: list (with counts), create, rename, reorder,
delete. The page's own scripts call these same operations."""

from __future__ import annotations

from typing import Annotated, Literal

from django.http import HttpRequest
from ninja import Router
from ninja.responses import Status
from pydantic import Field

from pmd import saved_views
from pmd.access import owner_of
from pmd.models import SavedView
from pmd.table_state import FORMATS, LICENSE_FILTER, PAGE_SIZES, VISIBILITIES, TableState
from pmd.views.api_conventions import Count, Request, Strict, errors
from posts.models import SORT_FIELDS

router = Router()

Visibility = Literal[VISIBILITIES]  # type: ignore[valid-type]
Format = Literal[FORMATS]  # type: ignore[valid-type]
Sort = Literal[tuple(SORT_FIELDS)]  # type: ignore[valid-type]
PageSize = Literal[PAGE_SIZES]  # type: ignore[valid-type]
LicenseFilter = Annotated[
    str,
    Field(
        pattern=f"^{LICENSE_FILTER.pattern}$",
        description='"all", "none" (all rights reserved) or a licence\'s identifier',
    ),
]
Name = Annotated[str, Field(description=f"1 to {saved_views.MAX_NAME} characters")]


class ViewItem(Strict):
    id: int
    name: str
    q: str
    visibility: Visibility
    format: Format
    license: LicenseFilter
    sort: Sort  # type: ignore[valid-type]
    direction: Literal["asc", "desc"]
    size: PageSize
    position: Count
    count: Count | None = Field(description="posts it shows now; null if its search fails")
    query_string: str = Field(description="the dashboard's address for it, after the ?")


class ViewList(Strict):
    items: list[ViewItem]


class ViewCreate(Request):
    name: Name
    q: str = Field("", description="a search in the search language (as GET posts?q=)")
    visibility: Visibility = "all"
    format: Format = "all"
    license: LicenseFilter = "all"
    sort: Sort = "uploaded"  # type: ignore[valid-type]
    direction: Literal["asc", "desc"] = "desc"
    size: PageSize = 32


class ViewRename(Request):
    name: Name


class ViewOrder(Request):
    ids: list[int] = Field(description="every saved view's id, once each, in the new order")


class Done(Strict):
    success: bool


def _item(view: SavedView, count: int | None) -> ViewItem:
    state = TableState.of_saved_view(view)
    return ViewItem(
        id=view.pk,
        name=view.name,
        q=view.search,
        visibility=view.visibility,
        format=view.file_format,
        license=view.license,
        sort=view.sort,
        direction=view.direction,
        size=view.size,
        position=view.position,
        count=count,
        query_string=state.query_string(),
    )


def _items(request: HttpRequest, views: list[SavedView]) -> list[ViewItem]:
    counts = saved_views.saved_view_counts(views, owner_of(request))
    return [_item(view, count) for view, count in zip(views, counts, strict=True)]


@router.get("", response={200: ViewList, **errors(401)}, url_name="api-views")
def views_list(request: HttpRequest) -> ViewList:
    """The caller's saved views in tab order, each with how many posts it shows now."""
    return ViewList(items=_items(request, saved_views.saved_views(user=owner_of(request))))


@router.post("", response={201: ViewItem, **errors(400, 401, 403)}, url_name="api-views")
def views_create(request: HttpRequest, body: ViewCreate) -> Status:
    """Save a search, its filters, sort and page size under a name, as the last tab."""
    view = saved_views.saved_view_create(
        user=owner_of(request),
        name=body.name,
        settings=saved_views.ViewSettings(
            search=body.q,
            visibility=body.visibility,
            file_format=body.format,
            license=body.license,
            sort=body.sort,
            direction=body.direction,
            size=body.size,
        ),
    )
    return Status(201, _items(request, [view])[0])


@router.post(
    "/order", response={200: ViewList, **errors(400, 401, 403)}, url_name="api-views-order"
)
def views_order(request: HttpRequest, body: ViewOrder) -> ViewList:
    """Put the saved views in the order of `ids`."""
    views = saved_views.saved_views_reorder(user=owner_of(request), view_ids=body.ids)
    return ViewList(items=_items(request, views))


@router.patch(
    "/{int:view_id}",
    response={200: ViewItem, **errors(400, 401, 403, 404)},
    url_name="api-view",
)
def views_rename(request: HttpRequest, view_id: int, body: ViewRename) -> ViewItem:
    view = saved_views.saved_view_rename(user=owner_of(request), view_id=view_id, name=body.name)
    return _items(request, [view])[0]


@router.delete("/{int:view_id}", response={200: Done, **errors(401, 403, 404)}, url_name="api-view")
def views_delete(request: HttpRequest, view_id: int) -> Done:
    saved_views.saved_view_delete(user=owner_of(request), view_id=view_id)
    return Done(success=True)
