from __future__ import annotations

from django import template
from django.urls import reverse

from posts.public_ids import user_sqid

register = template.Library()


@register.filter
def sqid(user) -> str:
    """A user's public id: {{ user|sqid }}."""
    return user_sqid(user.pk)


@register.filter
def profile_url(user) -> str:
    return reverse("posts:profile", args=[user_sqid(user.pk)])


@register.filter
def dashboard_url(user) -> str:
    return reverse("pmd:dashboard", args=[user_sqid(user.pk)])
