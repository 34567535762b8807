"""Batch post actions (BPA): hide, unhide, delete, restore, add and remove a
hashtag on up to PMD_ACTION_LIMIT of the owner's posts in one request (SPEC
§4, §5, §6), and the undo of any of them.

One object per action in a registry, after Wagtail's bulk actions. Every run
costs the same three statements whatever the number of posts: one SELECT that
locks and validates the requested rows, one UPDATE of the rows that change,
and one INSERT of the audit entry, all in one transaction. Any invalid id
refuses the whole request before anything is written.

Undo. The audit entry records exactly which posts the action changed, and is
the handle an undo names: the undo runs the inverse action (hide ↔ unhide,
delete ↔ restore, add ↔ remove the hashtag) on those posts only, so a post
that was already hidden stays hidden. A post that a later action of the
owner's changed in the same respect (hid or unhid it again, say) is left as
it is: the later change wins, and the undo says how many it left. The trail
knows only what went through these actions; a change made elsewhere (the
admin) is seen only as the post's state: an undo never touches a post that
is not in the state the action left it in.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Case, CharField, F, Q, QuerySet, Value, When
from django.db.models.functions import Concat
from django.utils import timezone
from django.utils.translation import ngettext

from pmd.errors import Invalid, NotFound
from pmd.hashtags import BadHashtag, hashtag_parse, hashtags_have, hashtags_without
from pmd.models import ActivityEntry
from posts.models import Post

# How many ids an error message names before saying "and N more".
NAMED_IDS = 5

# How long after an action its undo is accepted. The page offers it in the
# toast for a few seconds; API clients have the hour. Beyond it "undo" would
# no longer mean "take back what I just did".
UNDO_WINDOW = timedelta(hours=1)

# The columns validation needs; nothing else is read.
_ROW_FIELDS = (
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


@dataclass(frozen=True)
class ActionResult:
    action: str
    hashtag: str | None
    requested_count: int
    affected_count: int
    changed_ids: list[int]
    full_ids: list[int]
    message: str
    # The audit entry: what POST /api/pmd/action/undo takes.
    activity_id: int
    undo_of: int | None


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
    writes, and how its outcome reads. The registry holds one instance of
    each; the hashtag actions run on a copy bound to the request's hashtag."""

    name: ClassVar[str]
    label: ClassVar[str]
    aria_label: ClassVar[str]
    serious: ClassVar[bool] = False
    needs_confirmation: ClassVar[bool] = False
    # The past tense in the recent activity list: "Hid 3 posts".
    done_verb: ClassVar[str]
    # After "Undid": "Undid hiding 3 posts".
    gerund: ClassVar[str]
    # The action an undo runs.
    inverse: ClassVar[str]
    takes_hashtag: ClassVar[bool] = False
    row_fields: ClassVar[tuple[str, ...]] = _ROW_FIELDS
    hashtag: str = ""

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
        return ""

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


class HidePosts(BulkAction):
    name = "hide"
    label = "Hide"
    aria_label = "Hide the selected posts from your profile"
    done_verb = "Hid"
    gerund = "hiding"
    inverse = "unhide"

    def subject(self, hashtag: str) -> str:
        return "hidden"

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
    gerund = "unhiding"
    inverse = "hide"

    def subject(self, hashtag: str) -> str:
        return "hidden"

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
    gerund = "deleting"
    inverse = "restore"

    def subject(self, hashtag: str) -> str:
        return "deleted"

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
    gerund = "restoring"
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


class HashtagAction(BulkAction):
    """One hashtag, matched without regard to case, on each post."""

    takes_hashtag = True
    row_fields = (*_ROW_FIELDS, "hashtags")

    def subject(self, hashtag: str) -> str:
        return f"#{hashtag}"


class AddHashtag(HashtagAction):
    name = "add_hashtag"
    label = "Add hashtag…"
    aria_label = "Add a hashtag to the selected posts"
    done_verb = "Added"
    gerund = "adding"
    inverse = "remove_hashtag"

    def target(self, hashtag: str) -> str:
        return f"#{hashtag} to "

    def _with_it(self, hashtags: str) -> str:
        # What apply() writes: the same text the database's concatenation makes.
        return f"{hashtags} {self.hashtag}" if hashtags else self.hashtag

    def plan(self, rows: list[Any]) -> tuple[list[Any], list[int]]:
        limit = settings.PMD_HASHTAG_LIMIT
        room = Post._meta.get_field("hashtags").max_length
        to_change, full = [], []
        for row in rows:
            if hashtags_have(row.hashtags, self.hashtag):
                continue
            # Posts written before the cap, or with long hashtags, may have
            # more words or characters than a new hashtag leaves room for.
            if len(row.hashtags.split()) >= limit or len(self._with_it(row.hashtags)) > room:
                full.append(row.id)
            else:
                to_change.append(row)
        return to_change, full

    def apply(self, rows: list[Any], now: datetime) -> None:
        # Set-based: every changed post gets the same words appended, so one
        # expression serves all of them, whatever their number.
        Post.objects.filter(pk__in=[row.id for row in rows]).update(
            hashtags=Case(
                When(hashtags="", then=Value(self.hashtag)),
                default=Concat(F("hashtags"), Value(f" {self.hashtag}")),
                output_field=CharField(),
            )
        )

    def message(self, counts: ActionCounts) -> str:
        tag = f"#{self.hashtag}"
        full = len(counts.full_ids)
        already = counts.requested - counts.changed - full
        values = {"tag": tag, "count": counts.changed, "already": already}
        if counts.changed:
            text = (
                ngettext(
                    "Added %(tag)s to %(count)d post",
                    "Added %(tag)s to %(count)d posts",
                    counts.changed,
                )
                % values
            )
            if already:
                text += (
                    ngettext(
                        " (%(already)d already had it)", " (%(already)d already had it)", already
                    )
                    % values
                )
            text += "."
        elif already:
            text = (
                ngettext(
                    "The post already has %(tag)s; nothing changed.",
                    "All %(already)d posts already have %(tag)s; nothing changed.",
                    already,
                )
                % values
            )
            if full:
                text = (
                    ngettext(
                        "%(already)d post already has %(tag)s.",
                        "%(already)d posts already have %(tag)s.",
                        already,
                    )
                    % values
                )
        else:
            text = "Nothing changed."
        if full:
            text += ngettext(
                " %(count)d post has no room for another hashtag (at most %(limit)d per post), "
                "so %(tag)s was not added to it.",
                " %(count)d posts have no room for another hashtag (at most %(limit)d per "
                "post), so %(tag)s was not added to them.",
                full,
            ) % {"count": full, "limit": settings.PMD_HASHTAG_LIMIT, "tag": tag}
        return text.strip()


class RemoveHashtag(HashtagAction):
    name = "remove_hashtag"
    label = "Remove hashtag…"
    aria_label = "Remove a hashtag from the selected posts"
    done_verb = "Removed"
    gerund = "removing"
    inverse = "add_hashtag"

    def target(self, hashtag: str) -> str:
        return f"#{hashtag} from "

    def needs_change(self, row: Any) -> bool:
        return hashtags_have(row.hashtags, self.hashtag)

    def apply(self, rows: list[Any], now: datetime) -> None:
        # Each post keeps its own other hashtags: one UPDATE, a CASE per post.
        Post.objects.filter(pk__in=[row.id for row in rows]).update(
            hashtags=Case(
                *(
                    When(pk=row.id, then=Value(hashtags_without(row.hashtags, self.hashtag)))
                    for row in rows
                ),
                default=F("hashtags"),
                output_field=CharField(),
            )
        )

    def message(self, counts: ActionCounts) -> str:
        missing = counts.requested - counts.changed
        values = {"tag": f"#{self.hashtag}", "count": counts.changed, "missing": missing}
        if not counts.changed:
            return (
                ngettext(
                    "The post does not have %(tag)s; nothing changed.",
                    "None of the %(missing)d posts have %(tag)s; nothing changed.",
                    missing,
                )
                % values
            )
        text = (
            ngettext(
                "Removed %(tag)s from %(count)d post",
                "Removed %(tag)s from %(count)d posts",
                counts.changed,
            )
            % values
        )
        if missing:
            text += (
                ngettext(
                    " (%(missing)d did not have it)", " (%(missing)d did not have it)", missing
                )
                % values
            )
        return text + "."


def _registry(actions: Iterable[BulkAction]) -> dict[str, BulkAction]:
    return {action.name: action for action in actions}


ACTIONS: dict[str, BulkAction] = _registry(
    [HidePosts(), UnhidePosts(), DeletePosts(), RestorePosts(), AddHashtag(), RemoveHashtag()]
)
HASHTAG_ACTIONS = [name for name, action in ACTIONS.items() if action.takes_hashtag]


def bulk_action(name: object) -> BulkAction:
    """The registered action called `name`, or Invalid."""
    choices = ", ".join(ACTIONS)
    if not isinstance(name, str) or not name:
        raise Invalid(f"Say which action to run: one of {choices}.")
    action = ACTIONS.get(name)
    if action is None:
        raise Invalid(f"Unknown action {name[:40]!r}; use one of {choices}.")
    return action


def _with_hashtag(action: BulkAction, hashtag: object) -> BulkAction:
    """The action bound to the request's hashtag: required by the hashtag
    actions, refused by the others (SPEC §6)."""
    if not action.takes_hashtag:
        if hashtag is not None:
            raise Invalid(
                f"Only {' and '.join(HASHTAG_ACTIONS)} take a hashtag; leave it out for "
                f"{action.name}."
            )
        return action
    if hashtag is None:
        raise Invalid(f'{action.name} needs a hashtag, such as "pixelart".')
    try:
        return action.bind(hashtag_parse(hashtag))
    except BadHashtag as error:
        raise Invalid(str(error)) from None


def _record(
    user: AbstractBaseUser,
    action: BulkAction,
    post_ids: Sequence[int],
    counts: ActionCounts,
    undo_of: ActivityEntry | None = None,
) -> ActivityEntry:
    entry = ActivityEntry.objects.create(
        user=user,
        action=action.name,
        hashtag=action.hashtag,
        post_ids=list(post_ids),
        changed_ids=list(counts.changed_ids),
        count=counts.changed,
        undo_of=undo_of,
    )
    return entry


def _result(
    action: BulkAction, counts: ActionCounts, message: str, entry: ActivityEntry
) -> ActionResult:
    return ActionResult(
        action=action.name,
        hashtag=action.hashtag or None,
        requested_count=counts.requested,
        affected_count=counts.changed,
        changed_ids=list(counts.changed_ids),
        full_ids=list(counts.full_ids),
        message=message,
        activity_id=entry.pk,
        undo_of=entry.undo_of_id,
    )


def post_action_run(
    *,
    user: AbstractBaseUser,
    action_name: str,
    post_ids: list[int],
    hashtag: str | None = None,
) -> ActionResult:
    """Run one batch action on at most PMD_ACTION_LIMIT of `user`'s posts.

    All or nothing: on any invalid id Invalid says which and nothing is
    written. The audit entry is written in the same transaction as the change.
    `affected_count` is the number of posts whose state changed: hide and
    unhide and the hashtag actions are idempotent, so posts already in the
    wanted state are counted as requested but not as affected, and the
    message says so. Posts with no room for another hashtag are not an
    error: the others get it, and those are named in `full_ids`.
    """
    action = _with_hashtag(bulk_action(action_name), hashtag)
    post_ids = list(dict.fromkeys(post_ids))
    if not post_ids:
        raise Invalid("Select at least one post.")
    limit = settings.PMD_ACTION_LIMIT
    if len(post_ids) > limit:
        raise Invalid(f"At most {limit} posts per request; this one has {len(post_ids)}.")
    with transaction.atomic():
        counts = action.execute(user, post_ids)
        entry = _record(user, action, post_ids, counts)
    return _result(action, counts, action.message(counts), entry)


def post_action_undo(*, user: AbstractBaseUser, activity_id: int) -> ActionResult:
    """Undo the action recorded as `activity_id`: its inverse, on the posts
    it changed, except those a later action of the user's changed in the
    same respect since; posts no longer able to take the inverse (deleted
    meanwhile, say) are left as they are too, and the message counts them.
    At most PMD_ACTION_LIMIT posts, since an action changes no more. The
    undo is an audit entry of its own (`undo_of`), and cannot be undone."""
    with transaction.atomic():
        # Locked: two undos of one action queue, and the second finds the first.
        entry = ActivityEntry.objects.select_for_update().filter(user=user, pk=activity_id).first()
        if entry is None:
            raise NotFound("You have no action with that activity_id to undo.")
        original = ACTIONS[entry.action]
        if entry.undo_of_id is not None:
            raise Invalid("An undo cannot be undone; run the action again instead.")
        if entry.created_at < timezone.now() - UNDO_WINDOW:
            raise Invalid("That action is more than an hour old and can no longer be undone.")
        if not entry.changed_ids:
            raise Invalid(
                "That action changed nothing, so there is nothing to undo."
                if not entry.count
                else "That action was recorded before undo existed and cannot be undone."
            )
        subject = original.subject(entry.hashtag)
        changed_since: set[int] = set()
        later = ActivityEntry.objects.filter(
            user=user, created_at__gte=entry.created_at, pk__gt=entry.pk
        ).values_list("action", "hashtag", "undo_of_id", "changed_ids")
        for action_name, hashtag, undo_of_id, changed_ids in later:
            if undo_of_id == entry.pk:
                raise Invalid("That action has already been undone.")
            if ACTIONS[action_name].subject(hashtag) == subject:
                changed_since.update(changed_ids)
        inverse = ACTIONS[original.inverse].bind(entry.hashtag)
        candidates = [post_id for post_id in entry.changed_ids if post_id not in changed_since]
        counts = inverse.execute(user, candidates, strict=False)
        counts = ActionCounts(requested=len(entry.changed_ids), changed_ids=counts.changed_ids)
        undo = _record(user, inverse, entry.changed_ids, counts, undo_of=entry)
    return _result(inverse, counts, undo_message(original, entry.hashtag, counts), undo)


def undo_message(original: BulkAction, hashtag: str, counts: ActionCounts) -> str:
    """ "Undid hiding 5 posts." and, if some were left, how many and why."""
    left = counts.requested - counts.changed
    if not counts.changed:
        return ngettext(
            "Nothing was undone: the post had changed since.",
            "Nothing was undone: the %(count)d posts had changed since.",
            left,
        ) % {"count": left}
    text = original.summary(counts.changed, counts.requested, hashtag=hashtag, undo=True) + "."
    if left:
        text += ngettext(
            " %(count)d had changed since and was left as it is.",
            " %(count)d had changed since and were left as they are.",
            left,
        ) % {"count": left}
    return text
