"""Error pages: under /api/ every error is JSON (docs/api.md), elsewhere the
site's own 404.html and 500.html, which need neither the database nor a
request (templates/_error.html)."""

from __future__ import annotations

from urllib.parse import parse_qsl

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.urls import Resolver404, resolve
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
    search or an admin filter would otherwise answer 500. The exception is the
    search box's `q` on the pages and operations whose search language reads
    it first and names the character and where it is, as for any other
    control character (a note on the page, a 400 from the API)."""

    MESSAGE = "The address holds a NUL character; remove it and try again."
    # Views that hand `q` to the search language before anything else reads it.
    READ_BY_THE_SEARCH_LANGUAGE = frozenset({"pmd:dashboard", "pmd:api-posts", "pmd:api-post-ids"})

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        pairs = parse_qsl(request.META.get("QUERY_STRING", ""), keep_blank_values=True)
        holding = {name for name, value in pairs if "\x00" in name or "\x00" in value}
        if holding and not (holding == {"q"} and self._searches(request)):
            if _is_api(request):
                return JsonResponse({"error": self.MESSAGE}, status=400)
            return HttpResponseBadRequest(self.MESSAGE, content_type="text/plain")
        return self.get_response(request)

    def _searches(self, request: HttpRequest) -> bool:
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return False
        return match.view_name in self.READ_BY_THE_SEARCH_LANGUAGE
