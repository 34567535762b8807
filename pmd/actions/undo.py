"""Undo of a batch action.

The audit entry records exactly which posts the action changed, and is the
handle an undo names: the undo runs the inverse action (hide ↔ unhide,
delete ↔ restore, add ↔ remove the hashtag) on those posts only, so a post
that was already hidden stays hidden. A post that a later action of the
owner's changed in the same respect (hid or unhid it again, say) is left as
it is: the later change wins, and the undo says how many it left. The trail
knows only what went through these actions; a change made elsewhere (the
admin) is seen only as the post's state: an undo never touches a post that
is not in the state the action left it in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import ngettext

from pmd.actions.base import ActionCounts, BulkAction
from pmd.actions.registry import LOGGED
from pmd.actions.run import ActionResult, action_result, record_action
from pmd.actions.values import COLUMNS, write_values
from pmd.errors import Invalid, NotFound
from pmd.models import ActivityEntry, Job
from posts.models import Post


def undo_window() -> timedelta:
    """How long after an action its undo is accepted (PMD_UNDO_DAYS): the
    toast offers it for a few seconds, Recent activity and the API for days."""
    return timedelta(days=settings.PMD_UNDO_DAYS)


def too_old_message(what: str) -> str:
    days = settings.PMD_UNDO_DAYS
    return (
        f"That {what} is more than {days} day{'s' if days != 1 else ''} old and can no "
        "longer be undone."
    )


def post_action_undo(*, user: User, activity_id: int, actor: User | None = None) -> ActionResult:
    """Undo the action recorded as `activity_id`: its inverse, on the posts
    it changed, except those a later action of the user's changed in the
    same respect since; posts no longer able to take the inverse (deleted
    meanwhile, say) are left as they are too, and the message counts them.
    At most PMD_ACTION_LIMIT posts, since an action changes no more. The
    undo is an audit entry of its own (`undo_of`), and cannot be undone.
    A chunk of a job is undone with its whole job (pmd.jobs)."""
    with transaction.atomic():
        # Locked: two undos of one action queue, and the second finds the first.
        entry = ActivityEntry.objects.select_for_update().filter(user=user, pk=activity_id).first()
        if entry is None:
            raise NotFound("You have no action with that activity_id to undo.")
        if entry.created_at < timezone.now() - undo_window():
            raise Invalid(too_old_message("action"))
        original = LOGGED[entry.action]
        inverse, counts, undo = entry_undo(user, entry, actor=actor)
    return action_result(inverse, counts, undo_message(original, entry.hashtag, counts), undo)


def entry_undo(
    user: User,
    entry: ActivityEntry,
    *,
    job: Job | None = None,
    chunk: int | None = None,
    actor: User | None = None,
) -> tuple[BulkAction, ActionCounts, ActivityEntry]:
    """The undo of one locked entry, inside the caller's transaction: the
    inverse that ran, its counts (requested: the posts the entry changed),
    and the undo's own entry. Invalid when there is nothing to undo."""
    original = LOGGED[entry.action]
    if not original.undoable:
        raise Invalid(f"{original.label} cannot be undone: the posts are gone.")
    if entry.undo_of_id is not None:
        raise Invalid("An undo cannot be undone; run the action again instead.")
    if not entry.changed_ids:
        raise Invalid(
            "That action changed nothing, so there is nothing to undo."
            if not entry.count
            else "That action was recorded before undo existed and cannot be undone."
        )
    if ActivityEntry.objects.filter(undo_of=entry).exists():
        raise Invalid("That action has already been undone.")
    if original.restores_values:
        # Values put back where the posts still hold what the entry wrote.
        counts = restore_values(user, entry)
        bound = original.bind(entry.hashtag)
        undo = record_action(
            user,
            bound,
            entry.changed_ids,
            counts,
            undo_of=entry,
            value=entry.value,
            actor=actor,
            job=job,
            chunk=chunk,
        )
        return bound, counts, undo
    subject = original.subject(entry.hashtag)
    changed_since: set[int] = set()
    later = ActivityEntry.objects.filter(
        user=user, created_at__gte=entry.created_at, pk__gt=entry.pk
    )
    # The other chunks of the entry's job, and of the undo running now, hold
    # other posts: reading them would only cost time, chunk after chunk.
    if entry.job_id is not None:
        later = later.exclude(job_id=entry.job_id)
    if job is not None:
        later = later.exclude(job=job)
    for action_name, hashtag, changed_ids in later.values_list("action", "hashtag", "changed_ids"):
        if LOGGED[action_name].subject(hashtag) == subject:
            changed_since.update(changed_ids)
    inverse = LOGGED[original.inverse].bind(entry.hashtag)
    candidates = [post_id for post_id in entry.changed_ids if post_id not in changed_since]
    counts = inverse.execute(user, candidates, strict=False)
    counts = ActionCounts(requested=len(entry.changed_ids), changed_ids=counts.changed_ids)
    undo = record_action(
        user, inverse, entry.changed_ids, counts, undo_of=entry, job=job, chunk=chunk, actor=actor
    )
    return inverse, counts, undo


def restore_values(user: User, entry: ActivityEntry, *, write: bool = True) -> ActionCounts:
    """Put back the values `entry` recorded, on each of its posts that still
    holds what it wrote (and is still one of the user's live artworks): one
    locking read, one UPDATE. The counts' values are the undo's own before
    and after, so the undo's entry says what it wrote."""
    recorded = {int(post_id): values for post_id, values in entry.changes.items()}
    columns = sorted({COLUMNS[name] for values in recorded.values() for name in values})
    rows = Post.objects.filter(owner=user, pk__in=list(recorded)).live_artworks()
    if write:
        # Locked from the check to the write; a preview (write=False) only reads.
        rows = rows.select_for_update()
    back: dict[int, dict[str, list]] = {}
    for row in rows.order_by("id").values_list("id", *columns, named=True):
        values = recorded[row.id]
        if all(getattr(row, COLUMNS[name]) == after for name, (_, after) in values.items()):
            back[row.id] = {name: [after, before] for name, (before, after) in values.items()}
    if back and write:
        write_values(
            {post_id: {n: v[1] for n, v in values.items()} for post_id, values in back.items()}
        )
    changed = tuple(post_id for post_id in entry.changed_ids if post_id in back)
    return ActionCounts(requested=len(entry.changed_ids), changed_ids=changed, values=back)


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


@dataclass(frozen=True)
class UndoPreview:
    # Posts the undo would change back, and posts it would leave as they are
    # (changed since by a later action, or no longer able to take it).
    changes: int
    leaves: int

    @property
    def message(self) -> str:
        text = ngettext(
            "Undo will change %(count)s post back",
            "Undo will change %(count)s posts back",
            self.changes,
        ) % {"count": f"{self.changes:,}"}
        if self.leaves:
            text += ngettext(
                " and leave %(count)s that changed since.",
                " and leave %(count)s that changed since.",
                self.leaves,
            ) % {"count": f"{self.leaves:,}"}
        else:
            text += "."
        return text


def undo_preview(*, user: User, activity_ids: Sequence[int]) -> UndoPreview:
    """What undoing these entries would do, writing nothing: one line of
    Recent activity (a run of the page's requests, or a job, whose every
    chunk goes with it), under the same rules as the undo itself."""
    entries = list(ActivityEntry.objects.filter(user=user, pk__in=activity_ids))
    if not entries or len(entries) != len(set(activity_ids)):
        raise NotFound("You have no action with that activity_id to undo.")
    job_ids = {entry.job_id for entry in entries if entry.job_id}
    if job_ids:
        entries = list(
            ActivityEntry.objects.filter(user=user).filter(
                Q(pk__in=activity_ids) | Q(job_id__in=job_ids)
            )
        )
    if len({(entry.action, entry.hashtag, entry.undo_of_id is None) for entry in entries}) != 1:
        raise Invalid("Those entries are not one action; undo them one at a time.")
    first = min(entries, key=lambda entry: entry.pk)
    original = LOGGED[first.action]
    if not original.undoable:
        raise Invalid(f"{original.label} cannot be undone: the posts are gone.")
    if first.undo_of_id is not None:
        raise Invalid("An undo cannot be undone; run the action again instead.")
    if first.created_at < timezone.now() - undo_window():
        raise Invalid(too_old_message("action"))
    if ActivityEntry.objects.filter(undo_of__in=entries).exists():
        raise Invalid("That action has already been undone.")
    changed = [post_id for entry in entries for post_id in entry.changed_ids]
    if not changed:
        raise Invalid("That action changed nothing, so there is nothing to undo.")
    subject = original.subject(first.hashtag)
    later = (
        ActivityEntry.objects.filter(user=user, created_at__gte=first.created_at, pk__gt=first.pk)
        .exclude(pk__in=[entry.pk for entry in entries])
        .exclude(job_id__in=job_ids)
    )
    changed_since: set[int] = set()
    for action_name, hashtag, changed_ids in later.values_list("action", "hashtag", "changed_ids"):
        if LOGGED[action_name].subject(hashtag) == subject:
            changed_since.update(changed_ids)
    if original.restores_values:
        # Values come back where the posts still hold what the entries wrote.
        back = sum(restore_values(user, entry, write=False).changed for entry in entries)
        return UndoPreview(changes=back, leaves=len(changed) - back)
    candidates = [post_id for post_id in changed if post_id not in changed_since]
    inverse = LOGGED[original.inverse].bind(first.hashtag)
    counts = inverse.execute(user, candidates, strict=False, dry_run=True)
    return UndoPreview(changes=counts.changed, leaves=len(changed) - counts.changed)
