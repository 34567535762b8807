from __future__ import annotations

from django.urls import path

from . import views

app_name = "posts"

urlpatterns = [
    path("u/<str:user_sqid>/", views.profile, name="profile"),
    path("art/<str:post_sqid>", views.art, name="art"),
    path("art/<str:post_sqid>/still", views.art_still, name="art-still"),
]
