"""Each request's id, bound while it is handled, and its latency."""

from __future__ import annotations

import time

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

from pmd_project.telemetry import logs, metrics

KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def with_request_id(application):
    """The ASGI application, with each HTTP request's id bound around all of
    Django's handling of it: the middleware, the view, what Django logs after
    the middleware ("Not Found: …"), and the streamed body. Each ASGI request
    runs in a task, so a context, of its own."""

    async def bound(scope, receive, send):
        if scope["type"] != "http":
            return await application(scope, receive, send)
        header = dict(scope.get("headers", ())).get(b"x-request-id", b"").decode("latin-1")
        token = logs.bind_request_id(logs.request_id_from(header))
        try:
            return await application(scope, receive, send)
        finally:
            logs.unbind_request_id(token)

    return bound


def bind_at_request_start(sender, environ=None, **kwargs) -> None:
    """request_started from a WSGI handler or the test client, which send it
    on the request's own thread: the id from there on. (Under ASGI the signal
    reaches its receivers in a task of their own: with_request_id binds it.)"""
    if environ is not None:
        logs.bind_request_id(logs.request_id_from(environ.get("HTTP_X_REQUEST_ID")))


def unbind_at_request_end(sender, **kwargs) -> None:
    """request_finished: nothing after the response is about this request."""
    logs.bind_request_id(None)


def view_label(request: HttpRequest) -> str:
    """The view that answered, by URL name ("pmd:dashboard"), never the raw
    path: ids in paths would make a series per post and user."""
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return match.view_name
    # Answered before URL resolution: WhiteNoise's static files, or nothing matched.
    if request.path.startswith(f"/{settings.STATIC_URL.lstrip('/')}"):
        return "static"
    return "unmatched"


class RequestTelemetryMiddleware:
    """First in MIDDLEWARE: returns the request id (bound by with_request_id
    or bind_at_request_start) in X-Request-ID, and times the request by view.

    Async under ASGI, like the handler, so no thread is taken to time a request."""

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
        started = time.monotonic()
        return self._finish(request, self.get_response(request), started)

    async def __acall__(self, request: HttpRequest):
        started = time.monotonic()
        return self._finish(request, await self.get_response(request), started)

    @staticmethod
    def _finish(request: HttpRequest, response: HttpResponseBase, started: float):
        metrics.observe_request(
            view_label(request),
            # Django's own method names; anything else a client invents is one label.
            request.method if request.method in KNOWN_METHODS else "other",
            response.status_code,
            time.monotonic() - started,
        )
        request_id = logs.current_request_id()
        if request_id:
            response[logs.HEADER] = request_id
        return response
