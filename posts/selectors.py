"""Reads of posts for the public pages."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import Http404

from .models import Post
from .public_ids import post_id_from_sqid, user_id_from_sqid

PROFILE_PAGE_SIZE = 48


def user_by_sqid(*, sqid: str) -> AbstractBaseUser:
    """The active user with this canonical sqid, or Http404."""
    user_id = user_id_from_sqid(sqid)
    if user_id is None:
        raise Http404("No such user.")
    try:
        return get_user_model().objects.get(pk=user_id, is_active=True)
    except get_user_model().DoesNotExist:
        raise Http404("No such user.") from None


def visible_posts(*, owner: AbstractBaseUser) -> QuerySet[Post]:
    """What the public sees on a profile, newest first."""
    return Post.objects.filter(owner=owner).visible().order_by("-created_at", "-id")


def profile_page(*, owner: AbstractBaseUser, page_number: str | int | None) -> Page:
    paginator = Paginator(
        visible_posts(owner=owner).only(
            "id", "title", "art", "width", "height", "file_format", "created_at"
        ),
        PROFILE_PAGE_SIZE,
    )
    return paginator.get_page(page_number)


def post_for_art(*, sqid: str, viewer: AbstractBaseUser) -> Post:
    """The post whose artwork `viewer` may see, or Http404: a visible post's to
    anyone, a hidden or deleted one's to its owner alone.
    A deactivated user's artworks are gone like their profile, for everyone
    but staff (a deactivated owner is logged out, so never the viewer)."""
    post_id = post_id_from_sqid(sqid)
    posts = Post.objects.filter(pk=post_id)
    if not viewer.is_staff:
        posts = posts.filter(owner__is_active=True)
    post = (
        posts.only(
            "id",
            "owner_id",
            "kind",
            "art",
            "file_format",
            "hidden_by_user",
            "hidden_by_mod",
            "deleted_by_user",
        ).first()
        if post_id is not None
        else None
    )
    if post is None or not (post.is_visible or post.owner_id == viewer.pk):
        raise Http404("No such artwork.")
    return post
