"""Hide and unhide: whether the owner shows a post on their profile.

The owner's own flag only: a moderator's hide is not the owner's to lift.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils.translation import ngettext

from pmd.actions.base import ActionCounts, BulkAction


class HidePosts(BulkAction):
    name = "hide"
    label = "Hide"
    aria_label = "Hide the selected posts from your profile"
    icon = "🙈"
    done_verb = "Hid"
    gerund = "hiding"
    participle = "hidden"
    inverse = "unhide"

    def subject(self, hashtag: str) -> str:
        return "hidden"

    def needs_change(self, row: Any) -> bool:
        return not row.hidden_by_user

    def changes(self, now: datetime) -> dict[str, Any]:
        return {"hidden_by_user": True}

    def message(self, counts: ActionCounts) -> str:
        already = counts.requested - counts.changed
        if not counts.changed:
            return ngettext(
                "The post was already hidden; nothing changed.",
                "All %(count)d posts were already hidden; nothing changed.",
                already,
            ) % {"count": already}
        text = ngettext("%(count)d post hidden", "%(count)d posts hidden", counts.changed) % {
            "count": counts.changed
        }
        if already:
            text += ngettext(
                " (%(count)d was already hidden)", " (%(count)d were already hidden)", already
            ) % {"count": already}
        return text + "."


class UnhidePosts(BulkAction):
    name = "unhide"
    label = "Unhide"
    aria_label = "Show the selected posts on your profile again"
    icon = "👁️"
    done_verb = "Unhid"
    gerund = "unhiding"
    participle = "unhidden"
    inverse = "hide"

    def subject(self, hashtag: str) -> str:
        return "hidden"

    def needs_change(self, row: Any) -> bool:
        return row.hidden_by_user

    def changes(self, now: datetime) -> dict[str, Any]:
        # Only the owner's own flag: a moderator's hide is not the owner's to lift.
        return {"hidden_by_user": False}

    def stays_hidden(self, row: Any) -> bool:
        return row.hidden_by_mod

    def message(self, counts: ActionCounts) -> str:
        not_hidden = counts.requested - counts.changed
        if not counts.changed:
            text = ngettext(
                "The post was not hidden; nothing changed.",
                "None of the %(count)d posts were hidden; nothing changed.",
                not_hidden,
            ) % {"count": not_hidden}
        else:
            text = ngettext(
                "%(count)d post unhidden", "%(count)d posts unhidden", counts.changed
            ) % {"count": counts.changed}
            if not_hidden:
                text += ngettext(
                    " (%(count)d was not hidden)", " (%(count)d were not hidden)", not_hidden
                ) % {"count": not_hidden}
            text += "."
        if counts.still_hidden:
            text += ngettext(
                " %(count)d stays hidden by a moderator.",
                " %(count)d stay hidden by a moderator.",
                counts.still_hidden,
            ) % {"count": counts.still_hidden}
        return text
