"""Jobs in the JSON API: ask for one (a batch action over up to
PMD_JOB_LIMIT posts, done by a worker), list, read, cancel and undo them.
Progress also arrives as `job_update` events on the caller's event stream."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from django.http import HttpRequest
from ninja import Router
from ninja.responses import Status
from pydantic import Field, WithJsonSchema, model_validator

from pmd.access import owner_of
from pmd.actions.run import UNSET
from pmd.jobs import service
from pmd.jobs.serialize import job_item
from pmd.table_state import TableState
from pmd.views.api_actions import ActionName, Hashtag, JobCreated, created
from pmd.views.api_conventions import Count, LicenseId, Request, Strict, errors, post_id_list
from pmd_project.lib.inputs import BadInput

router = Router()

Time = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]
Uuid = Annotated[str, WithJsonSchema({"type": "string", "format": "uuid"})]
JobStatus = Literal["queued", "running", "done", "cancelled", "failed"]


class JobFilters(Request):
    """The table's search and filters, as GET /api/pmd/posts/ids takes them;
    unknown values fall back as on the page."""

    q: str = ""
    visibility: str = ""
    format: str = ""
    view: str = ""


class JobRequest(Request):
    action: ActionName
    post_ids: post_id_list("PMD_JOB_LIMIT") = None  # type: ignore[valid-type]
    filters: Annotated[
        JobFilters | None,
        Field(description="Instead of post_ids: every post the table's search and filters match."),
    ] = None
    hashtag: Hashtag = None  # type: ignore[assignment]
    license: LicenseId = None

    @model_validator(mode="after")
    def _one_selection(self) -> JobRequest:
        if (self.post_ids is None) == (self.filters is None):
            raise BadInput(
                "Send post_ids (the posts) or filters (the table's search and filters), "
                "one of them."
            )
        return self


class SkipReason(Strict):
    reason: str
    count: Annotated[int, Field(ge=1)]
    words: Annotated[str, Field(description='For a person: "deleted", "not yours or gone", …')]


class JobItem(Strict):
    id: Uuid
    action: str
    hashtag: str | None
    license: Annotated[
        str | None, Field(description="What set_license sets: an identifier, or null for none.")
    ]
    status: JobStatus
    total: Count
    done: Annotated[Count, Field(description="Posts worked on (changed or already so).")]
    changed: Annotated[Count, Field(description="Posts the job changed.")]
    skipped: Annotated[Count, Field(description="Posts that could not take the action.")]
    failed: Annotated[Count, Field(description="Posts of chunks a database error stopped.")]
    skip_reasons: list[SkipReason]
    cancel_requested: bool
    undo_of: Uuid | None
    undoable: bool
    created_at: Time
    started_at: Time | None
    finished_at: Time | None
    activity_id: Annotated[
        int | None,
        Field(description="The entry of its first chunk: POST action/undo undoes the whole job."),
    ]
    message: str


class JobList(Strict):
    items: list[JobItem]


@router.post(
    "", response={202: JobCreated, **errors(400, 401, 403, 409, 413)}, url_name="api-job-list"
)
def create_job(request: HttpRequest, body: JobRequest) -> Status:
    """A batch action over up to PMD_JOB_LIMIT posts, done by a worker in
    chunks; the posts are fixed now. 409 while another job of the caller's
    is queued or running."""
    query = None
    if body.filters is not None:
        query = TableState.from_query(body.filters.model_dump()).query(owner_of(request))
    job = service.job_create(
        user=owner_of(request),
        action_name=body.action,
        post_ids=body.post_ids,
        query=query,
        hashtag=body.hashtag,
        # null clears the licence; leaving the field out is not the same.
        license=body.license if "license" in body.model_fields_set else UNSET,
    )
    return created(job)


@router.get("", response={200: JobList, **errors(401)}, url_name="api-job-list")
def jobs_list(request: HttpRequest) -> JobList:
    """The caller's newest jobs, newest first."""
    return JobList(
        items=[JobItem(**job_item(job)) for job in service.jobs_recent(owner_of(request))]
    )


@router.get("/{uuid:pk}", response={200: JobItem, **errors(401, 404)}, url_name="api-job-detail")
def job_detail(request: HttpRequest, pk: uuid.UUID) -> JobItem:
    return JobItem(**job_item(service.get_owned_job(owner_of(request), pk)))


@router.post(
    "/{uuid:pk}/cancel",
    response={200: JobItem, **errors(401, 403, 404, 409)},
    url_name="api-job-cancel",
)
def job_cancel(request: HttpRequest, pk: uuid.UUID) -> JobItem:
    """Stop the job after the chunk it is working on (a queued one at once)."""
    return JobItem(**job_item(service.job_cancel(user=owner_of(request), job_id=pk)))


@router.post(
    "/{uuid:pk}/undo",
    response={202: JobCreated, **errors(400, 401, 403, 404, 409)},
    url_name="api-job-undo",
)
def job_undo(request: HttpRequest, pk: uuid.UUID) -> Status:
    """Undo a finished job with a job of its own, within the undo window."""
    return created(service.job_undo(user=owner_of(request), job_id=pk))
