"""What every batch action shares: validation of the requested posts under
a row lock, one UPDATE of those that change, and the words of its outcome.

Every run costs the same statements whatever the number of posts: one
SELECT that locks and validates the requested rows, one UPDATE of the rows
that change (the audit entry is pmd.actions.run's). Any invalid id refuses
the whole request before anything is written.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone
from django.utils.translation import ngettext

from pmd.errors import Invalid
from posts.models import Post

# How many ids an error message names before saying "and N more".
NAMED_IDS = 5

# The columns validation needs; nothing else is read.
ROW_FIELDS = (
    "id",
    "kind",
    "hidden_by_user",
    "hidden_by_mod",
    "deleted_by_user",
    "deleted_by_user_date",
)


@dataclass(frozen=True)
class ActionCounts:
    requested: int
    # The posts whose state the action changed, in the order asked for.
    changed_ids: tuple[int, ...] = ()
    # Posts that stay off the public profile after the action for a reason the
    # owner cannot lift here (a moderator hid them, or they stay hidden).
    still_hidden: int = 0
    # Posts with no room for another hashtag (add_hashtag), left unchanged.
    full_ids: tuple[int, ...] = ()

    @property
    def changed(self) -> int:
        return len(self.changed_ids)


def _id_list(ids: list[int]) -> str:
    shown = ", ".join(str(post_id) for post_id in ids[:NAMED_IDS])
    if len(ids) > NAMED_IDS:
        return f"{shown} and {len(ids) - NAMED_IDS} more"
    return shown


def problem(ids: list[int], singular: str, plural: str, **extra: Any) -> str:
    return ngettext(singular, plural, len(ids)) % {"ids": _id_list(ids), **extra}


class BulkAction:
    """One batch action. Subclasses say which posts it applies to, what it
    writes, and how its outcome reads. The registry holds one instance of
    each; the hashtag actions run on a copy bound to the request's hashtag."""

    # The words of the action, here and nowhere else: the API's names, the
    # activity log's choices, the page's buttons and its scripts' messages
    # all come from them (pmd.actions.registry.action_words).
    name: ClassVar[str]
    # What the action is called ("Add hashtag"); its button adds "…" when it
    # asks for a hashtag first.
    label: ClassVar[str]
    aria_label: ClassVar[str]
    # The button's picture, beside its label.
    icon: ClassVar[str]
    serious: ClassVar[bool] = False
    needs_confirmation: ClassVar[bool] = False
    # The past tense in the recent activity list: "Hid 3 posts".
    done_verb: ClassVar[str]
    # After "Undid": "Undid hiding 3 posts"; capitalised, the progress: "Hiding… 3/5".
    gerund: ClassVar[str]
    # After the count: "3 posts hidden".
    participle: ClassVar[str]
    # Between the hashtag and the count: "Added #pixel to 3 posts".
    preposition: ClassVar[str] = ""
    # The table views ("live", "deleted") whose selection it applies to.
    views: ClassVar[tuple[str, ...]] = ("live",)
    # The action an undo runs; "" for one that cannot be undone.
    inverse: ClassVar[str]
    takes_hashtag: ClassVar[bool] = False
    row_fields: ClassVar[tuple[str, ...]] = ROW_FIELDS
    hashtag: str = ""

    @property
    def undoable(self) -> bool:
        return bool(self.inverse)

    def bind(self, hashtag: str) -> BulkAction:
        bound = copy.copy(self)
        bound.hashtag = hashtag
        return bound

    def subject(self, hashtag: str) -> str:
        """What the action changes about a post. A later action on the same
        subject of a post makes an undo leave that post as it is."""
        raise NotImplementedError

    def refusal(self, row: Any, now: datetime) -> str | None:
        """Why this one of the owner's posts cannot take the action, as a
        key that problem_message words, or None."""
        if row.kind != Post.Kind.ARTWORK:
            # Playlists are excluded from the PMD everywhere (the feature is deferred).
            return "playlist"
        if row.deleted_by_user:
            return "deleted"
        return None

    def problem_message(self, key: str, ids: list[int]) -> str:
        if key == "not_yours":
            return problem(
                ids, "Post %(ids)s is not one of your posts.", "Posts %(ids)s are not your posts."
            )
        if key == "playlist":
            return problem(
                ids,
                "Post %(ids)s is a playlist; the dashboard manages artworks only.",
                "Posts %(ids)s are playlists; the dashboard manages artworks only.",
            )
        if key == "deleted":
            # Not "restore it first": a post deleted long ago cannot be.
            return problem(ids, "Post %(ids)s is deleted.", "Posts %(ids)s are deleted.")
        raise ValueError(key)

    def needs_change(self, row: Any) -> bool:
        return True

    def plan(self, rows: list[Any]) -> tuple[list[Any], list[int]]:
        """The rows to change, and the ids of posts that should change but
        cannot (no room for another hashtag)."""
        return [row for row in rows if self.needs_change(row)], []

    def changes(self, now: datetime) -> dict[str, Any]:
        raise NotImplementedError

    def apply(self, rows: list[Any], now: datetime) -> None:
        """One UPDATE of every row that changes."""
        Post.objects.filter(pk__in=[row.id for row in rows]).update(**self.changes(now))

    def stays_hidden(self, row: Any) -> bool:
        return False

    def message(self, counts: ActionCounts) -> str:
        raise NotImplementedError

    def target(self, hashtag: str) -> str:
        """What goes between the verb and the count: "#pixel to " for hashtags."""
        return f"#{hashtag} {self.preposition} " if self.takes_hashtag else ""

    def summary(
        self, changed: int, requested: int, *, hashtag: str = "", undo: bool = False
    ) -> str:
        """A line of the recent activity list: "Hid 300 posts", "Hid 3 of 5
        posts", "Added #pixel to 12 posts", "Undid hiding 5 posts"."""
        values = {
            "verb": f"Undid {self.gerund}" if undo else self.done_verb,
            "target": self.target(hashtag),
            "count": changed,
            "requested": requested,
        }
        if changed == requested:
            return (
                ngettext(
                    "%(verb)s %(target)s%(count)d post",
                    "%(verb)s %(target)s%(count)d posts",
                    changed,
                )
                % values
            )
        return (
            ngettext(
                "%(verb)s %(target)s%(count)d of %(requested)d post",
                "%(verb)s %(target)s%(count)d of %(requested)d posts",
                requested,
            )
            % values
        )

    def execute(
        self, owner: AbstractBaseUser, post_ids: Sequence[int], *, strict: bool = True
    ) -> ActionCounts:
        """Validate and apply. Call inside a transaction: the rows are locked
        from the check to the write, so the counts are exact and no other
        request can delete a post between its check and its update.

        `strict` refuses the whole request for any post that cannot take the
        action; an undo passes False and leaves such posts as they are."""
        now = timezone.now()
        rows = {
            row.id: row
            for row in Post.objects.filter(owner=owner, pk__in=post_ids)
            # Locking in id order: concurrent batches on overlapping posts
            # queue behind each other instead of deadlocking.
            .select_for_update()
            .order_by("id")
            .values_list(*self.row_fields, named=True)
        }
        problems: dict[str, list[int]] = {}
        for post_id in post_ids:
            row = rows.get(post_id)
            # Unknown ids and other users' ids get the same answer, so the
            # API does not tell which ids exist.
            key = "not_yours" if row is None else self.refusal(row, now)
            if key:
                problems.setdefault(key, []).append(post_id)
        if problems and strict:
            details = " ".join(self.problem_message(key, ids) for key, ids in problems.items())
            raise Invalid(f"{details} Nothing was changed.")
        refused = {post_id for ids in problems.values() for post_id in ids}
        eligible = [rows[post_id] for post_id in post_ids if post_id not in refused]
        to_change, full_ids = self.plan(eligible)
        if to_change:
            self.apply(to_change, now)
        return ActionCounts(
            requested=len(post_ids),
            changed_ids=tuple(row.id for row in to_change),
            still_hidden=sum(self.stays_hidden(row) for row in eligible),
            full_ids=tuple(full_ids),
        )
