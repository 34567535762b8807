"""The counters the database keeps on posts, and their repair.

Triggers (posts migration 0003) keep `comment_count` (visible comments only:
those a moderator hid or the post's owner deleted do not count) and
`reaction_count` exact whoever writes, and bump the owner's posts version
that the dashboard's cached counts are keyed on. Drift can
still come in through a path no trigger sees: a write of the counter itself
(raw SQL, a queryset update() of the column), triggers dropped by hand or by
an SQLite table rebuild, data restored from elsewhere. `recount()` (behind
`manage.py recount`) finds and repairs it.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import Count, QuerySet

import posts.migrations

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


def versioned_columns() -> tuple[str, ...]:
    """The posts_post columns whose change bumps the owner's posts version, as
    the latest migration that installed the version trigger lists them."""
    names = sorted(info.name for info in pkgutil.iter_modules(posts.migrations.__path__))
    lists = [
        getattr(importlib.import_module(f"posts.migrations.{name}"), "VERSIONED_COLUMNS", None)
        for name in names
    ]
    return next(columns for columns in reversed(lists) if columns)


def missing_triggers() -> list[str]:
    """The triggers of migration 0003 the database lacks or has disabled (empty when all run)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgenabled <> 'D'"
            )
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        present = {row[0] for row in cursor.fetchall()}
    return [name for name in TRIGGERS if name not in present]


def _counted() -> dict[str, QuerySet]:
    """counter name -> the rows it counts (one definition, used by every count)."""
    return {
        "comment_count": Comment.objects.filter(VISIBLE_COMMENT),
        "reaction_count": Reaction.objects.all(),
    }


class _Batch:
    """The posts from `low` to `high` (of one owner, or everyone's), with
    each counter's stored and true value: every counted table is grouped
    once over the id range and joined, never counted post by post."""

    def __init__(self, low: int, high: int, owner_id: int | None):
        joins, columns, self.params = [], [], []
        for number, (name, rows) in enumerate(_counted().items()):
            grouped = (
                rows.filter(post_id__gte=low, post_id__lte=high)
                .order_by()
                .values("post_id")
                .annotate(n=Count("pk"))
            )
            sql, params = grouped.query.sql_with_params()
            joins.append(f"LEFT JOIN ({sql}) AS c{number} ON c{number}.post_id = p.id")
            columns.append(f"p.{name} AS stored{number}, COALESCE(c{number}.n, 0) AS true{number}")
            self.params += params
        self.params += [low, high]
        mine = ""
        if owner_id is not None:
            mine = "AND p.owner_id = %s"
            self.params.append(owner_id)
        self.sql = (
            f"SELECT p.id, {', '.join(columns)} FROM posts_post p {' '.join(joins)} "
            f"WHERE p.id BETWEEN %s AND %s {mine}"
        )
        self.names = list(_counted())
        self.wrong = " OR ".join(f"stored{n} <> true{n}" for n in range(len(self.names)))

    def wrong_counters(self, among: list[int] | None = None) -> list[tuple]:
        """(id, then per counter whether it is wrong) of the posts with a wrong counter."""
        flags = ", ".join(f"stored{n} <> true{n}" for n in range(len(self.names)))
        sql = f"SELECT id, {flags} FROM ({self.sql}) AS batch WHERE ({self.wrong})"
        params = list(self.params)
        if among is not None:
            sql += " AND id = ANY(%s)"
            params.append(among)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def fix(self, among: list[int] | None = None) -> None:
        """One UPDATE setting every wrong counter of the batch (of `among`) to its true value."""
        values = ", ".join(f"{name} = batch.true{n}" for n, name in enumerate(self.names))
        sql = (
            f"UPDATE posts_post SET {values} FROM ({self.sql}) AS batch "
            f"WHERE posts_post.id = batch.id AND ({self.wrong})"
        )
        params = list(self.params)
        if among is not None:
            sql += " AND posts_post.id = ANY(%s)"
            params.append(among)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


@dataclass
class RecountResult:
    checked: int = 0
    # counter name -> posts whose value was wrong and is now right
    fixed: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_counted(), 0))


def recount(
    *,
    owner: User | None = None,
    batch: int = RECOUNT_BATCH,
    progress: Callable[[int, int], None] | None = None,
) -> RecountResult:
    """Set every counter of `owner`'s posts (everyone's without one) to the
    true count, and forget the cached post counts of those owners.

    Set-based: per batch of posts, one query finds the posts whose counters
    are wrong and, when there are any, one UPDATE fixes them. Safe to run at
    any time: on PostgreSQL the wrong posts are locked first and counted
    again in a new snapshot, so a comment or reaction written meanwhile is
    either counted here or added by its trigger after this commits, never
    both and never neither. (An UPDATE that waited for a row's lock would
    recheck it against the counts of the snapshot it started with.) SQLite
    runs one writer at a time.
    """
    scope = Post.objects.all() if owner is None else Post.objects.filter(owner=owner)
    locks = connection.vendor == "postgresql"
    result = RecountResult()
    total = scope.count()
    last_id = None
    while True:
        remaining = scope if last_id is None else scope.filter(pk__gt=last_id)
        ids = list(remaining.order_by("pk").values_list("pk", flat=True)[:batch])
        if not ids:
            break
        last_id = ids[-1]
        posts = _Batch(ids[0], last_id, None if owner is None else owner.pk)
        with transaction.atomic():
            if locks:
                # The cost estimates of these short statements can pass
                # jit_above_cost: compiling took 1.4 s of a 1.8 s batch.
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL jit = off")
            wrong = posts.wrong_counters()
            if wrong and locks:
                suspects = [row[0] for row in wrong]
                locked = list(
                    Post.objects.filter(pk__in=suspects)
                    .order_by("pk")
                    .select_for_update()
                    .values_list("pk", flat=True)
                )
                wrong = posts.wrong_counters(among=locked)
            if wrong:
                for number, name in enumerate(posts.names, start=1):
                    result.fixed[name] += sum(1 for row in wrong if row[number])
                posts.fix(among=[row[0] for row in wrong] if locks else None)
        result.checked += len(ids)
        if progress:
            progress(result.checked, total)
    _forget_cached_counts(owner)
    return result


def _forget_cached_counts(owner: User | None) -> None:
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
