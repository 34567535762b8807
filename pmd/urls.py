from __future__ import annotations

from django.urls import include, path

from .api import complete_api
from .views import live, openapi, pages

app_name = "pmd"

# ninja's root URL ("/api/pmd/", a list of nothing) is left out: not an operation.
api_routes = [route for route in complete_api().urls[0] if route.name != "api-root"]

urlpatterns = [
    path("u/<str:user_sqid>/posts", pages.dashboard, name="dashboard"),
    path("u/<str:user_sqid>/posts/activity", pages.recent_activity, name="recent-activity"),
    # A plain Django view (an endless stream), before the API so that
    # /api/pmd/bdr/{id} never takes "sse" for an id.
    path("api/pmd/bdr/sse", live.bdr_events, name="api-bdr-sse"),
    path("api/pmd/openapi.json", openapi.openapi_json, name="api-openapi"),
    path("api/pmd/", include(api_routes)),
]
