"""Running a batch action: hide, unhide, delete, restore, add and remove a
hashtag on up to PMD_ACTION_LIMIT of the owner's posts in one request, with
its audit entry, in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction

from pmd.actions.base import ActionCounts, BulkAction
from pmd.actions.registry import HASHTAG_ACTIONS, bulk_action
from pmd.actions.values import license_parse
from pmd.errors import Invalid
from pmd.hashtags import BadHashtag, hashtag_parse
from pmd.models import ActivityEntry, Job


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


def with_hashtag(action: BulkAction, hashtag: object) -> BulkAction:
    """The action bound to the request's hashtag: required by the hashtag
    actions, refused by the others."""
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


# A request that sent no licence (null means "clear it").
UNSET = object()


def with_license(action: BulkAction, license: object) -> BulkAction:
    """set_license bound to the request's licence (required, null allowed);
    the other actions refuse one."""
    if not action.takes_license:
        if license is not UNSET:
            raise Invalid(f"Only set_license takes a licence; leave it out for {action.name}.")
        return action
    if license is UNSET:
        raise Invalid('set_license needs a licence, such as "CC-BY-4.0", or null to clear it.')
    return action.bind_license(license_parse(license))  # type: ignore[attr-defined]


def record_action(
    user: User,
    action: BulkAction,
    post_ids: Sequence[int],
    counts: ActionCounts,
    undo_of: ActivityEntry | None = None,
    value: str | None = None,
    actor: User | None = None,
    *,
    job: Job | None = None,
    chunk: int | None = None,
) -> ActivityEntry:
    entry = ActivityEntry.objects.create(
        user=user,
        actor=actor,
        action=action.name,
        hashtag=action.hashtag,
        value=(getattr(action, "license", None) or "") if value is None else value,
        post_ids=list(post_ids),
        changed_ids=list(counts.changed_ids),
        count=counts.changed,
        changes={str(post_id): values for post_id, values in counts.values.items()},
        undo_of=undo_of,
        job=job,
        chunk=chunk,
    )
    return entry


def action_result(
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
    user: User,
    action_name: str,
    post_ids: list[int],
    hashtag: str | None = None,
    license: object = UNSET,
    actor: User | None = None,
) -> ActionResult:
    """Run one batch action on at most PMD_ACTION_LIMIT of `user`'s posts.

    All or nothing: on any invalid id Invalid says which and nothing is
    written. The audit entry is written in the same transaction as the change.
    `affected_count` is the number of posts whose state changed: hide and
    unhide and the hashtag actions are idempotent, so posts already in the
    wanted state are counted as requested but not as affected, and the
    message says so. Posts with no room for another hashtag are not an
    error: the others get it, and those are named in `full_ids`.
    `license` (set_license only) is an identifier, or None to clear it.
    `actor` is support acting in the user's dashboard, recorded with the entry.
    """
    action = with_license(with_hashtag(bulk_action(action_name), hashtag), license)
    post_ids = list(dict.fromkeys(post_ids))
    if not post_ids:
        raise Invalid("Select at least one post.")
    limit = settings.PMD_ACTION_LIMIT
    if len(post_ids) > limit:
        raise Invalid(f"At most {limit} posts per request; this one has {len(post_ids)}.")
    with transaction.atomic():
        counts = action.execute(user, post_ids)
        entry = record_action(user, action, post_ids, counts, actor=actor)
    return action_result(action, counts, action.message(counts), entry)
