"""Emptying the bin: posts deleted more than PMD_RESTORE_DAYS ago are deleted
for good, with their comments, reactions and artwork files, by a daily job
(django-celery-beat, "pmd: empty the bin"). Each owner's activity log
records what went, as an entry of the "Delete forever" action marked
automatic: nobody asked for it, and it cannot be undone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from itertools import groupby

from django.db import transaction
from django.utils import timezone

from pmd.actions.bin import DeletePostsForever, posts_erase
from pmd.models import ActivityEntry
from posts.models import DELETED_ARTWORK, Post, restore_cutoff

# Posts deleted per transaction: short locks, and a crash loses at most one
# batch's progress (the next run finds the rest).
PURGE_BATCH = 500


@dataclass(frozen=True)
class PurgeResult:
    posts: int = 0
    owners: int = 0


def bin_purge_expired(*, now: datetime | None = None, batch: int = PURGE_BATCH) -> PurgeResult:
    """Delete every post past the restore window; safe to run twice at once
    (a row one run holds is skipped by the other) and after a crash."""
    cutoff = restore_cutoff(now or timezone.now())
    posts = 0
    owners: set[int] = set()
    while True:
        with transaction.atomic():
            rows = list(
                Post.objects.filter(DELETED_ARTWORK, deleted_by_user_date__lt=cutoff)
                .order_by("owner_id", "id")
                .select_for_update(skip_locked=True)
                .values_list("id", "owner_id", "art", named=True)[:batch]
            )
            if not rows:
                return PurgeResult(posts=posts, owners=len(owners))
            posts_erase(rows)
            for owner_id, group in groupby(rows, key=lambda row: row.owner_id):
                ids = [row.id for row in group]
                ActivityEntry.objects.create(
                    user_id=owner_id,
                    action=DeletePostsForever.name,
                    post_ids=ids,
                    changed_ids=ids,
                    count=len(ids),
                    automatic=True,
                )
                owners.add(owner_id)
            posts += len(rows)
