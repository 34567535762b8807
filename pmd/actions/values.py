"""Actions that write values, which may differ from post to post before
them: the licence (set_license) here, titles and descriptions in
pmd.bulk_edit. Their audit entry keeps each changed post's values before and
after (ActivityEntry.changes), and their undo puts the old values back,
exactly as they were, on each post that still holds what the action wrote:
a post changed since (by anyone, anywhere) is left as it is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db import connection
from django.utils.translation import ngettext

from pmd.actions.base import ROW_FIELDS, ActionCounts, BulkAction
from pmd.errors import Invalid
from posts.models import License, Post

# Post field -> the column a row read and an UPDATE name.
COLUMNS = {
    "title": "title",
    "description": "description",
    "license": "license_id",
    "hashtags": "hashtags",
}
# A licence identifier as the API takes it: no longer than the column.
LICENSE_MAX_LENGTH: int = License._meta.get_field("identifier").max_length  # type: ignore[assignment]


def license_parse(value: object) -> str | None:
    """The identifier of a known licence, or None to clear it; Invalid otherwise."""
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise Invalid('license must be a licence identifier such as "CC-BY-4.0", or null.')
    # Exactly as SPDX writes it: no case folding, no trimming.
    text = value
    if len(text) > LICENSE_MAX_LENGTH or not License.objects.filter(identifier=text).exists():
        # Case-sensitive, as SPDX identifiers are written; the message lists
        # none, since the table is the admin's to extend.
        raise Invalid(f"Unknown licence {text[:LICENSE_MAX_LENGTH]!r}; use its SPDX identifier.")
    return text


def write_values(changes: Mapping[int, Mapping[str, Any]]) -> None:
    """One UPDATE giving each post its own new values, joined from a VALUES
    list: (id, then for each field whether this post changes it and to what).

    Not a CASE of one WHEN per post, as Django's Case would write it: for 128
    posts building those expressions cost more than the UPDATE itself, and
    the database then tried each WHEN on each row."""
    if not changes:
        return
    fields = sorted({name for values in changes.values() for name in values})
    table = connection.ops.quote_name(Post._meta.db_table)
    assignments = []
    for number, name in enumerate(fields):
        column = connection.ops.quote_name(COLUMNS[name])
        # VALUES names its columns column1, column2, … on PostgreSQL and SQLite alike.
        changes_it, value = f"v.column{2 + 2 * number}", f"v.column{3 + 2 * number}"
        assignments.append(
            f"{column} = CASE WHEN {changes_it} THEN {value} ELSE {table}.{column} END"
        )
    row = "(" + ", ".join(["%s"] * (1 + 2 * len(fields))) + ")"
    params: list[Any] = []
    for post_id, values in changes.items():
        params.append(post_id)
        for name in fields:
            params += [name in values, values.get(name)]
    sql = (
        f"UPDATE {table} SET {', '.join(assignments)} "
        f"FROM (VALUES {', '.join([row] * len(changes))}) AS v "
        f"WHERE {table}.{connection.ops.quote_name('id')} = v.column1"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def values_before_after(
    rows: Sequence[Any], new_values: Mapping[int, Mapping[str, Any]]
) -> dict[int, dict[str, list[Any]]]:
    """{post id: {field: [before, after]}} of the fields that change."""
    changes: dict[int, dict[str, list[Any]]] = {}
    for row in rows:
        for name, after in new_values.get(row.id, {}).items():
            before = getattr(row, COLUMNS[name])
            if before != after:
                changes.setdefault(row.id, {})[name] = [before, after]
    return changes


class ValueAction(BulkAction):
    """An action whose undo restores recorded values instead of running an inverse."""

    restores_values = True

    def subject(self, hashtag: str) -> str:
        # Undo compares values, not later entries: no subject is shared.
        return f"values:{self.name}"


class SetLicense(ValueAction):
    name = "set_license"
    label = "Set licence"
    aria_label = "Set the licence of the selected posts"
    icon = "©"
    done_verb = "Set the licence of"
    gerund = "setting the licence of"
    participle = "relicensed"
    inverse = "set_license"
    takes_license = True
    row_fields = (*ROW_FIELDS, "license_id")
    license: str | None = None

    def bind_license(self, identifier: str | None) -> SetLicense:
        bound = self.bind("")
        bound.license = identifier  # type: ignore[attr-defined]  # bind keeps the class
        return bound  # type: ignore[return-value]

    def needs_change(self, row: Any) -> bool:
        return row.license_id != self.license

    def apply(self, rows: list[Any], now: datetime) -> None:
        Post.objects.filter(pk__in=[row.id for row in rows]).update(license_id=self.license)

    def values(self, rows: list[Any]) -> dict[int, dict[str, list[Any]]]:
        return {row.id: {"license": [row.license_id, self.license]} for row in rows}

    def summary(
        self,
        changed: int,
        requested: int,
        *,
        hashtag: str = "",
        undo: bool = False,
        value: str = "",
    ) -> str:
        """ "Set the licence of 3 posts to CC-BY-4.0"; `value` is the
        identifier, "" for none."""
        text = super().summary(changed, requested, undo=undo)
        if undo:
            return text
        return f"{text} to {value or 'all rights reserved'}"

    def message(self, counts: ActionCounts) -> str:
        to = self.license or "all rights reserved"
        already = counts.requested - counts.changed
        values = {"count": counts.changed, "already": already, "to": to}
        if not counts.changed:
            return (
                ngettext(
                    "The post already had %(to)s; nothing changed.",
                    "All %(already)d posts already had %(to)s; nothing changed.",
                    already,
                )
                % values
            )
        text = (
            ngettext(
                "%(count)d post set to %(to)s", "%(count)d posts set to %(to)s", counts.changed
            )
            % values
        )
        if already:
            text += (
                ngettext(" (%(already)d already had it)", " (%(already)d already had it)", already)
                % values
            )
        return text + "."


class EditPosts(ValueAction):
    """The bulk edit of titles, descriptions and licences (pmd.bulk_edit):
    logged and undone as the actions are, but not one of POST action's."""

    name = "edit"
    label = "Edit"
    aria_label = "Edit the titles, descriptions or licence of the selected posts"
    icon = "✏️"
    done_verb = "Edited"
    gerund = "editing"
    participle = "edited"
    inverse = "edit"

    def message(self, counts: ActionCounts) -> str:
        return ngettext("%(count)d post edited.", "%(count)d posts edited.", counts.changed) % {
            "count": counts.changed
        }


class RenameHashtag(ValueAction):
    """The hashtag manager's rename (or merge) across all of the owner's
    posts (pmd.hashtag_manager); logged and undone as the actions are."""

    name = "rename_hashtag"
    label = "Rename hashtag"
    aria_label = "Rename a hashtag on all your posts"
    icon = "#"
    done_verb = "Renamed"
    gerund = "renaming"
    participle = "retagged"
    inverse = "rename_hashtag"

    def target(self, hashtag: str) -> str:
        return f"#{hashtag} on " if hashtag else ""

    def summary(
        self,
        changed: int,
        requested: int,
        *,
        hashtag: str = "",
        undo: bool = False,
        value: str = "",
    ) -> str:
        """ "Renamed #pixleart to #pixelart on 12 posts"."""
        if undo or not value:
            return super().summary(changed, requested, hashtag=hashtag, undo=undo)
        return ngettext(
            "Renamed #%(old)s to #%(new)s on %(count)d post",
            "Renamed #%(old)s to #%(new)s on %(count)d posts",
            changed,
        ) % {"old": hashtag, "new": value, "count": changed}

    def message(self, counts: ActionCounts) -> str:
        return self.summary(counts.changed, counts.requested, hashtag=self.hashtag) + "."


class DeleteHashtag(RenameHashtag):
    """The hashtag manager's "remove everywhere"."""

    name = "delete_hashtag"
    label = "Remove hashtag everywhere"
    aria_label = "Remove a hashtag from all your posts"
    done_verb = "Removed"
    gerund = "removing"
    participle = "untagged"
    inverse = "delete_hashtag"

    def target(self, hashtag: str) -> str:
        return f"#{hashtag} from " if hashtag else ""

    # Its entries record no new hashtag (value ""), so RenameHashtag's summary
    # reads "Removed #wip from 12 posts".
