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
from pydantic import BeforeValidator, Field, WithJsonSchema

from pmd.actions.registry import ACTIONS, HASHTAG_ACTIONS, bulk_action
from pmd.actions.run import post_action_run
from pmd.actions.undo import post_action_undo
from pmd.hashtags import MAX_LENGTH
from pmd.views.api_conventions import Request, Strict, errors, post_id_list
from pmd_project.inputs import ID_LIMIT, BadInput

router = Router()

ACTION_NAMES = {"type": "string", "enum": list(ACTIONS)}
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


class ActionResult(Strict):
    success: Literal[True]
    action: Annotated[str, WithJsonSchema(ACTION_NAMES)]
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


class UndoRequest(Request):
    activity_id: Annotated[int, Field(strict=True, ge=1, lt=ID_LIMIT)]


@router.post("", response={200: ActionResult, **errors(400, 401, 403, 413)}, url_name="api-action")
def post_action(request: HttpRequest, body: ActionRequest) -> ActionResult:
    """Hide, unhide, delete or restore up to PMD_ACTION_LIMIT of the caller's
    posts, or add or remove one hashtag on them."""
    result = post_action_run(
        user=request.user, action_name=body.action, post_ids=body.post_ids, hashtag=body.hashtag
    )
    return ActionResult(success=True, **asdict(result))


@router.post(
    "/undo",
    response={200: ActionResult, **errors(400, 401, 403, 404, 413)},
    url_name="api-action-undo",
)
def undo_action(request: HttpRequest, body: UndoRequest) -> ActionResult:
    """Undo one earlier request (its activity_id), within an hour: its inverse
    action, on exactly the posts it changed, except those changed again since."""
    result = post_action_undo(user=request.user, activity_id=body.activity_id)
    return ActionResult(success=True, **asdict(result))
