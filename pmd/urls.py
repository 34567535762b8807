from __future__ import annotations

from django.urls import include, path

from .api import api
from .views import download_panel, live, openapi, pages

app_name = "pmd"

# ninja's root URL ("/api/pmd/", a list of nothing) is left out: not an operation.
api_routes = [route for route in api.urls[0] if getattr(route, "name", None) != "api-root"]

urlpatterns = [
    path("u/<str:user_sqid>/posts", pages.dashboard, name="dashboard"),
    path("u/<str:user_sqid>/posts/activity", pages.recent_activity, name="recent-activity"),
    path(
        "u/<str:user_sqid>/posts/downloads",
        download_panel.download_panel,
        name="download-panel",
    ),
    path(
        "u/<str:user_sqid>/posts/downloads/<uuid:bdr_id>",
        download_panel.download_row,
        name="download-row",
    ),
    path(
        "u/<str:user_sqid>/posts/downloads/<uuid:bdr_id>/retry",
        download_panel.download_retry,
        name="download-retry",
    ),
    # A plain Django view: an endless stream, not an operation of the API.
    path("api/pmd/bdr/sse", live.bdr_events, name="api-bdr-sse"),
    path("api/pmd/openapi.json", openapi.openapi_json, name="api-openapi"),
    path("api/pmd/", include(api_routes)),
]
