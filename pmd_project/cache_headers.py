"""`Cache-Control: private, no-store` on what belongs to one signed-in person.

A page rendered for a signed-in user (the dashboard, the admin, a profile
seen with their own menu) and every answer of the JSON API name that
person's posts and downloads. Without a Cache-Control, a shared cache (a
proxy, a CDN) may keep one and serve it to the next visitor, and the
browser may keep it on disk after a log-out. Left alone: static files
(WhiteNoise caches them for years), /health/ (never cached already),
anonymous pages, files and redirects (they carry their own).
"""

from __future__ import annotations

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control

API_PREFIX = "/api/pmd/"


def _private(request: HttpRequest, response: HttpResponse) -> bool | None:
    """True for an answer of the JSON API, None for an HTML page with a
    session cookie (private if its user is signed in), False otherwise."""
    if 300 <= response.status_code < 400:
        return False
    content_type = response.get("Content-Type", "")
    if content_type.startswith("application/json"):
        return request.path.startswith(API_PREFIX)
    if content_type.startswith("text/html"):
        # No session cookie, no user: skip the session lookup.
        return None if settings.SESSION_COOKIE_NAME in request.COOKIES else False
    return False


def _make_private(response: HttpResponse) -> HttpResponse:
    patch_cache_control(response, private=True, no_store=True)
    return response


class PrivateAnswersMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest):
        if self.is_async:
            return self.__acall__(request)
        response = self.get_response(request)
        private = _private(request, response)
        if private or (private is None and request.user.is_authenticated):
            _make_private(response)
        return response

    async def __acall__(self, request: HttpRequest) -> HttpResponse:
        response = await self.get_response(request)
        private = _private(request, response)
        if private or (private is None and (await request.auser()).is_authenticated):
            _make_private(response)
        return response
