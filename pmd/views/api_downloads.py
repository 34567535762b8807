"""Download requests in the JSON API: request, list, read, download, retry,
and the table order a split download follows. JSON only: the page's panel
of them is served by the page's own views (pmd/views/download_panel.py).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from ninja import Router
from ninja.responses import Status
from pydantic import ConfigDict, Field, WithJsonSchema

from pmd import downloads
from pmd.access import actor_of, get_owned_download_request, owner_of
from pmd.errors import Gone
from pmd.models import MAX_DOWNLOAD_PARTS
from pmd.table_state import TableState
from pmd.views.api_conventions import Count, Flag, Request, Strict, errors, post_id_list
from pmd_project.lib.vault import vault
from posts.models import SORT_FIELDS

# Ids are matched by the path's uuid converter: "sse" or "table-order" is never
# taken for one, and a malformed id is the 404 of an address that is not there.
router = Router()

Time = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]
Uuid = Annotated[str, WithJsonSchema({"type": "string", "format": "uuid"})]
ZIP = {"application/zip": {"schema": {"type": "string", "format": "binary"}}}
# A whole number, never "2", 2.0 or true.
PartNumber = Annotated[int, Field(strict=True, ge=1, le=MAX_DOWNLOAD_PARTS)]


class BdrItem(Strict):
    id: Uuid
    status: Literal["pending", "processing", "ready", "failed", "expired"]
    artwork_count: Count
    part: PartNumber | None
    parts: PartNumber | None
    progress: Count
    created_at: Time
    started_at: Time | None
    completed_at: Time | None
    expires_at: Time | None
    error_message: str
    download_url: str | None


class BdrList(Strict):
    items: list[BdrItem]


class BdrRequest(Request):
    # Part `part` of `parts` of a split download: both or neither.
    model_config = ConfigDict(
        json_schema_extra={"dependentRequired": {"part": ["parts"], "parts": ["part"]}}
    )

    post_ids: post_id_list("PMD_BDR_LIMIT")  # type: ignore[valid-type]
    include_comments: Flag = False
    include_reactions: Flag = False
    send_email: Flag = False
    part: PartNumber | None = None
    parts: PartNumber | None = None


class BdrCreated(Strict):
    id: Uuid
    status: Literal["pending"]
    artwork_count: Annotated[int, WithJsonSchema({"type": "integer", "minimum": 1})]
    part: PartNumber | None
    parts: PartNumber | None
    created_at: Time
    message: str
    requests_left: Count


class BdrRetried(BdrItem):
    message: str


class TableOrderRequest(Request):
    post_ids: post_id_list("PMD_LIST_LIMIT")  # type: ignore[valid-type]
    sort: Literal[tuple(SORT_FIELDS)] = "uploaded"  # type: ignore[valid-type]
    direction: Literal["asc", "desc"] | None = Field(
        None, description="as the table's `dir`; by default as the table sorts that column"
    )


class TablePosition(Strict):
    id: int
    position: Annotated[int, Field(ge=1)]


class TableOrder(Strict):
    items: list[TablePosition]


@router.get("", response={200: BdrList, **errors(401)}, url_name="api-bdr-list")
def download_requests(request: HttpRequest) -> BdrList:
    """The caller's 20 newest download requests."""
    recent = downloads.download_requests_recent(owner_of(request))
    return BdrList(items=[downloads.bdr_item(bdr) for bdr in recent])


@router.post(
    "",
    response={201: BdrCreated, **errors(400, 401, 403, 413, 429)},
    url_name="api-bdr-list",
)
def create_download_request(request: HttpRequest, body: BdrRequest) -> Status:
    """Request a ZIP of up to PMD_BDR_LIMIT artworks; 429 when today's are used up."""
    bdr = downloads.download_request_create(
        user=owner_of(request),
        post_ids=body.post_ids,
        include_comments=body.include_comments,
        include_reactions=body.include_reactions,
        send_email=body.send_email,
        part_number=body.part,
        part_count=body.parts,
        actor=actor_of(request),
    )
    left = downloads.requests_left_today(owner_of(request))
    item = downloads.bdr_item(bdr)
    return Status(
        201,
        BdrCreated(
            **{
                name: item[name]
                for name in ("id", "status", "artwork_count", "part", "parts", "created_at")
            },
            message=downloads.download_request_created_message(bdr, requests_left=left),
            requests_left=left,
        ),
    )


@router.post(
    "/table-order",
    response={200: TableOrder, **errors(400, 401, 403, 413)},
    url_name="api-bdr-table-order",
)
def download_table_order(request: HttpRequest, body: TableOrderRequest) -> TableOrder:
    """The posts in the order the table shows them under `sort`, each with its
    position (1 = the first row of the caller's posts, unfiltered), so a
    selection of more than PMD_BDR_LIMIT posts is split into downloads in
    table order; positions from two calls compare. 400 if any post is not the
    caller's live artwork. Changes nothing (a POST for the length of the list)."""
    # The table's own reading of a sort without a direction (pmd.table_state).
    query = {"sort": body.sort} | ({"dir": body.direction} if body.direction else {})
    state = TableState.from_query(query)
    positions = downloads.table_positions(
        user=owner_of(request), post_ids=body.post_ids, sort=state.sort, direction=state.direction
    )
    return TableOrder(items=[TablePosition(id=pk, position=at) for pk, at in positions])


@router.get("/{uuid:pk}", response={200: BdrItem, **errors(401, 404)}, url_name="api-bdr-detail")
def download_request_detail(request: HttpRequest, pk: uuid.UUID) -> BdrItem:
    return BdrItem(**downloads.bdr_item(get_owned_download_request(request, pk)))


def download_request_file(request: HttpRequest, pk: uuid.UUID) -> HttpResponseBase:
    """The ZIP, resumable with Range, handed to nginx (X-Accel-Redirect), or
    redirected to the object store."""
    bdr = get_owned_download_request(request, pk)
    try:
        return vault().file_response(
            request,
            downloads.downloadable_file(bdr),
            content_type="application/zip",
            attachment_name=downloads.attachment_name(bdr),
        )
    except Http404:
        # The file answerer's "no such file": the request said ready, the vault disagrees.
        raise Gone(downloads.FILE_GONE) from None


router.get(
    "/{uuid:pk}/download",
    # 302: with object storage, a short-lived presigned URL of the bucket;
    # 503: the object store does not answer (PMD_VAULT_URL, docs/downloads.md).
    response={
        200: None,
        206: None,
        302: None,
        304: None,
        416: None,
        **errors(401, 404, 409, 410, 503),
    },
    url_name="api-bdr-download",
    openapi_extra={"responses": {200: {"content": ZIP}, 206: {"content": ZIP}}},
)(download_request_file)
router.api_operation(
    ["HEAD"], "/{uuid:pk}/download", url_name="api-bdr-download", include_in_schema=False
)(download_request_file)


@router.post(
    "/{uuid:pk}/retry",
    response={201: BdrRetried, **errors(401, 403, 404, 409)},
    url_name="api-bdr-retry",
)
def download_request_retry(request: HttpRequest, pk: uuid.UUID) -> Status:
    """A new request for the posts of a failed one; it does not use up another of today's."""
    retry = downloads.download_request_retry(
        bdr=get_owned_download_request(request, pk), actor=actor_of(request)
    )
    left = downloads.requests_left_today(owner_of(request))
    message = downloads.download_request_created_message(retry, requests_left=left)
    return Status(201, BdrRetried(**downloads.bdr_item(retry), message=message))
