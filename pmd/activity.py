"""Reads of the batch action audit trail for the owner's own dashboard."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import Exists, Func, IntegerField, OuterRef
from django.utils import timezone
from django.utils.translation import ngettext

from pmd.actions.registry import LOGGED
from pmd.actions.undo import undo_window
from pmd.models import ActivityEntry, Job

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
    # The job whose chunks these entries are (pmd.jobs), if any.
    job_id: uuid.UUID | None = None
    # The entries read for this line (what its undo names), and whether any
    # of them has been undone.
    entry_ids: list[int] = field(default_factory=list)
    undone: bool = False
    # What a value action set (set_license: the licence, "" for none).
    value: str = ""
    # Support who acted in the owner's dashboard (username), or "" for the owner.
    actor: str = ""

    @property
    def undoable(self) -> bool:
        """Whether Recent activity offers its Undo: an action that can be
        undone, that changed something, not undone yet, within PMD_UNDO_DAYS."""
        return (
            not (self.undo or self.automatic or self.undone)
            and self.changed > 0
            and LOGGED[self.action].undoable
            and self.started_at >= timezone.now() - undo_window()
        )

    @property
    def activity_ids(self) -> str:
        return ",".join(str(pk) for pk in self.entry_ids)

    @property
    def text(self) -> str:
        if self.automatic:
            return ngettext(
                "Emptied %(count)d post from the bin after %(days)d days",
                "Emptied %(count)d posts from the bin after %(days)d days",
                self.changed,
            ) % {"count": self.changed, "days": settings.PMD_RESTORE_DAYS}
        if self.undo:
            original = LOGGED[LOGGED[self.action].inverse]
            return original.summary(self.changed, self.requested, hashtag=self.hashtag, undo=True)
        return LOGGED[self.action].summary(
            self.changed, self.requested, hashtag=self.hashtag, value=self.value
        )

    def continues(
        self,
        action: str,
        hashtag: str,
        undo: bool,
        automatic: bool,
        job_id: uuid.UUID | None,
        created_at: datetime,
        value: str = "",
        actor: str = "",
    ) -> bool:
        """Whether an older entry is an earlier request of this same run: a
        chunk of the same job, or a request the page sent just before."""
        if self.job_id or job_id:
            return self.job_id == job_id
        return (self.action, self.hashtag, self.undo, self.automatic, self.value, self.actor) == (
            action,
            hashtag,
            undo,
            automatic,
            value,
            actor,
        ) and self.started_at - created_at <= RUN_GAP


def activity_recent(*, user: User, limit: int = 10) -> list[ActivityRun]:
    """The user's latest batch actions, newest first, requests of one chunked
    run merged into one line. One query."""
    entries = list(
        ActivityEntry.objects.filter(user=user)
        .order_by("-created_at", "-id")
        .annotate(
            requested=JsonArrayLength("post_ids"),
            undone=Exists(ActivityEntry.objects.filter(undo_of=OuterRef("pk"))),
        )
        .values_list(
            "pk",
            "action",
            "hashtag",
            "undo_of_id",
            "automatic",
            "job_id",
            "count",
            "created_at",
            "requested",
            "undone",
            "value",
            "actor__username",
        )[:ENTRIES_READ]
    )
    runs: list[ActivityRun] = []
    for (
        pk, action, hashtag, undo_of_id, automatic, job_id, changed, created_at, requested, undone,
        value, actor,
    ) in entries:  # fmt: skip
        undo = undo_of_id is not None
        actor = actor or ""
        last = runs[-1] if runs else None
        if last and last.continues(
            action, hashtag, undo, automatic, job_id, created_at, value, actor
        ):
            last.changed += changed
            last.requested += requested
            last.started_at = created_at
            last.requests += 1
            last.entry_ids.append(pk)
            last.undone = last.undone or undone
        else:
            runs.append(
                ActivityRun(
                    action,
                    changed,
                    requested,
                    created_at,
                    created_at,
                    1,
                    hashtag,
                    undo,
                    automatic,
                    job_id,
                    [pk],
                    undone,
                    value,
                    actor,
                )
            )
    if len(entries) == ENTRIES_READ and len(runs) > 1:
        # The oldest run may go on past what was read: better left out than undercounted.
        runs.pop()
    runs = runs[:limit]
    # A job's line counts the whole job, however many chunks were read.
    jobs = {run.job_id for run in runs if run.job_id}
    if jobs:
        numbers = {
            pk: (total, changed)
            for pk, total, changed in Job.objects.filter(pk__in=jobs).values_list(
                "pk", "total", "changed"
            )
        }
        for run in runs:
            if run.job_id in numbers:
                run.requested, run.changed = numbers[run.job_id]
    return runs
