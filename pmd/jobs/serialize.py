"""A job as the API and the `job_update` events show it, and its words."""

from __future__ import annotations

from typing import Any

from django.utils.translation import ngettext

from pmd.actions.registry import ACTIONS
from pmd.models import Job

# The words of a reason a post was skipped, by the key the actions give it.
SKIP_WORDS = {
    "not_yours": "not yours or gone",
    "playlist": "playlists",
    "deleted": "deleted",
    "not_deleted": "not in Recently deleted",
    "too_old": "deleted too long ago",
    "no_room": "no room for another hashtag",
    "changed_since": "changed since",
    "already_undone": "already undone",
}


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def job_message(job: Job) -> str:
    """ "Hid 9,872 of 10,000 posts; 128 skipped (deleted)." and the like."""
    action = ACTIONS[job.action]
    worked = job.done + job.skipped + job.failed
    if job.undo_of_id:
        text = ACTIONS[action.inverse].summary(
            job.changed, job.total, hashtag=job.hashtag, undo=True
        )
    else:
        text = action.summary(
            job.changed, job.total, hashtag=job.hashtag, value=job.params.get("license") or ""
        )
    if job.skipped:
        reasons = ", ".join(
            f"{count:,} {SKIP_WORDS.get(key, key)}" for key, count in job.skip_reasons.items()
        )
        text += ngettext(
            "; %(count)s skipped (%(why)s)", "; %(count)s skipped (%(why)s)", job.skipped
        ) % {
            "count": f"{job.skipped:,}",
            "why": reasons,
        }
    if job.failed:
        text += ngettext(
            "; %(count)s could not be changed (a database error)",
            "; %(count)s could not be changed (a database error)",
            job.failed,
        ) % {"count": f"{job.failed:,}"}
    if job.status == Job.Status.CANCELLED:
        text += f"; cancelled after {worked:,} of {job.total:,}"
    return text + "."


def job_undoable(job: Job) -> bool:
    """Whether an undo of `job` may be asked for (not whether it is still in
    time: pmd.jobs.service says that)."""
    if not (job.finished and job.changed and ACTIONS[job.action].undoable) or job.undo_of_id:
        return False
    # Annotated by the selectors that read many jobs; one query otherwise.
    undone = getattr(job, "has_undo", None)
    if undone is None:
        undone = Job.objects.filter(undo_of=job).exists()
    return not undone


def job_item(job: Job) -> dict[str, Any]:
    return {
        "id": str(job.pk),
        "action": job.action,
        "hashtag": job.hashtag or None,
        "license": job.params.get("license"),
        "status": job.status,
        "total": job.total,
        "done": job.done,
        "changed": job.changed,
        "skipped": job.skipped,
        "failed": job.failed,
        "skip_reasons": [
            {"reason": key, "count": count, "words": SKIP_WORDS.get(key, key)}
            for key, count in job.skip_reasons.items()
        ],
        "cancel_requested": job.cancel_requested,
        "undo_of": str(job.undo_of_id) if job.undo_of_id else None,
        "undoable": job_undoable(job),
        "created_at": _iso(job.created_at),
        "started_at": _iso(job.started_at),
        "finished_at": _iso(job.finished_at),
        "activity_id": job.activity_id,
        "message": job_message(job),
    }
