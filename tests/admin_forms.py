"""The admin's change forms as a browser submits them (for tests that go
through the real admin URLs)."""

from __future__ import annotations

from posts.models import Comment, Post


def admin_post_form(post: Post, **changes) -> dict:
    """The admin's change form of `post` as a browser submits it, with `changes`."""
    post.refresh_from_db()
    for name, value in changes.items():
        setattr(post, name, value)
    data = {
        "owner": str(post.owner_id),
        "kind": post.kind,
        "title": post.title,
        "description": post.description,
        "hashtags": post.hashtags,
        "created_at_0": post.created_at.strftime("%Y-%m-%d"),
        "created_at_1": post.created_at.strftime("%H:%M:%S"),
        "width": post.width,
        "height": post.height,
        "frame_count": post.frame_count,
        "file_format": post.file_format,
        "file_bytes": post.file_bytes,
        "deleted_by_user_date_0": "",
        "deleted_by_user_date_1": "",
        # Read-only now; sent as an older admin form would, and ignored.
        "reaction_count": post.reaction_count,
        "comment_count": post.comment_count,
        "view_count": post.view_count,
        "_save": "Save",
    }
    for flag in ("hidden_by_user", "hidden_by_mod", "deleted_by_user"):
        if getattr(post, flag):
            data[flag] = "on"
    if post.deleted_by_user_date:
        data["deleted_by_user_date_0"] = post.deleted_by_user_date.strftime("%Y-%m-%d")
        data["deleted_by_user_date_1"] = post.deleted_by_user_date.strftime("%H:%M:%S")
    return data


def admin_comment_form(comment: Comment, **changes) -> dict:
    """The admin's change form of `comment` as a browser submits it, with `changes`."""
    for name, value in changes.items():
        setattr(comment, name, value)
    data = {
        "post": str(comment.post_id),
        "author": str(comment.author_id or ""),
        "body": comment.body,
        "created_at_0": comment.created_at.strftime("%Y-%m-%d"),
        "created_at_1": comment.created_at.strftime("%H:%M:%S"),
        "_save": "Save",
    }
    for flag in ("hidden_by_mod", "deleted_by_owner"):
        if getattr(comment, flag):
            data[flag] = "on"
    return data
