from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from posts import views as posts_views

from . import health
from .telemetry import views as telemetry_views

urlpatterns = [
    path("", posts_views.home, name="home"),
    path("favicon.ico", posts_views.favicon, name="favicon"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("health/live", health.live, name="health-live"),
    path("health/ready", health.ready, name="health-ready"),
    path("metrics", telemetry_views.prometheus_metrics, name="metrics"),
    path("", include("posts.urls")),
    path("", include("pmd.urls")),
]

handler404 = "pmd_project.errors.not_found"
handler500 = "pmd_project.errors.server_error"
