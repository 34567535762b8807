"""Bulk edit of titles, descriptions and licences, previewed before it is
written, and undone exactly.

    edit_spec        what the client sent, read once (EditSpec), or Invalid
    edit_preview     what the edit would do to up to PMD_ACTION_LIMIT posts:
                     counts, the posts that cannot take it and why, the first
                     before/after pairs, and a token; it writes nothing
    edit_apply       the previewed edit, given its token: a post whose title,
                     description or licence changed since the preview is
                     skipped and counted
    posts_edit       the edit itself on (owner, ids, spec), for any caller
                     that has no preview (a background job's chunk)

The preview and the apply plan each post with the same code (pmd.edits), and
the token carries a fingerprint of each post's values as the preview saw
them, so apply writes exactly what the preview showed or skips the post. The
audit entry keeps every changed post's values before and after: the undo
(POST action/undo) puts back byte-identical text on the posts that still hold
what the edit wrote (pmd.actions.undo).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core import signing
from django.db import transaction
from django.utils.translation import ngettext

from pmd.actions.base import ActionCounts, problem
from pmd.actions.registry import LOGGED
from pmd.actions.run import record_action
from pmd.actions.values import COLUMNS, license_parse, write_values
from pmd.edits import EditRefused, PostInvalid, TextEdit, text_edit
from pmd.errors import Invalid
from posts.models import Post

# The fields an edit may change.
EDITABLE = ("title", "description", "license")
SAMPLES = 50
TOKEN_SALT = "pmd.bulk_edit.preview"
# A preview older than this is read again before anything is written.
TOKEN_MAX_AGE_SECONDS = 3600
CHANGED_SINCE = "Changed since the preview; preview again to include it."
_UNSET = object()


@dataclass(frozen=True)
class EditSpec:
    """An edit as sent: each field's edit, or None to leave it alone; the
    licence (an identifier, or None for all rights reserved) when `sets_license`."""

    title: TextEdit | None = None
    description: TextEdit | None = None
    sets_license: bool = False
    license: str | None = None
    # What was sent, canonical: a preview's token is good for this edit only.
    digest: str = field(default="", compare=False)

    @property
    def fields(self) -> list[str]:
        return [
            name
            for name, wanted in (
                ("title", self.title),
                ("description", self.description),
                ("license", self.sets_license),
            )
            if wanted
        ]


def edit_spec(
    *, title: object = None, description: object = None, license: object = _UNSET
) -> EditSpec:
    """The edit the client sent (title and description as {op, value, find?,
    ignore_case?}, license an identifier or null), or Invalid."""
    edits = {}
    for name, data in (("title", title), ("description", description)):
        if data is None:
            continue
        try:
            edits[name] = text_edit(data, field_name=name)
        except EditRefused as error:
            raise Invalid(str(error)) from None
    sets_license = license is not _UNSET
    if not edits and not sets_license:
        raise Invalid("Say what to change: title, description or license.")
    identifier = license_parse(license) if sets_license else None
    sent = {"title": title, "description": description, "license": [identifier]}
    if not sets_license:
        sent["license"] = None
    digest = hashlib.blake2b(
        json.dumps(sent, sort_keys=True, ensure_ascii=False).encode(), digest_size=16
    ).hexdigest()
    return EditSpec(edits.get("title"), edits.get("description"), sets_license, identifier, digest)


def fingerprint(row: Any) -> str:
    """What a post's editable values were, in 12 characters."""
    raw = json.dumps([row.title, row.description, row.license_id], ensure_ascii=False)
    return hashlib.blake2b(raw.encode(), digest_size=6).hexdigest()


@dataclass(frozen=True)
class Plan:
    # {post id: {field: [before, after]}} of the posts that change.
    changes: dict[int, dict[str, list[Any]]]
    unchanged: list[int]
    # (post id, reason) of the posts that cannot take the edit.
    invalid: list[tuple[int, str]]


def plan_edit(rows: Sequence[Any], spec: EditSpec) -> Plan:
    changes: dict[int, dict[str, list[Any]]] = {}
    unchanged: list[int] = []
    invalid: list[tuple[int, str]] = []
    for row in rows:
        try:
            new = {}
            for name, edit in (("title", spec.title), ("description", spec.description)):
                if edit is not None:
                    new[name] = edit.apply(getattr(row, name))
            if spec.sets_license:
                new["license"] = spec.license  # type: ignore[assignment]  # None clears it
        except PostInvalid as error:
            invalid.append((row.id, str(error)))
            continue
        changed = {
            name: [getattr(row, COLUMNS[name]), after]
            for name, after in new.items()
            if getattr(row, COLUMNS[name]) != after
        }
        if changed:
            changes[row.id] = changed
        else:
            unchanged.append(row.id)
    return Plan(changes, unchanged, invalid)


def _rows(owner: User, post_ids: Sequence[int], *, lock: bool) -> list[Any]:
    """The owner's live artworks `post_ids`, in the order asked for, or
    Invalid naming the ids that are not (another user's and unknown ids alike)."""
    posts = Post.objects.filter(owner=owner, pk__in=post_ids).live_artworks()
    if lock:
        # In id order, as the batch actions lock: overlapping runs queue.
        posts = posts.select_for_update().order_by("id")
    columns = [COLUMNS[name] for name in EDITABLE]
    found = {row.id: row for row in posts.values_list("id", *columns, named=True)}
    missing = [post_id for post_id in post_ids if post_id not in found]
    if missing:
        raise Invalid(
            problem(
                missing,
                "Post %(ids)s is not one of your posts, or is deleted. Nothing was changed.",
                "Posts %(ids)s are not your posts, or are deleted. Nothing was changed.",
            )
        )
    return [found[post_id] for post_id in post_ids]


def _checked_ids(post_ids: Sequence[int]) -> list[int]:
    post_ids = list(dict.fromkeys(post_ids))
    if not post_ids:
        raise Invalid("Select at least one post.")
    limit = settings.PMD_ACTION_LIMIT
    if len(post_ids) > limit:
        raise Invalid(f"At most {limit} posts per request; this one has {len(post_ids)}.")
    return post_ids


def edit_current(*, owner: User, post_ids: Sequence[int]) -> dict[str, Any]:
    """Each editable field's value across the posts: {"value", "mixed"}, the
    value being the first post's. The edit dialog shows "Mixed" for a field
    whose values differ, and never writes a field left as it is."""
    post_ids = list(dict.fromkeys(post_ids))
    rows = _rows(owner, post_ids, lock=False)
    current = {}
    for name in EDITABLE:
        column = COLUMNS[name]
        seen = {getattr(row, column) for row in rows}
        current[name] = {"value": getattr(rows[0], column), "mixed": len(seen) > 1}
    return current


@dataclass(frozen=True)
class Preview:
    changed: int
    unchanged: int
    invalid: list[dict[str, Any]]
    samples: list[dict[str, Any]]
    token: str


def edit_preview(*, owner: User, post_ids: Sequence[int], spec: EditSpec) -> Preview:
    """What the edit would do to each post; nothing is written."""
    rows = _rows(owner, _checked_ids(post_ids), lock=False)
    plan = plan_edit(rows, spec)
    samples = [
        {"id": post_id, "field": name, "before": before, "after": after}
        for post_id, values in plan.changes.items()
        for name, (before, after) in values.items()
    ][:SAMPLES]
    token = signing.dumps(
        {"u": owner.pk, "s": spec.digest, "f": {str(row.id): fingerprint(row) for row in rows}},
        salt=TOKEN_SALT,
        compress=True,
    )
    return Preview(
        changed=len(plan.changes),
        unchanged=len(plan.unchanged),
        invalid=[{"id": post_id, "reason": reason} for post_id, reason in plan.invalid],
        samples=samples,
        token=token,
    )


@dataclass(frozen=True)
class EditResult:
    affected_count: int
    skipped: list[dict[str, Any]]
    message: str
    activity_id: int
    changed_ids: list[int]


def posts_edit(
    *,
    owner: User,
    post_ids: Sequence[int],
    spec: EditSpec,
    expected: Mapping[int, str] | None = None,
    actor: User | None = None,
) -> EditResult:
    """Edit up to PMD_ACTION_LIMIT of the owner's posts, with its audit entry,
    in one transaction: one locking read, one UPDATE, one INSERT. Posts that
    cannot take the edit are skipped with their reason; with `expected` (each
    post's fingerprint as a preview saw it), so is a post changed since."""
    post_ids = _checked_ids(post_ids)
    skipped: list[dict[str, Any]] = []
    with transaction.atomic():
        rows = _rows(owner, post_ids, lock=True)
        if expected is not None:
            current = []
            for row in rows:
                if expected.get(row.id) == fingerprint(row):
                    current.append(row)
                else:
                    skipped.append({"id": row.id, "reason": CHANGED_SINCE})
            rows = current
        plan = plan_edit(rows, spec)
        skipped += [{"id": post_id, "reason": reason} for post_id, reason in plan.invalid]
        if plan.changes:
            write_values(
                {
                    post_id: {name: after for name, (_, after) in values.items()}
                    for post_id, values in plan.changes.items()
                }
            )
        changed_ids = tuple(post_id for post_id in post_ids if post_id in plan.changes)
        counts = ActionCounts(requested=len(post_ids), changed_ids=changed_ids, values=plan.changes)
        entry = record_action(owner, LOGGED["edit"], post_ids, counts, actor=actor)
    return EditResult(
        affected_count=len(changed_ids),
        skipped=sorted(skipped, key=lambda item: post_ids.index(item["id"])),
        message=edit_message(len(changed_ids), len(plan.unchanged), len(skipped)),
        activity_id=entry.pk,
        changed_ids=list(changed_ids),
    )


def edit_apply(
    *,
    owner: User,
    post_ids: Sequence[int],
    spec: EditSpec,
    token: str,
    actor: User | None = None,
) -> EditResult:
    """The edit a preview showed: `token` is that preview's, for the same
    posts and the same edit; posts changed since are skipped and counted."""
    post_ids = _checked_ids(post_ids)
    try:
        seen = signing.loads(token, salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE_SECONDS)
    except signing.SignatureExpired:
        raise Invalid("That preview is more than an hour old; preview again.") from None
    except (signing.BadSignature, ValueError, TypeError):
        raise Invalid("token is not a preview's token; preview the edit first.") from None
    if not isinstance(seen, dict) or seen.get("u") != owner.pk or seen.get("s") != spec.digest:
        raise Invalid("That preview was of another edit; preview this one first.")
    fingerprints = seen.get("f")
    if not isinstance(fingerprints, dict) or set(fingerprints) != {str(i) for i in post_ids}:
        raise Invalid("That preview was of other posts; preview this selection first.")
    return posts_edit(
        owner=owner,
        post_ids=post_ids,
        spec=spec,
        expected={int(post_id): value for post_id, value in fingerprints.items()},
        actor=actor,
    )


def edit_message(changed: int, unchanged: int, skipped: int) -> str:
    text = ngettext("%(count)d post edited.", "%(count)d posts edited.", changed) % {
        "count": changed
    }
    if unchanged:
        text += ngettext(
            " %(count)d needed no change.", " %(count)d needed no change.", unchanged
        ) % {"count": unchanged}
    if skipped:
        text += ngettext(
            " %(count)d was skipped (see why in skipped).",
            " %(count)d were skipped (see why in skipped).",
            skipped,
        ) % {"count": skipped}
    return text
