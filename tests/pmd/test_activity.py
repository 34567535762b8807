"""The owner's "recent activity" list: selector and partial."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pmd import activity
from pmd.actions.registry import ACTIONS
from pmd.actions.run import post_action_run
from pmd.activity import activity_recent
from pmd.models import ActivityEntry
from testing.factories import make_posts


def entry(user, action: str, count: int, requested: int, ago: timedelta, **fields) -> ActivityEntry:
    return ActivityEntry.objects.create(
        user=user,
        action=action,
        post_ids=list(range(1, requested + 1)),
        changed_ids=list(range(1, count + 1)),
        count=count,
        created_at=timezone.now() - ago,
        **fields,
    )


class TestActivityRecent:
    def test_it_merges_the_chunks_of_one_run_into_one_line(self, owner):
        entry(owner, "hide", 128, 128, timedelta(minutes=2, seconds=2))
        entry(owner, "hide", 128, 128, timedelta(minutes=2, seconds=1))
        entry(owner, "hide", 44, 44, timedelta(minutes=2))
        (run,) = activity_recent(user=owner)
        assert (run.action, run.changed, run.requested, run.requests) == ("hide", 300, 300, 3)
        assert run.text == "Hid 300 posts"

    def test_it_keeps_apart_other_actions_and_later_runs_newest_first(self, owner, other):
        entry(owner, "delete", 5, 5, timedelta(hours=3))
        entry(owner, "hide", 3, 5, timedelta(hours=2))
        entry(owner, "hide", 1, 1, timedelta(hours=1))
        entry(owner, "restore", 1, 1, timedelta(minutes=30))
        entry(owner, "unhide", 2, 2, timedelta(minutes=1))
        entry(other, "hide", 9, 9, timedelta(seconds=1))
        texts = [run.text for run in activity_recent(user=owner)]
        assert texts == [
            "Unhid 2 posts",
            "Restored 1 post",
            "Hid 1 post",
            "Hid 3 of 5 posts",
            "Deleted 5 posts",
        ]
        assert [run.text for run in activity_recent(user=owner, limit=2)] == texts[:2]

    def test_it_reads_once_and_leaves_out_a_run_that_may_go_on_past_the_read(
        self, owner, monkeypatch
    ):
        monkeypatch.setattr(activity, "ENTRIES_READ", 3)
        entry(owner, "delete", 10, 10, timedelta(hours=5))
        entry(owner, "hide", 7, 7, timedelta(hours=4, seconds=2))
        entry(owner, "hide", 7, 7, timedelta(hours=4, seconds=1))
        entry(owner, "unhide", 1, 1, timedelta(hours=1))
        with CaptureQueriesContext(connection) as captured:
            runs = activity_recent(user=owner)
        assert len(captured.captured_queries) == 1
        # The hide run was cut after 2 of its entries: partial, so left out.
        assert [run.text for run in runs] == ["Unhid 1 post"]

    def test_it_words_hashtag_runs_and_undos_and_keeps_them_apart(self, owner):
        hid = entry(owner, "hide", 5, 5, timedelta(minutes=5))
        entry(owner, "add_hashtag", 128, 128, timedelta(minutes=4, seconds=2), hashtag="pixel")
        entry(owner, "add_hashtag", 2, 44, timedelta(minutes=4, seconds=1), hashtag="pixel")
        # The same action with another hashtag is another run.
        entry(owner, "add_hashtag", 3, 3, timedelta(minutes=4), hashtag="fox")
        entry(owner, "remove_hashtag", 1, 1, timedelta(minutes=3), hashtag="fox")
        # An undo is "unhide" in the trail, but not an unhide run of its own making.
        entry(owner, "unhide", 1, 1, timedelta(minutes=2, seconds=1))
        entry(owner, "unhide", 4, 5, timedelta(minutes=2), undo_of=hid)
        entry(owner, "add_hashtag", 1, 1, timedelta(minutes=1), hashtag="fox")
        entry(owner, "remove_hashtag", 1, 1, timedelta(seconds=1), hashtag="fox", undo_of=None)
        texts = [run.text for run in activity_recent(user=owner)]
        assert texts == [
            "Removed #fox from 1 post",
            "Added #fox to 1 post",
            "Undid hiding 4 of 5 posts",
            "Unhid 1 post",
            "Removed #fox from 1 post",
            "Added #fox to 3 posts",
            "Added #pixel to 130 of 172 posts",
            "Hid 5 posts",
        ]

    def test_it_words_the_undo_of_each_action(self, owner):
        for action, hashtag in (
            ("hide", ""),
            ("unhide", ""),
            ("delete", ""),
            ("restore", ""),
            ("add_hashtag", "pixel"),
            ("remove_hashtag", "pixel"),
        ):
            original = entry(owner, action, 2, 2, timedelta(hours=1), hashtag=hashtag)
            inverse = ACTIONS[action].inverse
            entry(owner, inverse, 2, 2, timedelta(0), hashtag=hashtag, undo_of=original)
            assert (
                activity_recent(user=owner)[0].text
                == {
                    "hide": "Undid hiding 2 posts",
                    "unhide": "Undid unhiding 2 posts",
                    "delete": "Undid deleting 2 posts",
                    "restore": "Undid restoring 2 posts",
                    "add_hashtag": "Undid adding #pixel to 2 posts",
                    "remove_hashtag": "Undid removing #pixel from 2 posts",
                }[action]
            )
            ActivityEntry.objects.all().delete()

    def test_it_reads_the_entries_the_actions_write(self, owner):
        posts = make_posts(owner, 3)
        ids = [post.pk for post in posts]
        post_action_run(user=owner, action_name="hide", post_ids=ids[:2])
        post_action_run(user=owner, action_name="hide", post_ids=ids)
        (run,) = activity_recent(user=owner)
        assert run.text == "Hid 3 of 5 posts"


class TestRecentActivityPartial:
    def test_it_renders_each_run_with_its_time(self, owner):
        entry(owner, "hide", 300, 300, timedelta(minutes=2))
        entry(owner, "delete", 1, 1, timedelta(minutes=10))
        html = render_to_string(
            "pmd/_recent_activity.html", {"recent_activity": activity_recent(user=owner)}
        )
        assert "Hid 300 posts · <time" in html
        assert "2\xa0minutes ago</time>" in html
        assert "Deleted 1 post · <time" in html
        assert html.index("Hid 300") < html.index("Deleted 1")
        assert 'data-activity-action="hide"' in html

    def test_it_says_when_there_is_nothing_yet(self):
        html = render_to_string("pmd/_recent_activity.html", {"recent_activity": []})
        assert "No batch actions yet." in html
        assert "<li" not in html
