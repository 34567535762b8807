"""The JSON API's conventions (SPEC §6), in one place.

Anonymous callers get 401 (never a redirect); every error is
`{"error": "<message for a person>"}`; bad input never raises a 5xx.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import csrf

from pmd_project import inputs
from pmd_project.inputs import BadInput, digits

LOGIN_REQUIRED = "Log in to use the PMD API."

# The name the services raise; one error for every refused input (pmd_project.inputs).
ApiError = BadInput


def json_error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def api_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Session-authenticated JSON endpoint: 401 for anonymous, ApiError -> JSON."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return json_error(LOGIN_REQUIRED, 401)
        try:
            return view(request, *args, **kwargs)
        except ApiError as error:
            return json_error(error.message, error.status)

    return wrapped


def read_json_object(request: HttpRequest) -> dict[str, Any]:
    length = digits(request.headers.get("Content-Length", ""))
    if length and length > inputs.MAX_BODY_BYTES:
        raise ApiError("The request body is too large.", 413)
    return inputs.json_object(request.body)


def parse_post_ids(value: Any, *, limit: int) -> list[int]:
    return inputs.post_ids(value, limit=limit)


def parse_bool(data: dict[str, Any], name: str, *, default: bool = False) -> bool:
    return inputs.flag(data.get(name, default), name=name)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: under /api/ a JSON error the page can show in a
    toast (SPEC §6: every error body is JSON); Django's page elsewhere."""
    if not request.path.startswith("/api/"):
        return csrf.csrf_failure(request, reason)
    if not request.user.is_authenticated:
        # The check runs before the view; without a session there is nothing
        # to forge, and the caller needs to hear "log in" (SPEC §6: 401).
        return json_error(LOGIN_REQUIRED, 401)
    return json_error(
        "The request's security token (CSRF) is missing or out of date; "
        "reload the page and try again.",
        403,
    )
