"""Small builders for test data (real rows, real image files in the vault)."""

from __future__ import annotations

import importlib
import io
import itertools
import random
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.utils import timezone

from posts.colors import distinct_colors
from posts.demo_art import make_artwork
from posts.models import Comment, License, Post, Reaction

PASSWORD = "correct-horse-battery"
_counter = itertools.count(1)
_rng = random.Random(7)


def make_user(username: str, **fields):
    user = get_user_model().objects.create_user(
        username=username, email=f"{username}@example.com", password=PASSWORD, **fields
    )
    return user


def make_post(
    owner,
    *,
    file_format: str = "png",
    created_at: datetime | None = None,
    write_file: bool = True,
    **fields,
) -> Post:
    number = next(_counter)
    artwork = make_artwork(_rng, file_format)
    name = f"art/test/{number}.{file_format}"
    if write_file:
        name = storages["vault"].save(name, ContentFile(artwork.data))
    values = {
        "title": f"Post {number}",
        "description": f"Description {number}",
        "hashtags": "pixelart",
        "created_at": created_at or timezone.now() - timedelta(minutes=number),
        "width": artwork.width,
        "height": artwork.height,
        "frame_count": artwork.frame_count,
        "file_format": file_format,
        "file_bytes": len(artwork.data),
        "art": name,
        "color_count": distinct_colors(io.BytesIO(artwork.data)),
    }
    values.update(fields)
    if values.get("deleted_by_user") and not values.get("deleted_by_user_date"):
        values["deleted_by_user_date"] = timezone.now()
    return Post.objects.create(owner=owner, **values)


def make_comment(post: Post, author=None, **fields) -> Comment:
    fields.setdefault("body", "Nice!")
    fields.setdefault("created_at", timezone.now())
    return Comment.objects.create(post=post, author=author, **fields)


def make_reaction(post: Post, user, emoji: str = "🔥") -> Reaction:
    return Reaction.objects.create(post=post, user=user, emoji=emoji, created_at=timezone.now())


def make_posts(owner, count: int, **fields) -> list[Post]:
    """`count` posts in one insert, without files (for lists, not downloads)."""
    now = timezone.now()
    posts = []
    for index in range(count):
        number = next(_counter)
        values = {
            "title": f"Post {number}",
            "description": f"Description {number}",
            "hashtags": "pixelart",
            "created_at": now - timedelta(minutes=number),
            "width": 16,
            "height": 16,
            "frame_count": 1,
            "file_format": "png",
            "file_bytes": 100 + index,
            "art": f"art/test/{number}.png",
        }
        values.update(fields)
        posts.append(Post(owner=owner, **values))
    return Post.objects.bulk_create(posts)


def ensure_licenses() -> None:
    """The licences the migration seeds. A test run on a real transaction
    (django_db(transaction=True)) empties every table after it, seeded rows too."""
    migration = importlib.import_module("posts.migrations.0004_licenses")
    for identifier, name, url in migration.LICENSES:
        License.objects.get_or_create(identifier=identifier, defaults={"name": name, "url": url})
