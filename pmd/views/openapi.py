from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from pmd.api import api


@require_GET
def openapi_json(request: HttpRequest) -> JsonResponse:
    """GET /api/pmd/openapi.json: the API's description, generated from its
    schemas (public, like any API doc). The event stream is described in the
    docs/api.md: a stream that never ends is not something a schema tester can call."""
    document = api.get_openapi_schema(path_prefix="/api/pmd")
    document["servers"] = [{"url": settings.SITE_URL}]
    return JsonResponse(document, json_dumps_params={"ensure_ascii": False})
