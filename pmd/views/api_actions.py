"""POST /api/pmd/action: batch post actions (SPEC §6). The page's JavaScript
calls this same endpoint with the X-CSRFToken header, so the API and the page
share one set of rules, messages and audit entries."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_POST

from pmd.actions import ActionRefused, bulk_action, post_action_run
from pmd.api import ApiError, api_view, parse_post_ids, read_json_object


@require_POST
@api_view
def post_action(request: HttpRequest) -> JsonResponse:
    """`{action, post_ids}` -> `{success, action, affected_count, requested_count, message}`."""
    data = read_json_object(request)
    try:
        action = bulk_action(data.get("action"))
        post_ids = parse_post_ids(data.get("post_ids"), limit=settings.PMD_ACTION_LIMIT)
        result = post_action_run(user=request.user, action_name=action.name, post_ids=post_ids)
    except ActionRefused as refusal:
        raise ApiError(refusal.message) from None
    return JsonResponse(
        {
            "success": True,
            "action": result.action,
            "affected_count": result.affected_count,
            "requested_count": result.requested_count,
            "message": result.message,
        }
    )
