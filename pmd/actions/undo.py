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

from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import ngettext

from pmd.actions.base import ActionCounts, BulkAction
from pmd.actions.registry import ACTIONS
from pmd.actions.run import ActionResult, action_result, record_action
from pmd.errors import Invalid, NotFound
from pmd.models import ActivityEntry

# How long after an action its undo is accepted. The page offers it in the
# toast for a few seconds; API clients have the hour. Beyond it "undo" would
# no longer mean "take back what I just did".
UNDO_WINDOW = timedelta(hours=1)


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
        if not original.undoable:
            raise Invalid(f"{original.label} cannot be undone: the posts are gone.")
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
        undo = record_action(user, inverse, entry.changed_ids, counts, undo_of=entry)
    return action_result(inverse, counts, undo_message(original, entry.hashtag, counts), undo)


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
