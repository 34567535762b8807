"""POST /api/pmd/action: batch post actions (SPEC §6). The page's JavaScript
calls this same endpoint with the X-CSRFToken header, so the API and the page
share one set of rules, messages and audit entries."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from django.http import HttpRequest
from pydantic import BeforeValidator, Field, WithJsonSchema

from pmd.actions import ACTIONS, ActionRefused, bulk_action, post_action_run
from pmd.api import ApiError, Request, Strict, api, errors, post_id_list


def _action_name(value: Any) -> str:
    try:
        return bulk_action(value).name
    except ActionRefused as refusal:
        raise ApiError(refusal.message) from None


ACTION_NAMES = {"type": "string", "enum": list(ACTIONS)}
ActionName = Annotated[str, BeforeValidator(_action_name), WithJsonSchema(ACTION_NAMES)]


class ActionRequest(Request):
    action: ActionName
    post_ids: post_id_list("PMD_ACTION_LIMIT")  # type: ignore[valid-type]


class ActionResult(Strict):
    success: Literal[True]
    action: Annotated[str, WithJsonSchema(ACTION_NAMES)]
    affected_count: Annotated[int, Field(ge=0)]
    requested_count: Annotated[int, Field(ge=1)]
    message: str


@api.post(
    "/action", response={200: ActionResult, **errors(400, 401, 403, 413)}, url_name="api-action"
)
def post_action(request: HttpRequest, body: ActionRequest) -> ActionResult:
    """Hide, unhide, delete or restore up to PMD_ACTION_LIMIT of the caller's posts."""
    try:
        result = post_action_run(user=request.user, action_name=body.action, post_ids=body.post_ids)
    except ActionRefused as refusal:
        raise ApiError(refusal.message) from None
    return ActionResult(
        success=True,
        action=result.action,
        affected_count=result.affected_count,
        requested_count=result.requested_count,
        message=result.message,
    )
