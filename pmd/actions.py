"""Batch post actions (BPA): hide, unhide, delete and restore up to
PMD_ACTION_LIMIT of the owner's posts in one request (SPEC §4, §5, §6).

One object per action in a registry, after Wagtail's bulk actions. Every run
costs the same three statements whatever the number of posts: one SELECT that
locks and validates the requested rows, one UPDATE of the rows that change,
and one INSERT of the audit entry, all in one transaction. Any invalid id
refuses the whole request before anything is written.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import ngettext

from pmd.models import ActivityEntry
from posts.models import Post

# How many ids an error message names before saying "and N more".
NAMED_IDS = 5

# The columns validation needs; nothing else is read.
_ROW_FIELDS = (
    "id",
    "kind",
    "hidden_by_user",
    "hidden_by_mod",
    "deleted_by_user",
    "deleted_by_user_date",
)


class ActionRefused(Exception):
    """The request is refused as a whole and nothing was changed."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ActionCounts:
    requested: int
    changed: int
    # Posts that stay off the public profile after the action for a reason the
    # owner cannot lift here (a moderator hid them, or they stay hidden).
    still_hidden: int = 0


@dataclass(frozen=True)
class ActionResult:
    action: str
    requested_count: int
    affected_count: int
    message: str


def restore_cutoff(now: datetime | None = None) -> datetime:
    """Posts deleted at or after this moment can still be restored."""
    return (now or timezone.now()) - timedelta(days=settings.PMD_RESTORE_DAYS)


def recently_deleted_condition(now: datetime | None = None) -> Q:
    """The "Recently deleted" rule: artworks the owner deleted within
    PMD_RESTORE_DAYS. Playlists are excluded, as everywhere in the PMD (SPEC §3:
    the playlist feature is deferred). Matches the partial index
    post_recently_deleted."""
    return Q(
        kind=Post.Kind.ARTWORK,
        deleted_by_user=True,
        deleted_by_user_date__gte=restore_cutoff(now),
    )


def recently_deleted_posts(*, owner: AbstractBaseUser) -> QuerySet[Post]:
    """The owner's restorable posts, most recently deleted first."""
    return Post.objects.filter(recently_deleted_condition(), owner=owner).order_by(
        "-deleted_by_user_date", "-id"
    )


def _id_list(ids: list[int]) -> str:
    shown = ", ".join(str(post_id) for post_id in ids[:NAMED_IDS])
    if len(ids) > NAMED_IDS:
        return f"{shown} and {len(ids) - NAMED_IDS} more"
    return shown


def _problem(ids: list[int], singular: str, plural: str, **extra: Any) -> str:
    return ngettext(singular, plural, len(ids)) % {"ids": _id_list(ids), **extra}


class BulkAction:
    """One batch action. Subclasses say which posts it applies to, what it
    writes, and how its outcome reads."""

    name: ClassVar[str]
    label: ClassVar[str]
    aria_label: ClassVar[str]
    serious: ClassVar[bool] = False
    needs_confirmation: ClassVar[bool] = False
    # The past tense in the recent activity list: "Hid 3 posts".
    done_verb: ClassVar[str]

    def refusal(self, row: Any, now: datetime) -> str | None:
        """Why this one of the owner's posts cannot take the action, as a
        key that problem_message words, or None."""
        if row.kind != Post.Kind.ARTWORK:
            # Playlists are excluded from the PMD everywhere (SPEC §3: deferred).
            return "playlist"
        if row.deleted_by_user:
            return "deleted"
        return None

    def problem_message(self, key: str, ids: list[int]) -> str:
        if key == "not_yours":
            return _problem(
                ids, "Post %(ids)s is not one of your posts.", "Posts %(ids)s are not your posts."
            )
        if key == "playlist":
            return _problem(
                ids,
                "Post %(ids)s is a playlist; the dashboard manages artworks only.",
                "Posts %(ids)s are playlists; the dashboard manages artworks only.",
            )
        if key == "deleted":
            # Not "restore it first": a post deleted long ago cannot be.
            return _problem(ids, "Post %(ids)s is deleted.", "Posts %(ids)s are deleted.")
        raise ValueError(key)

    def needs_change(self, row: Any) -> bool:
        return True

    def changes(self, now: datetime) -> dict[str, Any]:
        raise NotImplementedError

    def stays_hidden(self, row: Any) -> bool:
        return False

    def message(self, counts: ActionCounts) -> str:
        raise NotImplementedError

    def summary(self, changed: int, requested: int) -> str:
        """A line of the recent activity list: "Hid 300 posts", "Hid 3 of 5 posts"."""
        values = {"verb": self.done_verb, "count": changed, "requested": requested}
        if changed == requested:
            return ngettext("%(verb)s %(count)d post", "%(verb)s %(count)d posts", changed) % values
        return (
            ngettext(
                "%(verb)s %(count)d of %(requested)d post",
                "%(verb)s %(count)d of %(requested)d posts",
                requested,
            )
            % values
        )

    def execute(self, owner: AbstractBaseUser, post_ids: list[int]) -> ActionCounts:
        """Validate and apply. Call inside a transaction: the rows are locked
        from the check to the write, so the counts are exact and no other
        request can delete a post between its check and its update."""
        now = timezone.now()
        rows = {
            row.id: row
            for row in Post.objects.filter(owner=owner, pk__in=post_ids)
            # Locking in id order: concurrent batches on overlapping posts
            # queue behind each other instead of deadlocking.
            .select_for_update()
            .order_by("id")
            .values_list(*_ROW_FIELDS, named=True)
        }
        problems: dict[str, list[int]] = {}
        for post_id in post_ids:
            row = rows.get(post_id)
            # Unknown ids and other users' ids get the same answer, so the
            # API does not tell which ids exist.
            key = "not_yours" if row is None else self.refusal(row, now)
            if key:
                problems.setdefault(key, []).append(post_id)
        if problems:
            details = " ".join(self.problem_message(key, ids) for key, ids in problems.items())
            raise ActionRefused(f"{details} Nothing was changed.")
        to_change = [row.id for row in rows.values() if self.needs_change(row)]
        if to_change:
            Post.objects.filter(pk__in=to_change).update(**self.changes(now))
        return ActionCounts(
            requested=len(post_ids),
            changed=len(to_change),
            still_hidden=sum(self.stays_hidden(row) for row in rows.values()),
        )


class HidePosts(BulkAction):
    name = "hide"
    label = "Hide"
    aria_label = "Hide the selected posts from your profile"
    done_verb = "Hid"

    def needs_change(self, row: Any) -> bool:
        return not row.hidden_by_user

    def changes(self, now: datetime) -> dict[str, Any]:
        return {"hidden_by_user": True}

    def message(self, counts: ActionCounts) -> str:
        already = counts.requested - counts.changed
        if not counts.changed:
            return ngettext(
                "The post was already hidden; nothing changed.",
                "All %(count)d posts were already hidden; nothing changed.",
                already,
            ) % {"count": already}
        text = ngettext("%(count)d post hidden", "%(count)d posts hidden", counts.changed) % {
            "count": counts.changed
        }
        if already:
            text += ngettext(
                " (%(count)d was already hidden)", " (%(count)d were already hidden)", already
            ) % {"count": already}
        return text + "."


class UnhidePosts(BulkAction):
    name = "unhide"
    label = "Unhide"
    aria_label = "Show the selected posts on your profile again"
    done_verb = "Unhid"

    def needs_change(self, row: Any) -> bool:
        return row.hidden_by_user

    def changes(self, now: datetime) -> dict[str, Any]:
        # Only the owner's own flag: a moderator's hide is not the owner's to lift (SPEC §3).
        return {"hidden_by_user": False}

    def stays_hidden(self, row: Any) -> bool:
        return row.hidden_by_mod

    def message(self, counts: ActionCounts) -> str:
        not_hidden = counts.requested - counts.changed
        if not counts.changed:
            text = ngettext(
                "The post was not hidden; nothing changed.",
                "None of the %(count)d posts were hidden; nothing changed.",
                not_hidden,
            ) % {"count": not_hidden}
        else:
            text = ngettext(
                "%(count)d post unhidden", "%(count)d posts unhidden", counts.changed
            ) % {"count": counts.changed}
            if not_hidden:
                text += ngettext(
                    " (%(count)d was not hidden)", " (%(count)d were not hidden)", not_hidden
                ) % {"count": not_hidden}
            text += "."
        if counts.still_hidden:
            text += ngettext(
                " %(count)d stays hidden by a moderator.",
                " %(count)d stay hidden by a moderator.",
                counts.still_hidden,
            ) % {"count": counts.still_hidden}
        return text


class DeletePosts(BulkAction):
    name = "delete"
    label = "Delete"
    aria_label = "Delete the selected posts (they can be restored for a few days)"
    serious = True
    needs_confirmation = True
    done_verb = "Deleted"

    def problem_message(self, key: str, ids: list[int]) -> str:
        if key == "deleted":
            return _problem(
                ids, "Post %(ids)s is already deleted.", "Posts %(ids)s are already deleted."
            )
        return super().problem_message(key, ids)

    def changes(self, now: datetime) -> dict[str, Any]:
        # Soft: the row and its file stay, so the delete can be undone.
        return {"deleted_by_user": True, "deleted_by_user_date": now}

    def message(self, counts: ActionCounts) -> str:
        return ngettext(
            "%(count)d post deleted. You can restore it from Recently deleted for %(days)d days.",
            "%(count)d posts deleted. You can restore them from Recently deleted "
            "for %(days)d days.",
            counts.changed,
        ) % {"count": counts.changed, "days": settings.PMD_RESTORE_DAYS}


class RestorePosts(BulkAction):
    name = "restore"
    label = "Restore"
    aria_label = "Restore the selected posts from Recently deleted"
    done_verb = "Restored"

    def refusal(self, row: Any, now: datetime) -> str | None:
        if row.kind != Post.Kind.ARTWORK:
            return "playlist"
        if not row.deleted_by_user:
            return "not_deleted"
        if row.deleted_by_user_date < restore_cutoff(now):
            return "too_old"
        return None

    def problem_message(self, key: str, ids: list[int]) -> str:
        if key == "not_deleted":
            return _problem(
                ids,
                "Post %(ids)s is not deleted, so there is nothing to restore.",
                "Posts %(ids)s are not deleted, so there is nothing to restore.",
            )
        if key == "too_old":
            return _problem(
                ids,
                "Post %(ids)s was deleted more than %(days)d days ago and can no longer "
                "be restored.",
                "Posts %(ids)s were deleted more than %(days)d days ago and can no longer "
                "be restored.",
                days=settings.PMD_RESTORE_DAYS,
            )
        return super().problem_message(key, ids)

    def changes(self, now: datetime) -> dict[str, Any]:
        return {"deleted_by_user": False, "deleted_by_user_date": None}

    def stays_hidden(self, row: Any) -> bool:
        # Restore undoes the delete only: a post hidden before stays hidden.
        return row.hidden_by_user or row.hidden_by_mod

    def message(self, counts: ActionCounts) -> str:
        text = ngettext("%(count)d post restored.", "%(count)d posts restored.", counts.changed) % {
            "count": counts.changed
        }
        if counts.still_hidden:
            text += ngettext(
                " %(count)d of them is hidden, so it stays off your profile.",
                " %(count)d of them are hidden, so they stay off your profile.",
                counts.still_hidden,
            ) % {"count": counts.still_hidden}
        return text


def _registry(actions: Iterable[BulkAction]) -> dict[str, BulkAction]:
    return {action.name: action for action in actions}


ACTIONS: dict[str, BulkAction] = _registry(
    [HidePosts(), UnhidePosts(), DeletePosts(), RestorePosts()]
)


def bulk_action(name: object) -> BulkAction:
    """The registered action called `name`, or ActionRefused."""
    choices = ", ".join(ACTIONS)
    if not isinstance(name, str) or not name:
        raise ActionRefused(f"Say which action to run: one of {choices}.")
    action = ACTIONS.get(name)
    if action is None:
        raise ActionRefused(f"Unknown action {name[:40]!r}; use one of {choices}.")
    return action


def post_action_run(
    *, user: AbstractBaseUser, action_name: str, post_ids: list[int]
) -> ActionResult:
    """Run one batch action on at most PMD_ACTION_LIMIT of `user`'s posts.

    All or nothing: on any invalid id ActionRefused says which and nothing is
    written. The audit entry is written in the same transaction as the change.
    `affected_count` is the number of posts whose state changed: hide and
    unhide are idempotent, so posts already in the wanted state are counted
    as requested but not as affected, and the message says so.
    """
    action = bulk_action(action_name)
    post_ids = list(dict.fromkeys(post_ids))
    if not post_ids:
        raise ActionRefused("Select at least one post.")
    limit = settings.PMD_ACTION_LIMIT
    if len(post_ids) > limit:
        raise ActionRefused(f"At most {limit} posts per request; this one has {len(post_ids)}.")
    with transaction.atomic():
        counts = action.execute(user, post_ids)
        ActivityEntry.objects.create(
            user=user, action=action.name, post_ids=post_ids, count=counts.changed
        )
    return ActionResult(
        action=action.name,
        requested_count=counts.requested,
        affected_count=counts.changed,
        message=action.message(counts),
    )
