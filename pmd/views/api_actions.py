"""POST /api/pmd/action: batch post actions, and POST
/api/pmd/action/undo. The page's JavaScript calls these same endpoints with
the X-CSRFToken header, so the API and the page share one set of rules,
messages and audit entries."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Literal

from django.conf import settings
from django.http import HttpRequest
from ninja import Router
from ninja.responses import Status
from pydantic import BeforeValidator, Field, WithJsonSchema

from pmd.access import actor_of, owner_of
from pmd.actions.registry import ACTIONS, HASHTAG_ACTIONS, LOGGED, bulk_action
from pmd.actions.run import UNSET, post_action_run
from pmd.actions.undo import post_action_undo, undo_preview
from pmd.hashtags import MAX_LENGTH
from pmd.jobs.service import activity_job, job_undo
from pmd.models import Job
from pmd.views.api_conventions import LicenseId, Request, Strict, errors, post_id_list
from pmd_project.lib import inputs
from pmd_project.lib.inputs import ID_LIMIT, BadInput

router = Router()

ACTION_NAMES = {"type": "string", "enum": list(ACTIONS)}
# An undo answers with the operation it reversed: an action, or "edit".
LOGGED_NAMES = {"type": "string", "enum": list(LOGGED)}
# The registry's own check and messages ("Unknown action 'x'; use one of …").
ActionName = Annotated[
    str, BeforeValidator(lambda value: bulk_action(value).name), WithJsonSchema(ACTION_NAMES)
]


def _text(value: object) -> object:
    # Whether the text is a hashtag is the service's to say (pmd.hashtags);
    # here only that it is text, with the service's words.
    if not isinstance(value, str):
        raise BadInput('hashtag must be text, such as "pixelart".')
    return value


Hashtag = Annotated[
    str,
    BeforeValidator(_text),
    WithJsonSchema(
        {
            "type": "string",
            "description": (
                f"Required by {' and '.join(HASHTAG_ACTIONS)}, refused by the other actions. "
                f"Letters (any script), digits and _, at most {MAX_LENGTH} characters; a "
                'leading "#" is ignored. Matched without regard to case and stored in lower case.'
            ),
        }
    ),
]


PostIds = Annotated[list[int], WithJsonSchema({"type": "array", "items": {"type": "integer"}})]


class ActionRequest(Request):
    action: ActionName
    post_ids: post_id_list("PMD_ACTION_LIMIT")  # type: ignore[valid-type]
    hashtag: Hashtag = None  # type: ignore[assignment]
    license: LicenseId = None


class ActionResult(Strict):
    success: Literal[True]
    action: Annotated[str, WithJsonSchema(LOGGED_NAMES)]
    hashtag: Annotated[
        str | None, Field(description="The hashtag as stored (hashtag actions), else null.")
    ]
    affected_count: Annotated[int, Field(ge=0)]
    requested_count: Annotated[int, Field(ge=1)]
    changed_ids: Annotated[
        PostIds,
        Field(
            description="Exactly the posts this request changed, in the order asked for; "
            "posts already in the wanted state are left out."
        ),
    ]
    full_ids: Annotated[
        PostIds,
        Field(
            description="add_hashtag: posts left without the hashtag because they have no "
            f"room for another (at most {settings.PMD_HASHTAG_LIMIT} per post)."
        ),
    ]
    message: str
    activity_id: Annotated[
        int,
        Field(
            ge=1,
            description="The audit entry of this request: POST /api/pmd/action/undo takes it.",
        ),
    ]
    undo_of: Annotated[
        int | None, Field(description="For an undo, the activity_id it undid; else null.")
    ]


class JobCreated(Strict):
    id: Annotated[str, WithJsonSchema({"type": "string", "format": "uuid"})]
    status: Literal["queued"]
    total: Annotated[int, Field(ge=1)]


def created(job: Job) -> Status:
    return Status(202, JobCreated(id=str(job.pk), status="queued", total=job.total))


def _activity_ids(value: object) -> list[int]:
    try:
        return inputs.post_ids(value, limit=settings.PMD_LIST_LIMIT)
    except BadInput as error:
        words = error.message.replace("post_ids", "activity_ids").replace("post ids", "entry ids")
        raise BadInput(
            words.replace("Select at least one post.", "Name at least one entry.")
        ) from None


class UndoPreviewRequest(Request):
    activity_ids: Annotated[
        list[int],
        BeforeValidator(_activity_ids),
        WithJsonSchema(
            {
                "type": "array",
                "items": {"type": "integer", "minimum": 1},
                "minItems": 1,
                "maxItems": settings.PMD_LIST_LIMIT,
                "description": "The entries of one line of Recent activity (a job: any chunk).",
            }
        ),
    ]


class UndoPreviewResult(Strict):
    changes: Annotated[int, Field(ge=0, description="Posts the undo would change back.")]
    leaves: Annotated[int, Field(ge=0, description="Posts it would leave: changed since, or gone.")]
    message: str


class UndoRequest(Request):
    activity_id: Annotated[int, Field(strict=True, ge=1, lt=ID_LIMIT)]


@router.post("", response={200: ActionResult, **errors(400, 401, 403, 413)}, url_name="api-action")
def post_action(request: HttpRequest, body: ActionRequest) -> ActionResult:
    """Hide, unhide, delete or restore up to PMD_ACTION_LIMIT of the caller's
    posts, add or remove one hashtag on them, or set their licence."""
    result = post_action_run(
        user=owner_of(request),
        actor=actor_of(request),
        action_name=body.action,
        post_ids=body.post_ids,
        hashtag=body.hashtag,
        # null clears the licence; leaving the field out is not the same.
        license=body.license if "license" in body.model_fields_set else UNSET,
    )
    return ActionResult(success=True, **asdict(result))


@router.post(
    "/undo",
    response={200: ActionResult, 202: JobCreated, **errors(400, 401, 403, 404, 409, 413)},
    url_name="api-action-undo",
)
def undo_action(request: HttpRequest, body: UndoRequest) -> ActionResult | Status:
    """Undo one earlier request (its activity_id), within PMD_UNDO_DAYS: its inverse
    action, on exactly the posts it changed, except those changed again since.
    The activity_id of a job (a chunk of it) undoes the whole job, as a job
    of its own: 202 with that job."""
    job = activity_job(user=owner_of(request), activity_id=body.activity_id)
    if job is not None:
        return created(job_undo(user=owner_of(request), job_id=job.pk))
    result = post_action_undo(
        user=owner_of(request), activity_id=body.activity_id, actor=actor_of(request)
    )
    return ActionResult(success=True, **asdict(result))


@router.post(
    "/undo-preview",
    response={200: UndoPreviewResult, **errors(400, 401, 403, 404, 413)},
    url_name="api-action-undo-preview",
)
def preview_undo(request: HttpRequest, body: UndoPreviewRequest) -> UndoPreviewResult:
    """What undoing these entries (one line of Recent activity: a run of
    requests, or a job with all its chunks) would change and leave, changing
    nothing (a POST for the length of the list)."""
    preview = undo_preview(user=owner_of(request), activity_ids=body.activity_ids)
    return UndoPreviewResult(
        changes=preview.changes, leaves=preview.leaves, message=preview.message
    )
