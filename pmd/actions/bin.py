"""Delete, restore and delete forever: the owner's soft delete, taking it
back within PMD_RESTORE_DAYS from "Recently deleted", and emptying posts
out of it for good."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils.translation import ngettext

from pmd.actions.base import ROW_FIELDS, ActionCounts, BulkAction, problem
from posts.art_files import delete_art_files_after_commit
from posts.models import Post, restore_cutoff


class DeletePosts(BulkAction):
    name = "delete"
    label = "Delete"
    aria_label = "Delete the selected posts (they can be restored from Recently deleted)"
    serious = True
    needs_confirmation = True
    icon = "🗑️"
    done_verb = "Deleted"
    gerund = "deleting"
    participle = "deleted"
    inverse = "restore"

    def subject(self, hashtag: str) -> str:
        return "deleted"

    def problem_message(self, key: str, ids: list[int]) -> str:
        if key == "deleted":
            return problem(
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
    icon = "↩️"
    done_verb = "Restored"
    gerund = "restoring"
    participle = "restored"
    views = ("deleted",)
    inverse = "delete"

    def subject(self, hashtag: str) -> str:
        return "deleted"

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
            return problem(
                ids,
                "Post %(ids)s is not deleted, so there is nothing to restore.",
                "Posts %(ids)s are not deleted, so there is nothing to restore.",
            )
        if key == "too_old":
            return problem(
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


class DeletePostsForever(BulkAction):
    """Posts in "Recently deleted" gone for good: their rows, comments,
    reactions and artwork files. What the daily emptying of the bin does
    to posts past PMD_RESTORE_DAYS (pmd.bin_purge), asked for sooner."""

    name = "delete_forever"
    label = "Delete forever"
    aria_label = "Delete the selected posts and their files for good (this cannot be undone)"
    serious = True
    needs_confirmation = True
    icon = "🔥"
    done_verb = "Erased"
    gerund = "erasing"
    participle = "deleted forever"
    views = ("deleted",)
    # Nothing is left to bring back.
    inverse = ""
    row_fields = (*ROW_FIELDS, "art")

    def subject(self, hashtag: str) -> str:
        return "erased"

    def refusal(self, row: Any, now: datetime) -> str | None:
        if row.kind != Post.Kind.ARTWORK:
            return "playlist"
        # Any time after the delete: one past the window is due to go anyway.
        if not row.deleted_by_user:
            return "not_deleted"
        return None

    def problem_message(self, key: str, ids: list[int]) -> str:
        if key == "not_deleted":
            return problem(
                ids,
                "Post %(ids)s is not in Recently deleted; delete it first.",
                "Posts %(ids)s are not in Recently deleted; delete them first.",
            )
        return super().problem_message(key, ids)

    def apply(self, rows: list[Any], now: datetime) -> None:
        posts_erase(rows)

    def message(self, counts: ActionCounts) -> str:
        return ngettext(
            "%(count)d post deleted forever.", "%(count)d posts deleted forever.", counts.changed
        ) % {"count": counts.changed}


def posts_erase(rows: list[Any]) -> None:
    """Delete the posts of `rows` (each with .id and .art) with what hangs on
    them; their files once the transaction commits."""
    Post.objects.filter(pk__in=[row.id for row in rows]).delete()
    delete_art_files_after_commit(row.art for row in rows)
