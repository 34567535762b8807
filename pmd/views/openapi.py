from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from pmd.openapi import openapi_document


@require_GET
def openapi_json(request: HttpRequest) -> JsonResponse:
    """GET /api/pmd/openapi.json: the API's description (public, like any API doc)."""
    return JsonResponse(openapi_document(), json_dumps_params={"ensure_ascii": False})
