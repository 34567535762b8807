"""Undo from Recent activity: each line offers Undo for PMD_UNDO_DAYS, and
first counts what the undo would change back and what it would leave
because it changed since, writing nothing."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from pmd.activity import activity_recent
from pmd.bin_purge import bin_purge_expired
from pmd.jobs.service import job_create
from pmd.jobs.work import job_run
from pmd.models import ActivityEntry
from testing.factories import make_posts
from tests.pmd.action_state import database_state, flags
from tests.pmd.test_actions import run, undo, undo_refused

URL = "/api/pmd/action/undo-preview"


def preview(client, ids):
    return client.post(URL, json.dumps({"activity_ids": ids}), content_type="application/json")


def ids_of(posts) -> list[int]:
    return [post.pk for post in posts]


class TestPreview:
    def test_it_counts_what_changes_back_and_what_changed_since_writing_nothing(
        self, owner, owner_client
    ):
        posts = make_posts(owner, 5)
        first = run(owner, "hide", ids_of(posts[:3]))
        second = run(owner, "hide", ids_of(posts[3:]))
        run(owner, "unhide", [posts[0].pk])  # a change in between wins
        before = database_state()
        response = preview(owner_client, [first.activity_id, second.activity_id])
        assert response.status_code == 200, response.content
        assert response.json() == {
            "changes": 4,
            "leaves": 1,
            "message": "Undo will change 4 posts back and leave 1 that changed since.",
        }
        assert database_state() == before

    def test_any_chunk_of_a_job_counts_the_whole_job(self, owner, owner_client, settings):
        settings.PMD_JOB_CHUNK = 2
        posts = make_posts(owner, 5)
        job = job_create(user=owner, action_name="hide", post_ids=ids_of(posts))
        job_run(job.pk)
        chunk = ActivityEntry.objects.filter(job_id=job.pk, chunk=2).get()
        assert preview(owner_client, [chunk.pk]).json()["changes"] == 5

    @pytest.mark.parametrize(
        ("setup", "message"),
        [
            ("undone", "already been undone"),
            ("old", "more than 7 days old"),
            ("forever", "cannot be undone"),
            ("undo", "An undo cannot be undone"),
        ],
    )
    def test_it_refuses_what_cannot_be_undone(self, owner, owner_client, setup, message):
        posts = make_posts(owner, 2)
        entry = run(owner, "hide", ids_of(posts))
        ids = [entry.activity_id]
        if setup == "undone":
            undo(owner, entry.activity_id)
        elif setup == "old":
            ActivityEntry.objects.filter(pk=entry.activity_id).update(
                created_at=timezone.now() - timedelta(days=7, minutes=1)
            )
        elif setup == "forever":
            run(owner, "delete", ids_of(posts))
            ids = [run(owner, "delete_forever", ids_of(posts)).activity_id]
        elif setup == "undo":
            ids = [undo(owner, entry.activity_id).activity_id]
        response = preview(owner_client, ids)
        assert response.status_code == 400, response.content
        assert message in response.json()["error"]

    def test_another_users_entries_are_not_found_and_bad_input_is_a_400(
        self, owner, other_client, owner_client
    ):
        entry = run(owner, "hide", ids_of(make_posts(owner, 1)))
        assert preview(other_client, [entry.activity_id]).status_code == 404
        for body, message in (
            ([], "Name at least one entry."),
            (["1"], "activity_ids must hold entry ids"),
            (None, "activity_ids must be a list"),
        ):
            response = preview(owner_client, body)
            assert response.status_code == 400
            assert message in response.json()["error"]


class TestWindow:
    def test_undo_is_accepted_for_pmd_undo_days(self, owner, settings):
        posts = make_posts(owner, 2)
        entry = run(owner, "hide", ids_of(posts))
        ActivityEntry.objects.filter(pk=entry.activity_id).update(
            created_at=timezone.now() - timedelta(days=6)
        )
        assert undo(owner, entry.activity_id).affected_count == 2
        again = run(owner, "hide", ids_of(posts))
        settings.PMD_UNDO_DAYS = 1
        ActivityEntry.objects.filter(pk=again.activity_id).update(
            created_at=timezone.now() - timedelta(days=2)
        )
        assert undo_refused(owner, again.activity_id).message == (
            "That action is more than 1 day old and can no longer be undone."
        )
        assert all(flags(post)[0] for post in posts)


class TestRecentActivity:
    def test_each_line_offers_undo_while_it_can_be_undone(
        self, owner, owner_client, owner_sqid, other
    ):
        posts = make_posts(owner, 4)
        hid = run(owner, "hide", ids_of(posts[:2]))
        old = run(owner, "unhide", ids_of(posts[:1]))
        ActivityEntry.objects.filter(pk=old.activity_id).update(
            created_at=timezone.now() - timedelta(days=8)
        )
        tagged = run(owner, "add_hashtag", ids_of(posts[2:]), hashtag="pixel2")
        undo(owner, tagged.activity_id)
        make_posts(
            owner, 1, deleted_by_user=True, deleted_by_user_date=timezone.now() - timedelta(days=40)
        )
        bin_purge_expired()
        lines = {line.text: line for line in activity_recent(user=owner)}
        assert lines["Hid 2 posts"].undoable
        assert lines["Hid 2 posts"].activity_ids == str(hid.activity_id)
        assert not lines["Unhid 1 post"].undoable  # older than 7 days
        assert (
            not lines["Added #pixel2 to 2 posts"].undoable
            and lines["Added #pixel2 to 2 posts"].undone
        )
        assert not lines["Undid adding #pixel2 to 2 posts"].undoable
        assert not lines["Emptied 1 post from the bin after 30 days"].undoable
        page = owner_client.get(f"/u/{owner_sqid}/posts/activity").content.decode()
        assert page.count("data-undo-run") == 1
        assert f'data-activity-ids="{hid.activity_id}"' in page
        assert 'aria-label="Undo: Hid 2 posts"' in page

    def test_a_job_is_one_line_counting_the_whole_job(self, owner, settings):
        settings.PMD_JOB_CHUNK = 2
        posts = make_posts(owner, 5)
        job = job_create(user=owner, action_name="hide", post_ids=ids_of(posts))
        job_run(job.pk)
        (line,) = activity_recent(user=owner)
        assert (line.text, line.job_id, line.undoable) == ("Hid 5 posts", job.pk, True)
