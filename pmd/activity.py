"""Reads of the batch action audit trail for the owner's own dashboard."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Func, IntegerField
from django.utils.translation import ngettext

from pmd.actions.registry import ACTIONS
from pmd.models import ActivityEntry

# The page sends a large selection as one request per 128 posts, one after
# another; requests of one action this close together read as one run
# ("Hid 300 posts", not "Hid 128 posts" twice and "Hid 44 posts").
RUN_GAP = timedelta(seconds=60)
# Entries read per call: enough for `limit` runs of about 3,000 posts each,
# while one read stays a small index range scan.
ENTRIES_READ = 250


class JsonArrayLength(Func):
    """Length of a JSON array, on PostgreSQL (jsonb) and SQLite alike."""

    function = "jsonb_array_length"
    output_field = IntegerField()

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, function="json_array_length", **extra_context)


@dataclass
class ActivityRun:
    action: str
    changed: int
    requested: int
    started_at: datetime
    ended_at: datetime
    requests: int = 1
    hashtag: str = ""
    # An undo's entries: `action` is the inverse that ran ("unhide" for
    # "Undid hiding 5 posts").
    undo: bool = False
    # The site's own (the bin emptied after PMD_RESTORE_DAYS).
    automatic: bool = False

    @property
    def text(self) -> str:
        if self.automatic:
            return ngettext(
                "Emptied %(count)d post from the bin after %(days)d days",
                "Emptied %(count)d posts from the bin after %(days)d days",
                self.changed,
            ) % {"count": self.changed, "days": settings.PMD_RESTORE_DAYS}
        if self.undo:
            original = ACTIONS[ACTIONS[self.action].inverse]
            return original.summary(self.changed, self.requested, hashtag=self.hashtag, undo=True)
        return ACTIONS[self.action].summary(self.changed, self.requested, hashtag=self.hashtag)

    def continues(
        self, action: str, hashtag: str, undo: bool, automatic: bool, created_at: datetime
    ) -> bool:
        """Whether an older entry is an earlier request of this same run."""
        return (self.action, self.hashtag, self.undo, self.automatic) == (
            action,
            hashtag,
            undo,
            automatic,
        ) and self.started_at - created_at <= RUN_GAP


def activity_recent(*, user: AbstractBaseUser, limit: int = 10) -> list[ActivityRun]:
    """The user's latest batch actions, newest first, requests of one chunked
    run merged into one line. One query."""
    entries = list(
        ActivityEntry.objects.filter(user=user)
        .order_by("-created_at", "-id")
        .values_list("action", "hashtag", "undo_of_id", "automatic", "count", "created_at")
        .annotate(requested=JsonArrayLength("post_ids"))[:ENTRIES_READ]
    )
    runs: list[ActivityRun] = []
    for action, hashtag, undo_of_id, automatic, changed, created_at, requested in entries:
        undo = undo_of_id is not None
        last = runs[-1] if runs else None
        if last and last.continues(action, hashtag, undo, automatic, created_at):
            last.changed += changed
            last.requested += requested
            last.started_at = created_at
            last.requests += 1
        else:
            runs.append(
                ActivityRun(
                    action, changed, requested, created_at, created_at, 1, hashtag, undo, automatic
                )
            )
    if len(entries) == ENTRIES_READ and len(runs) > 1:
        # The oldest run may go on past what was read: better left out than undercounted.
        runs.pop()
    return runs[:limit]
