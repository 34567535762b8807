from __future__ import annotations

from django.urls import path, re_path

from .views import api_actions, api_downloads, api_posts, live, openapi, pages

app_name = "pmd"

urlpatterns = [
    path("u/<str:user_sqid>/posts", pages.dashboard, name="dashboard"),
    path("u/<str:user_sqid>/posts/activity", pages.recent_activity, name="recent-activity"),
    path("api/pmd/posts", api_posts.posts_list, name="api-posts"),
    path("api/pmd/posts/ids", api_posts.post_ids, name="api-post-ids"),
    path("api/pmd/action", api_actions.post_action, name="api-action"),
    path("api/pmd/bdr/sse", live.bdr_events, name="api-bdr-sse"),
    # Download requests. Ids are parsed by the view, so a malformed one is a
    # JSON 404 like an unknown one. The detail route leaves "sse" alone.
    path("api/pmd/bdr", api_downloads.download_requests, name="api-bdr-list"),
    re_path(
        r"^api/pmd/bdr/(?P<pk>(?!sse$)[^/]+)$",
        api_downloads.download_request_detail,
        name="api-bdr-detail",
    ),
    path(
        "api/pmd/bdr/<str:pk>/download",
        api_downloads.download_request_file,
        name="api-bdr-download",
    ),
    path("api/pmd/bdr/<str:pk>/retry", api_downloads.download_request_retry, name="api-bdr-retry"),
    path("api/pmd/openapi.json", openapi.openapi_json, name="api-openapi"),
]
