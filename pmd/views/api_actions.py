"""POST /api/pmd/action: batch post actions (SPEC §6). The page's JavaScript
calls this same endpoint with the X-CSRFToken header, so the API and the page
share one set of rules, messages and audit entries."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Literal

from django.http import HttpRequest
from pydantic import BeforeValidator, Field, WithJsonSchema

from pmd.actions import ACTIONS, bulk_action, post_action_run
from pmd.api import Request, Strict, api, errors, post_id_list

ACTION_NAMES = {"type": "string", "enum": list(ACTIONS)}
# The registry's own check and messages ("Unknown action 'x'; use one of …").
ActionName = Annotated[
    str, BeforeValidator(lambda value: bulk_action(value).name), WithJsonSchema(ACTION_NAMES)
]


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
    result = post_action_run(user=request.user, action_name=body.action, post_ids=body.post_ids)
    return ActionResult(success=True, **asdict(result))
