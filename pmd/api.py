"""The JSON API's conventions (SPEC §6), in one place.

Anonymous callers get 401 (never a redirect); every error is
`{"error": "<message for a person>"}`; bad input never raises a 5xx.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import csrf

from pmd.errors import (
    Conflict,
    DailyLimitReached,
    DomainError,
    Gone,
    Invalid,
    NotFound,
    Unavailable,
)

LOGIN_REQUIRED = "Log in to use the PMD API."

# A batch of 128 ids with options is well under 8 KB; anything near this is not ours.
MAX_BODY_BYTES = 64 * 1024


class ApiError(Exception):
    """Raised anywhere below an @api_view to answer `{"error": message}` with `status`."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


# The status code of each refusal the rules raise (pmd.errors): the one place
# the HTTP edge decides it. A kind not listed is a 400.
STATUS_FOR: dict[type[DomainError], int] = {
    Invalid: 400,
    NotFound: 404,
    Conflict: 409,
    Gone: 410,
    DailyLimitReached: 429,
    Unavailable: 503,
}


def status_for(error: DomainError) -> int:
    for kind in type(error).__mro__:
        if kind in STATUS_FOR:
            return STATUS_FOR[kind]
    return 400


def json_error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def api_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Session-authenticated JSON endpoint: 401 for anonymous, ApiError and
    the rules' DomainError -> JSON."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return json_error(LOGIN_REQUIRED, 401)
        try:
            return view(request, *args, **kwargs)
        except ApiError as error:
            return json_error(error.message, error.status)
        except DomainError as error:
            return json_error(error.message, status_for(error))

    return wrapped


def read_json_object(request: HttpRequest) -> dict[str, Any]:
    """The request body as a JSON object, or ApiError."""
    length = request.headers.get("Content-Length")
    if length and length.isdigit() and int(length) > MAX_BODY_BYTES:
        raise ApiError("The request body is too large.", 413)
    body = request.body
    if len(body) > MAX_BODY_BYTES:
        raise ApiError("The request body is too large.", 413)
    try:
        data = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError):
        raise ApiError("The request body must be JSON.") from None
    if not isinstance(data, dict):
        raise ApiError("The request body must be a JSON object.")
    return data


def parse_post_ids(value: Any, *, limit: int) -> list[int]:
    """A non-empty list of at most `limit` distinct post ids, order kept, or ApiError.

    Duplicates count once. Booleans, floats, strings and numbers outside a
    64-bit id are refused rather than coerced.
    """
    if not isinstance(value, list):
        raise ApiError("post_ids must be a list of post ids.")
    if not value:
        raise ApiError("Select at least one post.")
    ids: list[int] = []
    seen: set[int] = set()
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int) or not 0 < item < 2**63:
            raise ApiError(f"post_ids must hold post ids (positive integers); {item!r} is not one.")
        if item not in seen:
            seen.add(item)
            ids.append(item)
    if len(ids) > limit:
        raise ApiError(f"At most {limit} posts per request; this one has {len(ids)}.")
    return ids


def parse_bool(data: dict[str, Any], name: str, *, default: bool = False) -> bool:
    value = data.get(name, default)
    if not isinstance(value, bool):
        raise ApiError(f"{name} must be true or false.")
    return value


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
