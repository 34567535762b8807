"""The JSON API on django-ninja: one router per area, added here and nowhere
else, under /api/pmd/ (pmd/urls.py). Its conventions (strict schemas, errors
as `{"error": …}`, session and CSRF) are pmd/views/api_conventions.py; the
OpenAPI description is served by pmd/views/openapi.py. JSON only: the HTML
the page swaps in comes from the page's own views (pmd/views/).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views import csrf

from pmd.refusals import json_error
from pmd.views import (
    api_actions,
    api_downloads,
    api_edits,
    api_hashtags,
    api_jobs,
    api_posts,
    api_views,
)
from pmd.views.api_conventions import (
    CSRF_REFUSED,
    LOGIN_REQUIRED,
    DjangoSession,
    JsonObjectParser,
    PmdApi,
)

api = PmdApi(
    title="Post Management Dashboard API",
    version="1.0",
    description=(
        "Session-authenticated JSON API of the PMD. Unsafe methods need the CSRF token "
        'in an X-CSRFToken header. Every error body is {"error": <message>}.'
    ),
    auth=DjangoSession(),
    parser=JsonObjectParser(),
    urls_namespace="pmd",
    openapi_url=None,  # served by pmd.views.openapi at the URL it always had
    docs_url=None,
)
api.add_router("/posts", api_posts.router)
api.add_router("/action", api_actions.router)
api.add_router("/bdr", api_downloads.router)
api.add_router("/edit", api_edits.router)
api.add_router("/hashtags", api_hashtags.router)
api.add_router("/jobs", api_jobs.router)
api.add_router("/views", api_views.router)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: under /api/ a JSON error the page can show in a
    toast (every error body of the API is JSON); Django's page elsewhere."""
    if not request.path.startswith("/api/"):
        return csrf.csrf_failure(request, reason)
    if not request.user.is_authenticated:
        # Without a session there is nothing to forge, and the caller needs
        # to hear "log in" (401).
        return json_error(LOGIN_REQUIRED, 401)
    return json_error(CSRF_REFUSED, 403)
