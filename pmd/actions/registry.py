"""The registry: the one list of the batch actions, and the one source of
their names and words.

The API takes the names from here, the activity log's choices come from here
(pmd.models), and the page gets every word it shows from action_words():
its buttons, its progress ("Hiding… 3/5") and its toasts ("3 posts hidden").
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pmd.actions.base import BulkAction
from pmd.actions.bin import DeletePosts, DeletePostsForever, RestorePosts
from pmd.actions.hashtags import AddHashtag, RemoveHashtag
from pmd.actions.values import DeleteHashtag, EditPosts, RenameHashtag, SetLicense
from pmd.actions.visibility import HidePosts, UnhidePosts
from pmd.errors import Invalid


def _registry(actions: Iterable[BulkAction]) -> dict[str, BulkAction]:
    return {action.name: action for action in actions}


ACTIONS: dict[str, BulkAction] = _registry(
    [
        HidePosts(),
        UnhidePosts(),
        DeletePosts(),
        RestorePosts(),
        AddHashtag(),
        RemoveHashtag(),
        DeletePostsForever(),
        SetLicense(),
    ]
)
# Everything the activity log records and an undo reverses: the actions, and
# the operations with an API of their own (the bulk edit).
LOGGED: dict[str, BulkAction] = {
    **ACTIONS,
    **_registry([EditPosts(), RenameHashtag(), DeleteHashtag()]),
}
HASHTAG_ACTIONS = [name for name, action in ACTIONS.items() if action.takes_hashtag]


def bulk_action(name: object) -> BulkAction:
    """The registered action called `name`, or Invalid."""
    choices = ", ".join(ACTIONS)
    if not isinstance(name, str) or not name:
        raise Invalid(f"Say which action to run: one of {choices}.")
    action = ACTIONS.get(name)
    if action is None:
        raise Invalid(f"Unknown action {name[:40]!r}; use one of {choices}.")
    return action


def action_choices() -> list[tuple[str, str]]:
    """(name, label) of each logged operation, in the registry's order: the
    choices of the activity log's `action` (pmd.models.ActivityEntry)."""
    return [(name, action.label) for name, action in LOGGED.items()]


def action_words() -> dict[str, dict[str, Any]]:
    """Every word the page says about each action, as plain data a template
    renders and json_script hands to the page's scripts."""
    return {
        name: {
            "name": name,
            "label": action.label,
            # "…": the button asks for something (the hashtag) before it acts.
            "button_label": f"{action.label}…"
            if action.takes_hashtag or action.takes_license
            else action.label,
            "aria_label": action.aria_label,
            "icon": action.icon,
            "serious": action.serious,
            "needs_confirmation": action.needs_confirmation,
            "undoable": action.undoable,
            # What an undo runs ("unhide" for "hide"), so a job undoing a hide
            # can say "Undoing hiding"; "" for an action that cannot be undone.
            "inverse": action.inverse,
            "takes_hashtag": action.takes_hashtag,
            "takes_license": action.takes_license,
            # The button opens a dialog (a confirmation, the hashtag's field, the licences).
            "opens_dialog": action.needs_confirmation
            or action.takes_hashtag
            or action.takes_license,
            "views": list(action.views),
            # The page's scripts' words: "Hiding 3 posts", "3 posts hidden",
            # "Hid 3 posts", "Undid hiding 3 posts", "Added #pixel to 3 posts".
            "doing": action.gerund.capitalize(),
            "done": action.participle,
            "past": action.done_verb,
            "gerund": action.gerund,
            "to": action.preposition,
        }
        for name, action in ACTIONS.items()
    }
