"""Error pages: under /api/ every error is JSON (docs/api.md), elsewhere the
site's own 404.html and 500.html, which need neither the database nor a
request (templates/_error.html)."""

from __future__ import annotations

from urllib.parse import unquote_plus

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.views import defaults


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"error": "There is nothing at this address."}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(
            {"error": "Something went wrong on our side. Please try again."}, status=500
        )
    return defaults.server_error(request)


class ApiMethodNotAllowedMiddleware:
    """A 405 under /api/ (from ninja or require_GET) answered as JSON, like
    every other API error (Django's and ninja's own 405 are not JSON)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code == 405 and _is_api(request) and not _is_json(response):
            # Sorted: ninja lists the methods from a set, in no fixed order.
            allowed = ", ".join(sorted(response.get("Allow", "").replace(",", " ").split()))
            return JsonResponse(
                {"error": f"{request.method} is not allowed here; use {allowed}."},
                status=405,
                headers={"Allow": allowed},
            )
        return response


def _is_json(response: HttpResponse) -> bool:
    return response.get("Content-Type", "").startswith("application/json")


class RefuseNulMiddleware:
    """A query string holding a NUL character is refused with a 400 before any
    view sees it: nothing means NUL, and PostgreSQL refuses it in text, so a
    search or an admin filter would otherwise answer 500."""

    MESSAGE = "The address holds a NUL character; remove it and try again."

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in unquote_plus(request.META.get("QUERY_STRING", "")):
            if _is_api(request):
                return JsonResponse({"error": self.MESSAGE}, status=400)
            return HttpResponseBadRequest(self.MESSAGE, content_type="text/plain")
        return self.get_response(request)
