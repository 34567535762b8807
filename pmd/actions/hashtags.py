"""Add and remove one hashtag on each post, matched without regard to case
(pmd.hashtags says what a hashtag may be)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Case, CharField, F, Value, When
from django.db.models.functions import Concat
from django.utils.translation import ngettext

from pmd.actions.base import ROW_FIELDS, ActionCounts, BulkAction
from pmd.hashtags import hashtag_key, hashtags_have, hashtags_without
from posts.models import Post


class HashtagAction(BulkAction):
    """One hashtag, matched without regard to case, on each post."""

    takes_hashtag = True
    row_fields = (*ROW_FIELDS, "hashtags")

    def subject(self, hashtag: str) -> str:
        # Matched as the actions match it: a later "strasse" is the same
        # subject as "straße".
        return f"#{hashtag_key(hashtag)}"


class AddHashtag(HashtagAction):
    name = "add_hashtag"
    label = "Add hashtag"
    aria_label = "Add a hashtag to the selected posts"
    icon = "#"
    done_verb = "Added"
    gerund = "adding"
    participle = "tagged"
    preposition = "to"
    inverse = "remove_hashtag"

    def _with_it(self, hashtags: str) -> str:
        # What apply() writes: the same text the database's concatenation makes.
        return f"{hashtags} {self.hashtag}" if hashtags else self.hashtag

    def plan(self, rows: list[Any]) -> tuple[list[Any], list[int]]:
        limit = settings.PMD_HASHTAG_LIMIT
        room = Post._meta.get_field("hashtags").max_length
        assert room is not None  # a CharField always has one
        to_change, full = [], []
        for row in rows:
            if hashtags_have(row.hashtags, self.hashtag):
                continue
            # Posts written before the cap, or with long hashtags, may have
            # more words or characters than a new hashtag leaves room for.
            if len(row.hashtags.split()) >= limit or len(self._with_it(row.hashtags)) > room:
                full.append(row.id)
            else:
                to_change.append(row)
        return to_change, full

    def apply(self, rows: list[Any], now: datetime) -> None:
        # Set-based: every changed post gets the same words appended, so one
        # expression serves all of them, whatever their number.
        Post.objects.filter(pk__in=[row.id for row in rows]).update(
            hashtags=Case(
                When(hashtags="", then=Value(self.hashtag)),
                default=Concat(F("hashtags"), Value(f" {self.hashtag}")),
                output_field=CharField(),
            )
        )

    def message(self, counts: ActionCounts) -> str:
        tag = f"#{self.hashtag}"
        full = len(counts.full_ids)
        already = counts.requested - counts.changed - full
        values = {"tag": tag, "count": counts.changed, "already": already}
        if counts.changed:
            text = (
                ngettext(
                    "Added %(tag)s to %(count)d post",
                    "Added %(tag)s to %(count)d posts",
                    counts.changed,
                )
                % values
            )
            if already:
                text += (
                    ngettext(
                        " (%(already)d already had it)", " (%(already)d already had it)", already
                    )
                    % values
                )
            text += "."
        elif already:
            text = (
                ngettext(
                    "The post already has %(tag)s; nothing changed.",
                    "All %(already)d posts already have %(tag)s; nothing changed.",
                    already,
                )
                % values
            )
            if full:
                text = (
                    ngettext(
                        "%(already)d post already has %(tag)s.",
                        "%(already)d posts already have %(tag)s.",
                        already,
                    )
                    % values
                )
        else:
            text = "Nothing changed."
        if full:
            text += ngettext(
                " %(count)d post has no room for another hashtag (at most %(limit)d per post), "
                "so %(tag)s was not added to it.",
                " %(count)d posts have no room for another hashtag (at most %(limit)d per "
                "post), so %(tag)s was not added to them.",
                full,
            ) % {"count": full, "limit": settings.PMD_HASHTAG_LIMIT, "tag": tag}
        return text.strip()


class RemoveHashtag(HashtagAction):
    name = "remove_hashtag"
    label = "Remove hashtag"
    aria_label = "Remove a hashtag from the selected posts"
    icon = "#"
    done_verb = "Removed"
    gerund = "removing"
    participle = "untagged"
    preposition = "from"
    inverse = "add_hashtag"

    def needs_change(self, row: Any) -> bool:
        return hashtags_have(row.hashtags, self.hashtag)

    def apply(self, rows: list[Any], now: datetime) -> None:
        # Each post keeps its own other hashtags: one UPDATE, a CASE per post.
        Post.objects.filter(pk__in=[row.id for row in rows]).update(
            hashtags=Case(
                *(
                    When(pk=row.id, then=Value(hashtags_without(row.hashtags, self.hashtag)))
                    for row in rows
                ),
                default=F("hashtags"),
                output_field=CharField(),
            )
        )

    def message(self, counts: ActionCounts) -> str:
        missing = counts.requested - counts.changed
        values = {"tag": f"#{self.hashtag}", "count": counts.changed, "missing": missing}
        if not counts.changed:
            return (
                ngettext(
                    "The post does not have %(tag)s; nothing changed.",
                    "None of the %(missing)d posts have %(tag)s; nothing changed.",
                    missing,
                )
                % values
            )
        text = (
            ngettext(
                "Removed %(tag)s from %(count)d post",
                "Removed %(tag)s from %(count)d posts",
                counts.changed,
            )
            % values
        )
        if missing:
            text += (
                ngettext(
                    " (%(missing)d did not have it)", " (%(missing)d did not have it)", missing
                )
                % values
            )
        return text + "."
