"""How the HTTP edge answers a refusal: the one place a pmd.errors kind gets
its status code and its `{"error": "<message>"}` body.

The rules raise the kinds of pmd.errors and know nothing of HTTP. The JSON
API (pmd.api) and the page's fragments (pmd.views) answer with these same
responses, so the page's scripts show the server's own message whichever
answered. Input the edge itself refuses (pmd_project.lib.inputs.BadInput: a
malformed body, a body too large, a range outside the file) carries its own
400, 413 or 416 and never reaches the rules.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from pmd.errors import (
    Conflict,
    DailyLimitReached,
    DomainError,
    Forbidden,
    Gone,
    Invalid,
    NotFound,
    Unavailable,
)

# The status code of each kind. A kind not listed answers as its nearest
# listed parent, and a DomainError of no listed kind is a 400.
STATUS_FOR: dict[type[DomainError], int] = {
    Invalid: 400,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    Gone: 410,
    DailyLimitReached: 429,
    Unavailable: 503,
}
# How long a client should wait before asking a service that does not answer.
UNAVAILABLE_RETRY_AFTER_SECONDS = 30


def status_for(error: DomainError) -> int:
    for kind in type(error).__mro__:
        if kind in STATUS_FOR:
            return STATUS_FOR[kind]
    return 400


def json_error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def refusal_response(error: DomainError) -> JsonResponse:
    """The answer to `error`: its status, its message, and when to ask again
    if the refusal lifts by itself (today's downloads used up, a store down)."""
    response = json_error(error.message, status_for(error))
    if isinstance(error, DailyLimitReached):
        response["Retry-After"] = str(int((error.resets_at - timezone.now()).total_seconds()))
    elif isinstance(error, Unavailable):
        response["Retry-After"] = str(UNAVAILABLE_RETRY_AFTER_SECONDS)
    return response


def answers_refusals(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A page view whose rules' refusals are answered as above (the page's
    HTMX fragments: htmx hands the body to the page's toast)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except DomainError as error:
            return refusal_response(error)

    return wrapped
