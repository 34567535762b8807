from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from pmd.actions.registry import action_choices


class InvalidTransition(Exception):
    """A status change the download request's state machine does not allow."""


# The most parts one split of a download may have: more than any
# day's allowance, and a bound on what a client can claim.
MAX_DOWNLOAD_PARTS = 100


class BatchDownloadRequest(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PROCESSING = "processing", "Processing"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"
        EXPIRED = "expired", "Expired"

    # The only moves there are: target -> the statuses it may come from.
    ALLOWED_SOURCES = {
        Status.PROCESSING: (Status.PENDING,),
        Status.READY: (Status.PROCESSING,),
        Status.FAILED: (Status.PENDING, Status.PROCESSING),
        Status.EXPIRED: (Status.READY,),
    }

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="download_requests"
    )
    # Who asked, when not the owner: support inside the owner's dashboard.
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="download_requests_for_others",
        help_text="Support staff who asked in the owner's dashboard; empty: the owner.",
    )
    # The requested posts, in the order they were asked for.
    post_ids = models.JSONField()
    include_comments = models.BooleanField(default=False)
    include_reactions = models.BooleanField(default=False)
    send_email = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    error_message = models.CharField(max_length=500, blank=True)
    file_path = models.CharField(max_length=255, blank=True, help_text="Relative to the vault.")
    file_size_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    artwork_count = models.PositiveIntegerField()
    progress = models.PositiveIntegerField(default=0, help_text="Artworks done.")
    # Part `part_number` of `part_count` when the page split a selection of
    # more than PMD_BDR_LIMIT posts into several requests; both
    # null for a request on its own. Only a label: each part is a normal
    # request under the same limits.
    part_number = models.PositiveSmallIntegerField(null=True, blank=True)
    part_count = models.PositiveSmallIntegerField(null=True, blank=True)
    # A retry of a failed request is a new request that does not use up
    # another of the day's requests.
    retry_of = models.OneToOneField(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="retried_by"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # The lease of the run building it: started_at is the run's token (a new
    # claim changes it), heartbeat_at is renewed every half second while the
    # run lives (pmd.downloads.build); a request whose heartbeat is older than
    # PMD_BDR_LEASE_SECONDS is taken over.
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "batch download request"
        indexes = [
            models.Index(fields=["user", "-created_at"], name="bdr_user_newest"),
            models.Index(
                fields=["expires_at"],
                name="bdr_ready_expiry",
                condition=models.Q(status="ready"),
            ),
            models.Index(
                fields=["status", "created_at"],
                name="bdr_unfinished",
                condition=models.Q(status__in=["pending", "processing"]),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                # IS NOT NULL spelled out: a CHECK that comes out NULL passes.
                condition=models.Q(part_number__isnull=True, part_count__isnull=True)
                | models.Q(
                    part_number__isnull=False,
                    part_count__isnull=False,
                    part_number__gte=1,
                    part_number__lte=models.F("part_count"),
                    part_count__lte=MAX_DOWNLOAD_PARTS,
                ),
                name="bdr_part_within_count",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.artwork_count} artworks for {self.user} ({self.status})"

    @property
    def part_label(self) -> str:
        """The part of a split ("Part 2 of 5"), or "" for a request on its own."""
        return f"Part {self.part_number} of {self.part_count}" if self.part_number else ""

    def transition(self, to: Status, **fields) -> None:
        """Move to status `to`, saving `fields` with it, or raise InvalidTransition.

        One conditional UPDATE: when two processes race for the same move,
        exactly one wins and the other gets InvalidTransition.
        """
        sources = self.ALLOWED_SOURCES.get(to)
        if sources is None or self.status not in sources:
            raise InvalidTransition(f"{self.status} -> {to} is not allowed")
        updated = (
            type(self).objects.filter(pk=self.pk, status__in=sources).update(status=to, **fields)
        )
        if updated != 1:
            current = type(self).objects.filter(pk=self.pk).values_list("status", flat=True)
            raise InvalidTransition(
                f"{self.status} -> {to} lost a race (now {current.first() or 'gone'})"
            )
        self.status = to
        for name, value in fields.items():
            setattr(self, name, value)

    @property
    def is_downloadable(self) -> bool:
        return (
            self.status == self.Status.READY
            and self.expires_at is not None
            and self.expires_at > timezone.now()
        )


class Job(models.Model):
    """A batch action over a set of posts fixed when it was asked for, worked
    through by a Celery task in chunks, each its own transaction with its own
    activity entry (pmd.jobs). An undo of a job is a job too (`undo_of`)."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"
        FAILED = "failed", "Failed"

    UNFINISHED = (Status.QUEUED, Status.RUNNING)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="jobs"
    )
    action = models.CharField(max_length=16, choices=action_choices())
    # The hashtag actions' hashtag, as stored; other parameters an action takes.
    hashtag = models.CharField(max_length=30, blank=True)
    params = models.JSONField(default=dict, blank=True)
    # The posts, fixed at creation, in the order they are worked through.
    post_ids = models.JSONField(default=list, blank=True)
    # An undo job works through the activity entries of the job it undoes.
    undo_of = models.OneToOneField(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="undone_by"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField()
    # Chunks committed; the next chunk to work on.
    position = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0, help_text="Posts worked on.")
    changed = models.PositiveIntegerField(default=0, help_text="Posts the job changed.")
    skipped = models.PositiveIntegerField(default=0, help_text="Posts that could not take it.")
    failed = models.PositiveIntegerField(default=0, help_text="Posts of chunks that failed.")
    # The entry of its first chunk: the handle POST /api/pmd/action/undo takes.
    activity = models.ForeignKey(
        "ActivityEntry", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Why posts were skipped: {reason: count}.
    skip_reasons = models.JSONField(default=dict, blank=True)
    cancel_requested = models.BooleanField(default=False)
    error_message = models.CharField(max_length=500, blank=True)
    # The run working on it: `lease` changes hands by compare-and-swap, and
    # every chunk commits only under the lease it was started with;
    # heartbeat_at is renewed with each chunk, and a job quiet for
    # PMD_BDR_LEASE_SECONDS is taken over (its worker died).
    lease = models.UUIDField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["user", "-created_at"], name="job_user_newest"),
            models.Index(
                fields=["status", "heartbeat_at"],
                name="job_unfinished",
                condition=models.Q(status__in=["queued", "running"]),
            ),
        ]
        constraints = [
            # One unfinished job per owner, however two requests race.
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(status__in=["queued", "running"]),
                name="job_one_unfinished_per_user",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action} of {self.total} posts for {self.user} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status not in self.UNFINISHED


class ActivityEntry(models.Model):
    """Audit trail of batch post actions (who did what to which posts, when),
    written in the same transaction as the action, for support staff. An
    entry is also the handle by which its action is undone: the undo is an
    entry of its own, pointing back with `undo_of`."""

    # The batch actions' names and labels, as the registry declares them.
    # (django-stubs types only literal members, not a list built at import.)
    Action = models.TextChoices(  # type: ignore[call-overload]
        "Action", [(name.upper(), (name, label)) for name, label in action_choices()]
    )

    # Whose posts: the dashboard's owner.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="pmd_activity"
    )
    # Who acted, when not the owner: support inside the owner's dashboard.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="pmd_acts_for_others",
        help_text="Support staff who acted in the owner's dashboard; empty: the owner.",
    )
    action = models.CharField(max_length=16, choices=Action.choices)
    # The hashtag actions' hashtag (lower case, without "#"); empty for the others.
    hashtag = models.CharField(max_length=30, blank=True)
    # What set_license set: the licence's identifier, empty for none (all rights reserved).
    value = models.CharField(max_length=64, blank=True)
    post_ids = models.JSONField(help_text="The posts asked for.")
    # Exactly the posts whose state this entry changed: what an undo reverses.
    changed_ids = models.JSONField(default=list, help_text="The posts the action changed.")
    count = models.PositiveIntegerField(help_text="Posts the action changed.")
    # Actions that write values (licence, titles, descriptions): each changed
    # post's {field: [before, after]}, so the undo puts back exactly what was there.
    changes = models.JSONField(
        default=dict, blank=True, help_text="Values before and after, per changed post."
    )
    # Done by the site on the owner's behalf (the bin emptied after
    # PMD_RESTORE_DAYS), not asked for by anyone.
    automatic = models.BooleanField(default=False)
    # A chunk of a job: the job, and the chunk's number (one entry per
    # chunk, so no chunk is ever applied twice).
    job = models.ForeignKey(
        Job, on_delete=models.SET_NULL, null=True, blank=True, related_name="entries"
    )
    chunk = models.PositiveIntegerField(null=True, blank=True)
    # One undo per entry: the unique key makes a second one fail even if
    # two requests race past the check.
    undo_of = models.OneToOneField(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="undone_by"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "activity entry"
        verbose_name_plural = "activity"
        permissions = [
            ("act_for_others", "Can act inside another user's dashboard (support)"),
        ]
        indexes = [models.Index(fields=["user", "-created_at"], name="activity_user_newest")]
        constraints = [
            models.UniqueConstraint(fields=["job", "chunk"], name="activity_one_entry_per_chunk")
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.action} {self.count}"


class SavedView(models.Model):
    """A named search of the table, kept for its user: the search, the
    filters, the sort and the page size, shown as a tab in `position` order."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views"
    )
    name = models.CharField(max_length=60)
    search = models.CharField(max_length=500, blank=True)
    visibility = models.CharField(max_length=8, default="all")
    file_format = models.CharField(max_length=8, default="all")
    # "all", "none" (all rights reserved) or a licence's identifier, as the table's filter.
    license = models.CharField(max_length=64, default="all")
    sort = models.CharField(max_length=16, default="uploaded")
    direction = models.CharField(max_length=4, default="desc")
    size = models.PositiveSmallIntegerField(default=32)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                models.functions.Lower("name"), "user", name="saved_view_name_once"
            ),
        ]
        indexes = [models.Index(fields=["user", "position", "id"], name="saved_view_tabs")]

    def __str__(self) -> str:
        return self.name
