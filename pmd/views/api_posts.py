"""GET /api/pmd/posts and /api/pmd/posts/ids: the caller's artworks by cursor."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from django.conf import settings
from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import AfterValidator, BeforeValidator, Field, PlainSerializer, WithJsonSchema

from pmd.access import owner_of
from pmd.selectors import PostQuery, posts_newest_first
from pmd.table_state import TableState
from pmd.views.api_conventions import Count, Strict, errors
from pmd_project.lib.inputs import whole_number
from posts.models import art_urls

router = Router()

LIMIT = settings.PMD_LIST_LIMIT

# Times as Python writes them (+00:00), not pydantic's "Z": the API gives every time
# as ISO 8601 with an explicit UTC offset.
IsoTime = Annotated[
    datetime,
    PlainSerializer(datetime.isoformat, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


def _art_url(sqid: str, info: Any) -> str:
    return info.context["art_url"](sqid)


class PostItem(Strict, from_attributes=True):
    """A post item of the API (docs/api.md), read straight from the model's attributes."""

    id: int
    public_sqid: str
    title: str
    description: str
    created_at: IsoTime
    width: Count
    height: Count
    frame_count: Count
    file_format: Literal["png", "gif", "webp", "bmp"]
    file_bytes: Count
    art_url: Annotated[str, Field(validation_alias="public_sqid"), AfterValidator(_art_url)]
    hidden_by_user: bool
    license: Annotated[
        str | None,
        Field(
            validation_alias="license_id",
            description="The licence's SPDX identifier, or null: all rights reserved.",
        ),
    ]
    reaction_count: Count
    comment_count: Count
    view_count: Count
    color_count: Count | None = Field(
        description="distinct colours over all frames; null until counted"
    )


class PostList(Strict):
    items: list[PostItem]
    next_cursor: str | None
    total_count: Count


class PostIds(Strict):
    ids: list[int]
    next_cursor: str | None
    total_count: Count


def _limit(text: str) -> int:
    return whole_number(text, name="limit", minimum=1, maximum=LIMIT)


class Page(Schema):
    limit: Annotated[int, Field(ge=1, le=LIMIT), BeforeValidator(_limit)] = LIMIT
    cursor: str = Field("", description="next_cursor of the previous page")


SEARCH = (
    "a search in the search language: words, #tag, -#tag, size:32x32, w:/h:/frames:/colors:/"
    "reactions:/comments:/views: with =, <, <=, >, >=, format:gif, is:hidden, is:visible, "
    "before:/after:/on:YYYY-MM-DD, and - before any term to negate it; 400 if it cannot be read"
)


class Filters(Schema):
    """The table's search and filters; unknown values fall back as on the page
    (pmd.table_state)."""

    q: str = Field("", description=SEARCH)
    visibility: str = Field("", description="all, visible or hidden")
    format: str = Field("", description="all, png, gif, webp or bmp")
    license: str = Field(
        "", description="all, none (all rights reserved), or a licence's identifier"
    )
    view: str = Field("", description="live, or deleted for Recently deleted")


@router.get("", response={200: PostList, **errors(400, 401)}, url_name="api-posts")
def posts_list(
    request: HttpRequest, page: Query[Page], q: str = Query("", description=SEARCH)
) -> PostList:
    """The caller's artwork posts matching the search `q` (all of them without
    one), newest first (created_at, then id), by cursor; total_count counts
    the matches."""
    found = posts_newest_first(
        PostQuery(owner=owner_of(request), search=q), limit=page.limit, cursor=page.cursor
    )
    return PostList.model_validate(
        {"items": found.items, "next_cursor": found.next_cursor, "total_count": found.total_count},
        context={"art_url": art_urls()},
    )


@router.get("/ids", response={200: PostIds, **errors(400, 401)}, url_name="api-post-ids")
def post_ids(request: HttpRequest, page: Query[Page], filters: Query[Filters]) -> PostIds:
    """Ids of every post matching the table's search and filters, for "Select all"."""
    found = posts_newest_first(
        TableState.from_query(filters.model_dump()).query(owner_of(request)),
        limit=page.limit,
        cursor=page.cursor,
        fields=("id", "created_at"),
    )
    return PostIds(
        ids=[post.pk for post in found.items],
        next_cursor=found.next_cursor,
        total_count=found.total_count,
    )
