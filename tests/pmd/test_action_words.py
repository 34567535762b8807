"""The registry is the one source of the batch actions' words: complete for
every action, plain data the page can render and hand to its scripts, and
(while the page still spells them itself) the same words the page shows."""

from __future__ import annotations

import json
import re

from django.utils.html import json_script

from pmd.actions.registry import ACTIONS, action_choices, action_words
from pmd.models import ActivityEntry
from posts.public_ids import user_sqid
from testing.live import ROOT

TEXT = ("name", "label", "button_label", "aria_label", "icon", "doing", "done", "past", "gerund")
FLAGS = ("serious", "needs_confirmation", "takes_hashtag", "opens_dialog", "undoable")


def test_every_action_has_every_word():
    words = action_words()
    assert list(words) == list(ACTIONS)
    for name, word in words.items():
        assert set(word) == {*TEXT, *FLAGS, "views", "to"}, name
        for key in TEXT:
            assert isinstance(word[key], str) and word[key].strip(), (name, key)
        for key in FLAGS:
            assert isinstance(word[key], bool), (name, key)
        assert word["views"] and set(word["views"]) <= {"live", "deleted"}, name
        # A hashtag goes "to" or "from" the posts; the other actions take none.
        assert bool(word["to"]) is word["takes_hashtag"], name
        assert word["doing"].lower() == word["gerund"]


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
        "takes_hashtag": False,
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


def test_they_survive_json_script():
    rendered = json_script(action_words(), "pmd-action-words")
    body = re.fullmatch(
        r'<script id="pmd-action-words" type="application/json">(.*)</script>', rendered
    )
    assert body and json.loads(body.group(1)) == action_words()


def test_the_activity_log_takes_its_choices_from_the_registry():
    assert ActivityEntry._meta.get_field("action").choices == action_choices()
    assert [value for value, _ in action_choices()] == list(ACTIONS)
    assert ActivityEntry.Action.ADD_HASHTAG.label == "Add hashtag"


def test_the_dashboard_hands_the_words_to_its_template(owner, owner_client):
    response = owner_client.get(f"/u/{user_sqid(owner.pk)}/posts")
    assert response.context["action_words"] == action_words()


def test_the_page_and_its_scripts_say_what_the_registry_says():
    """Until the page renders its buttons and its scripts' words from the
    registry, the words it spells itself must be the registry's."""
    words = action_words()
    page = (ROOT / "templates" / "pmd" / "dashboard.html").read_text()
    buttons = re.findall(
        r'data-bulk="(\w+)"[^>]*><span aria-hidden="true">([^<]+)</span> ([^<]+)</button>', page
    )
    for name, icon, label in buttons:
        assert (icon, label) == (words[name]["icon"], words[name]["button_label"]), name
    script = (ROOT / "static" / "js" / "pmd-actions.js").read_text()
    verbs = dict(re.findall(r"^\s+(\w+): (\{ doing: [^}]*\}),$", script, re.MULTILINE))
    for name, table in verbs.items():
        spelled = dict(re.findall(r'(\w+): "([^"]*)"', table))
        assert spelled == {key: words[name][key] for key in spelled}, name
    # Nothing to compare once the page reads the registry; until then, all of them.
    assert len(buttons) in (0, len(words)) and len(verbs) in (0, len(words))
