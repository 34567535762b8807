"""The registry is the one source of the batch actions' words: complete for
every action, plain data the page renders as its buttons and hands to its
scripts."""

from __future__ import annotations

import json
import re

from django.utils.html import json_script

from pmd.actions.registry import ACTIONS, LOGGED, action_choices, action_words
from pmd.models import ActivityEntry
from posts.public_ids import user_sqid

TEXT = ("name", "label", "button_label", "aria_label", "icon", "doing", "done", "past", "gerund")
FLAGS = (
    "serious",
    "needs_confirmation",
    "takes_hashtag",
    "takes_license",
    "opens_dialog",
    "undoable",
)


def test_every_action_has_every_word():
    words = action_words()
    assert list(words) == list(ACTIONS)
    for name, word in words.items():
        assert set(word) == {*TEXT, *FLAGS, "views", "to", "inverse"}, name
        for key in TEXT:
            assert isinstance(word[key], str) and word[key].strip(), (name, key)
        for key in FLAGS:
            assert isinstance(word[key], bool), (name, key)
        assert word["views"] and set(word["views"]) <= {"live", "deleted"}, name
        # A hashtag goes "to" or "from" the posts; the other actions take none.
        assert bool(word["to"]) is word["takes_hashtag"], name
        assert word["doing"].lower() == word["gerund"]
        # An undo runs the inverse, whose own inverse is the action again.
        if word["undoable"]:
            assert words[word["inverse"]]["inverse"] == name, name


def test_the_words_read_as_the_page_says_them():
    words = action_words()
    assert words["hide"] | {"views": None} == {
        "name": "hide",
        "label": "Hide",
        "button_label": "Hide",
        "aria_label": "Hide the selected posts from your profile",
        "icon": "🙈",
        "serious": False,
        "needs_confirmation": False,
        "undoable": True,
        "inverse": "unhide",
        "takes_hashtag": False,
        "takes_license": False,
        "opens_dialog": False,
        "views": None,
        "doing": "Hiding",
        "done": "hidden",
        "past": "Hid",
        "gerund": "hiding",
        "to": "",
    }
    assert words["add_hashtag"]["button_label"] == "Add hashtag…"
    assert words["delete"]["opens_dialog"] and words["delete"]["serious"]
    assert words["restore"]["views"] == ["deleted"]
    assert words["delete_forever"]["views"] == ["deleted"]
    assert words["delete_forever"]["undoable"] is False
    assert words["delete_forever"]["inverse"] == ""


def test_they_survive_json_script():
    rendered = json_script(action_words(), "pmd-action-words")
    body = re.fullmatch(
        r'<script id="pmd-action-words" type="application/json">(.*)</script>', rendered
    )
    assert body and json.loads(body.group(1)) == action_words()


def test_the_activity_log_takes_its_choices_from_the_registry():
    assert ActivityEntry._meta.get_field("action").choices == action_choices()
    # The batch actions first, then the operations with an API of their own.
    assert [value for value, _ in action_choices()] == list(LOGGED)
    assert list(LOGGED)[: len(ACTIONS)] == list(ACTIONS)
    assert ActivityEntry.Action.ADD_HASHTAG.label == "Add hashtag"


def test_the_dashboard_hands_the_words_to_its_template(owner, owner_client):
    response = owner_client.get(f"/u/{user_sqid(owner.pk)}/posts")
    assert response.context["action_words"] == action_words()


def test_the_dashboard_draws_its_buttons_and_hands_its_scripts_the_registry(owner, owner_client):
    """Every action's button, in the registry's order, with its icon and
    label; the ones of "Recently deleted" only start hidden. The scripts get
    the same words as JSON."""
    page = owner_client.get(f"/u/{user_sqid(owner.pk)}/posts").content.decode()
    words = action_words()
    buttons = re.findall(
        r'<button type="button" class="([^"]+)" data-bulk="(\w+)"([^>]*)>'
        r'<span aria-hidden="true">([^<]+)</span> ([^<]+)</button>',
        page,
    )
    assert [name for _, name, _, _, _ in buttons] == list(words)
    for classes, name, attributes, icon, label in buttons:
        word = words[name]
        assert (icon, label) == (word["icon"], word["button_label"]), name
        assert ("button-danger" in classes.split()) is word["serious"], name
        assert ('aria-haspopup="dialog"' in attributes) is word["opens_dialog"], name
        assert (" hidden" in attributes) is ("live" not in word["views"]), name
    payload = re.search(r'<script id="action-words" type="application/json">(.*?)</script>', page)
    assert payload and json.loads(payload.group(1)) == words
