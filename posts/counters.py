"""The counters the database keeps on posts, and their repair.

Triggers (posts migration 0003) keep `comment_count` (visible comments only,
SPEC §3) and `reaction_count` exact whoever writes, and bump the owner's
posts version that the dashboard's cached counts are keyed on. Drift can
still come in through a path no trigger sees: a write of the counter itself
(raw SQL, a queryset update() of the column), triggers dropped by hand or by
an SQLite table rebuild, data restored from elsewhere. `recount()` (behind
`manage.py recount`) finds and repairs it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from .models import VISIBLE_COMMENT, Comment, Post, Reaction

# Posts checked per transaction: short enough never to hold locks for long.
RECOUNT_BATCH = 10_000

TRIGGERS = (
    "posts_post_version_insert",
    "posts_post_version_update",
    "posts_post_version_delete",
    "posts_comment_count_insert",
    "posts_comment_count_update",
    "posts_comment_count_delete",
    "posts_reaction_count_insert",
    "posts_reaction_count_update",
    "posts_reaction_count_delete",
)


def missing_triggers() -> list[str]:
    """The triggers of migration 0003 the database does not have (empty when all are there)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        present = {row[0] for row in cursor.fetchall()}
    return [name for name in TRIGGERS if name not in present]


def _actual(rows: QuerySet) -> Coalesce:
    """The number of `rows` of the outer post, as an expression."""
    counted = (
        rows.filter(post=OuterRef("pk")).order_by().values("post").annotate(n=Count("pk"))
    ).values("n")
    return Coalesce(Subquery(counted), Value(0))


def _counters() -> dict[str, Coalesce]:
    return {
        "comment_count": _actual(Comment.objects.filter(VISIBLE_COMMENT)),
        "reaction_count": _actual(Reaction.objects.all()),
    }


@dataclass
class RecountResult:
    checked: int = 0
    # counter name -> posts whose value was wrong and is now right
    fixed: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_counters(), 0))


def recount(
    *,
    owner: AbstractBaseUser | None = None,
    batch: int = RECOUNT_BATCH,
    progress: Callable[[int, int], None] | None = None,
) -> RecountResult:
    """Set every counter of `owner`'s posts (everyone's without one) to the
    true count, and forget the cached post counts of those owners.

    Set-based: per batch of posts one query finds the posts whose counters
    are wrong, and one UPDATE per counter fixes them. Safe to run at any time:
    the wrong posts are locked before they are counted again, so a comment
    or reaction written meanwhile is either counted here or added by its
    trigger after this commits, never both and never neither.
    """
    scope = Post.objects.all() if owner is None else Post.objects.filter(owner=owner)
    counters = _counters()
    wrong = Q()
    for name, actual in counters.items():
        wrong |= ~Q(**{name: actual})
    result = RecountResult()
    total = scope.count()
    last_id = None
    while True:
        remaining = scope if last_id is None else scope.filter(pk__gt=last_id)
        ids = list(remaining.order_by("pk").values_list("pk", flat=True)[:batch])
        if not ids:
            break
        last_id = ids[-1]
        chunk = scope.filter(pk__gte=ids[0], pk__lte=last_id)
        with transaction.atomic():
            suspects = list(chunk.filter(wrong).values_list("pk", flat=True))
            if suspects:
                # Lock, then count again in a new snapshot (READ COMMITTED):
                # the UPDATE's own recheck of a row it waited for would count
                # with the snapshot it started with.
                locked = list(
                    Post.objects.filter(pk__in=suspects)
                    .order_by("pk")
                    .select_for_update()
                    .values_list("pk", flat=True)
                )
                for name, actual in counters.items():
                    result.fixed[name] += (
                        Post.objects.filter(pk__in=locked)
                        .filter(~Q(**{name: actual}))
                        .update(**{name: actual})
                    )
        result.checked += len(ids)
        if progress:
            progress(result.checked, total)
    _forget_cached_counts(owner)
    return result


def _forget_cached_counts(owner: AbstractBaseUser | None) -> None:
    """Bump the posts version of every owner in scope, rows or not (an owner
    without one reads version 0, and may have counts cached under it)."""
    mine = "" if owner is None else "AND owner_id = %s"
    with connection.cursor() as cursor:
        # "WHERE 1 = 1" keeps SQLite from reading ON CONFLICT as a join's ON.
        cursor.execute(
            "INSERT INTO posts_ownerpostsversion (owner_id, version) "
            f"SELECT DISTINCT owner_id, 1 FROM posts_post WHERE 1 = 1 {mine} "
            "ON CONFLICT (owner_id) DO UPDATE SET version = posts_ownerpostsversion.version + 1",
            [] if owner is None else [owner.pk],
        )
