"""Post.color_count: counted from the artwork file when a post is made, and
filled in for posts made before it existed (`manage.py count_colors`).

The count itself is posts.colors; this is where it meets posts and the vault.
A file that cannot be read leaves the count empty: such a post matches no
colors: search, and a later run tries it again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

from django.contrib.auth.models import User
from django.core.files.storage import storages
from django.db.models import Case, IntegerField, Value, When

from .colors import UnreadableImage, distinct_colors
from .models import Post

logger = logging.getLogger(__name__)

# Posts read per batch; each batch is one UPDATE, so a stopped run loses at
# most one batch of work and the next run starts where it stopped.
BATCH = 200


def post_color_count(post: Post) -> int | None:
    """The distinct colours of the post's artwork file, or None if it cannot be read."""
    if not post.art.name:
        return None
    try:
        # The vault as configured now (settings may change it at run time).
        with storages["vault"].open(post.art.name, "rb") as file:
            return distinct_colors(file)
    except (UnreadableImage, OSError) as error:
        logger.warning("colours of post %s not counted: %s", post.pk, error)
        return None


def uploaded_color_count(file: IO[bytes]) -> int | None:
    """The distinct colours of an uploaded file (read, then rewound), or None."""
    try:
        return distinct_colors(file)
    except UnreadableImage:
        return None
    finally:
        file.seek(0)


@dataclass
class Backfill:
    counted: int = 0
    unreadable: int = 0


def count_missing_colors(
    *,
    owner: User | None = None,
    batch: int = BATCH,
    progress: Callable[[int, int], None] | None = None,
) -> Backfill:
    """Count the colours of every post (of `owner`, or everyone's) that has
    no count yet, `batch` posts per UPDATE, in id order. Safe to stop and run
    again: it only ever looks at posts still without a count, and tries each
    once per run (an unreadable file is skipped, not retried in a loop)."""
    posts = Post.objects.filter(color_count__isnull=True)
    if owner is not None:
        posts = posts.filter(owner=owner)
    total = posts.count()
    result = Backfill()
    after = 0
    while True:
        chunk = list(posts.filter(pk__gt=after).order_by("pk").only("pk", "art")[:batch])
        if not chunk:
            return result
        after = chunk[-1].pk
        counts = {post.pk: post_color_count(post) for post in chunk}
        found = {pk: count for pk, count in counts.items() if count is not None}
        result.unreadable += len(counts) - len(found)
        if found:
            # One statement for the batch; the posts version trigger moves
            # once, so cached colors: counts are recounted.
            Post.objects.filter(pk__in=found, color_count__isnull=True).update(
                color_count=Case(
                    *(When(pk=pk, then=Value(count)) for pk, count in found.items()),
                    output_field=IntegerField(),
                )
            )
            result.counted += len(found)
        if progress:
            progress(result.counted + result.unreadable, total)
