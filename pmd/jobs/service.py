"""Asking for jobs, cancelling them and undoing them: the doors the API and
the page go through."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from pmd.actions.base import problem
from pmd.actions.registry import bulk_action
from pmd.actions.run import UNSET, with_hashtag, with_license
from pmd.actions.undo import too_old_message, undo_window
from pmd.errors import Conflict, Invalid, NotFound
from pmd.jobs.events import announce_after_commit
from pmd.jobs.queue import enqueue_job_after_commit
from pmd.jobs.serialize import job_undoable
from pmd.jobs.work import chunk_size
from pmd.models import ActivityEntry, Job
from pmd.selectors import PostQuery, matching_posts
from posts.models import Post

Status = Job.Status
# The jobs GET /api/pmd/jobs lists.
RECENT_JOBS = 20
BUSY = "Another of your jobs is still running; wait for it to finish or cancel it, then try again."


def job_post_ids(*, post_ids: Sequence[int] | None, query: PostQuery | None) -> list[int]:
    """The posts a job will work on, fixed now: the ids given (duplicates
    once, order kept), or every post the table's query matches, by id."""
    limit = settings.PMD_JOB_LIMIT
    if query is not None:
        ids = list(matching_posts(query).order_by("id").values_list("id", flat=True)[: limit + 1])
    else:
        ids = list(dict.fromkeys(post_ids or []))
    if not ids:
        raise Invalid("Select at least one post.")
    if len(ids) > limit:
        raise Invalid(f"At most {limit:,} posts per job; this one has {len(ids):,}.")
    return ids


def _check_owned(user: User, ids: list[int]) -> None:
    """Every id one of the user's posts (in whatever state: a post that cannot
    take the action when its chunk comes is skipped then, with its reason)."""
    owned = set(Post.objects.filter(owner=user, pk__in=ids).values_list("id", flat=True))
    strangers = [post_id for post_id in ids if post_id not in owned]
    if strangers:
        raise Invalid(
            problem(
                strangers,
                "Post %(ids)s is not one of your posts.",
                "Posts %(ids)s are not your posts.",
            )
            + " Nothing was changed."
        )


def job_create(
    *,
    user: User,
    action_name: str,
    post_ids: Sequence[int] | None = None,
    query: PostQuery | None = None,
    hashtag: str | None = None,
    license: object = UNSET,
) -> Job:
    """A queued job of `action_name` over the posts given or matched, its
    task enqueued after commit. Conflict while another of the user's jobs is
    queued or running. `license` as post_action_run takes it (set_license)."""
    action = with_license(with_hashtag(bulk_action(action_name), hashtag), license)
    ids = job_post_ids(post_ids=post_ids, query=query)
    if query is None:
        _check_owned(user, ids)
    job = Job(user=user, action=action.name, hashtag=action.hashtag, post_ids=ids, total=len(ids))
    if action.takes_license:
        # None (all rights reserved) is a value of its own: the key is always there.
        job.params = {"license": action.license}  # type: ignore[attr-defined]
    return _create(job)


def _create(job: Job) -> Job:
    job.params = {**job.params, "chunk": chunk_size()}
    try:
        with transaction.atomic():
            if Job.objects.filter(user=job.user, status__in=Job.UNFINISHED).exists():
                raise Conflict(BUSY)
            # The unique constraint settles two requests that pass the check together.
            job.save(force_insert=True)
            enqueue_job_after_commit(job.pk)
            announce_after_commit(job)
    except IntegrityError:
        raise Conflict(BUSY) from None
    return job


def get_owned_job(user: User, job_id: uuid.UUID | str) -> Job:
    job = Job.objects.defer("post_ids").filter(user=user, pk=job_id).first()
    if job is None:
        raise NotFound("You have no job with that id.")
    return job


def jobs_recent(user: User, limit: int = RECENT_JOBS) -> QuerySet[Job]:
    return (
        Job.objects.filter(user=user)
        .defer("post_ids")
        .annotate(has_undo=Exists(Job.objects.filter(undo_of=OuterRef("pk"))))
        .order_by("-created_at")[:limit]
    )


def job_running(user: User) -> Job | None:
    """The user's queued or running job, if any."""
    return Job.objects.defer("post_ids").filter(user=user, status__in=Job.UNFINISHED).first()


def job_cancel(*, user: User, job_id: uuid.UUID | str) -> Job:
    """Stop a job after its current chunk (a queued one at once). Conflict
    once it has finished."""
    with transaction.atomic():
        job = get_owned_job(user, job_id)
        job = Job.objects.select_for_update().defer("post_ids").get(pk=job.pk)
        if job.finished:
            raise Conflict(f"That job has already finished ({job.get_status_display().lower()}).")
        if job.status == Status.QUEUED:
            job.status = Status.CANCELLED
            job.finished_at = timezone.now()
        job.cancel_requested = True
        job.save(update_fields=["status", "finished_at", "cancel_requested"])
        announce_after_commit(job)
    return job


def job_undo(*, user: User, job_id: uuid.UUID | str) -> Job:
    """A job that undoes `job_id`, chunk by chunk: the inverse action on the
    posts each chunk changed, except those changed since."""
    job = get_owned_job(user, job_id)
    if job.undo_of_id:
        raise Invalid("An undo cannot be undone; run the action again instead.")
    if not job.finished:
        raise Conflict("That job is still running; cancel it or wait for it to finish first.")
    if job.finished_at and job.finished_at < timezone.now() - undo_window():
        raise Invalid(too_old_message("job"))
    if not job_undoable(job):
        action = bulk_action(job.action)
        if not action.undoable:
            raise Invalid(f"{action.label} cannot be undone: the posts are gone.")
        if not job.changed:
            raise Invalid("That job changed nothing, so there is nothing to undo.")
        raise Invalid("That job has already been undone.")
    inverse = bulk_action(bulk_action(job.action).inverse)
    undo = Job(user=user, action=inverse.name, hashtag=job.hashtag, undo_of=job, total=job.changed)
    return _create(undo)


def activity_job(*, user: User, activity_id: int) -> Job | None:
    """The job whose chunk `activity_id` is, if it is one: its undo is the job's."""
    job_id = (
        ActivityEntry.objects.filter(user=user, pk=activity_id, undo_of__isnull=True)
        .values_list("job_id", flat=True)
        .first()
    )
    return Job.objects.defer("post_ids").filter(pk=job_id).first() if job_id else None
