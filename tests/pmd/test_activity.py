"""The owner's "recent activity" list: selector and partial."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pmd import activity
from pmd.actions import post_action_run
from pmd.activity import activity_recent
from pmd.models import ActivityEntry
from tests.factories import make_posts


def entry(user, action: str, count: int, requested: int, ago: timedelta) -> ActivityEntry:
    return ActivityEntry.objects.create(
        user=user,
        action=action,
        post_ids=list(range(1, requested + 1)),
        count=count,
        created_at=timezone.now() - ago,
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
