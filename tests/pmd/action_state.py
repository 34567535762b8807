"""What a batch action may change, captured so a test can prove it did not."""

from __future__ import annotations

from pmd.models import ActivityEntry
from posts.models import Post


def database_state() -> tuple[list[tuple], int]:
    """Every post's flags and hashtags, and the number of audit entries."""
    posts = list(
        Post.objects.order_by("id").values_list(
            "id",
            "hidden_by_user",
            "hidden_by_mod",
            "deleted_by_user",
            "deleted_by_user_date",
            "hashtags",
        )
    )
    return posts, ActivityEntry.objects.count()


def flags(post: Post) -> tuple[bool, bool, bool, object]:
    post.refresh_from_db()
    return post.hidden_by_user, post.hidden_by_mod, post.deleted_by_user, post.deleted_by_user_date


def hashtags(post: Post) -> str:
    post.refresh_from_db()
    return post.hashtags
