"""The bin: "Delete forever" for posts in Recently deleted, and the daily job
that empties what has been there longer than PMD_RESTORE_DAYS, files and all
(a folder or a bucket), recorded in the owner's activity."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.core.files.storage import storages
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from pmd.activity import activity_recent
from pmd.bin_purge import bin_purge_expired
from pmd.models import ActivityEntry
from pmd.tasks import empty_the_bin
from posts.models import Comment, Post, Reaction
from testing.factories import make_comment, make_post, make_posts, make_reaction
from tests.pmd.test_action_api import assert_refused, post_json
from tests.pmd.test_actions import refused, run, undo, undo_refused


def deleted(owner, days_ago: float = 1, **fields) -> Post:
    return make_post(
        owner,
        deleted_by_user=True,
        deleted_by_user_date=timezone.now() - timedelta(days=days_ago),
        **fields,
    )


def in_vault(name: str) -> bool:
    return storages["vault"].exists(name)


class TestDeleteForever:
    def test_it_erases_posts_with_their_files_comments_and_reactions(
        self, owner, other, django_capture_on_commit_callbacks
    ):
        posts = [deleted(owner), deleted(owner, days_ago=29)]
        make_comment(posts[0], other)
        make_reaction(posts[0], other)
        kept = deleted(owner)
        with django_capture_on_commit_callbacks(execute=True):
            result = run(owner, "delete_forever", [post.pk for post in posts])
        assert (result.affected_count, result.message) == (2, "2 posts deleted forever.")
        assert not Post.objects.filter(pk__in=[post.pk for post in posts]).exists()
        assert not Comment.objects.exists() and not Reaction.objects.exists()
        assert not any(in_vault(post.art.name) for post in posts)
        assert in_vault(kept.art.name) and Post.objects.filter(pk=kept.pk).exists()
        entry = ActivityEntry.objects.get(pk=result.activity_id)
        assert (entry.action, entry.count, entry.automatic) == ("delete_forever", 2, False)
        assert activity_recent(user=owner)[0].text == "Erased 2 posts"

    def test_it_keeps_a_file_another_post_still_names(
        self, owner, django_capture_on_commit_callbacks
    ):
        post = deleted(owner)
        (twin,) = make_posts(owner, 1, art=post.art.name)
        with django_capture_on_commit_callbacks(execute=True):
            run(owner, "delete_forever", [post.pk])
        assert in_vault(twin.art.name)

    def test_the_files_stay_until_the_delete_commits(
        self, owner, django_capture_on_commit_callbacks
    ):
        post = deleted(owner)
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            run(owner, "delete_forever", [post.pk])
        assert in_vault(post.art.name)
        for callback in callbacks:
            callback()
        assert not in_vault(post.art.name)

    def test_it_refuses_posts_not_in_the_bin_and_changes_nothing(self, owner, other):
        (live,) = make_posts(owner, 1)
        mine = deleted(owner)
        theirs = deleted(other)
        message = refused(owner, "delete_forever", [mine.pk, live.pk, theirs.pk])
        assert f"Post {live.pk} is not in Recently deleted; delete it first." in message
        assert f"Post {theirs.pk} is not one of your posts." in message
        assert Post.objects.filter(pk=mine.pk).exists()

    def test_it_cannot_be_undone(self, owner):
        result = run(owner, "delete_forever", [deleted(owner).pk])
        error = undo_refused(owner, result.activity_id)
        assert error.message == "Delete forever cannot be undone: the posts are gone."

    def test_an_undo_of_the_delete_leaves_an_erased_post_gone(self, owner):
        posts = make_posts(owner, 2)
        deleting = run(owner, "delete", [post.pk for post in posts])
        run(owner, "delete_forever", [posts[0].pk])
        result = undo(owner, deleting.activity_id)
        assert result.affected_count == 1
        assert "1 had changed since" in result.message
        assert Post.objects.get(pk=posts[1].pk).deleted_by_user is False

    def test_the_api_takes_it(self, owner, owner_client):
        post = deleted(owner)
        response = post_json(owner_client, {"action": "delete_forever", "post_ids": [post.pk]})
        assert response.status_code == 200, response.content
        assert response.json()["message"] == "1 post deleted forever."
        (live,) = make_posts(owner, 1)
        assert_refused(
            owner_client,
            {"action": "delete_forever", "post_ids": [live.pk]},
            "is not in Recently deleted",
        )


class TestEmptyingTheBin:
    def test_it_erases_what_is_past_the_window_and_records_it(
        self, owner, other, settings, django_capture_on_commit_callbacks
    ):
        settings.PMD_RESTORE_DAYS = 30
        old = [deleted(owner, days_ago=30.01), deleted(owner, days_ago=45)]
        theirs = deleted(other, days_ago=31)
        recent = deleted(owner, days_ago=29.9)
        playlist = deleted(owner, days_ago=40, kind="playlist")
        (live,) = make_posts(owner, 1, created_at=timezone.now() - timedelta(days=90))
        with django_capture_on_commit_callbacks(execute=True):
            result = bin_purge_expired(batch=1)
        assert (result.posts, result.owners) == (3, 2)
        left = set(Post.objects.values_list("id", flat=True))
        assert left == {recent.pk, playlist.pk, live.pk}
        assert not any(in_vault(post.art.name) for post in [*old, theirs])
        assert in_vault(recent.art.name)
        entries = ActivityEntry.objects.filter(user=owner)
        assert {entry.automatic for entry in entries} == {True}
        assert sorted(i for entry in entries for i in entry.changed_ids) == sorted(
            post.pk for post in old
        )
        (line,) = activity_recent(user=owner)
        assert line.text == "Emptied 2 posts from the bin after 30 days"
        assert bin_purge_expired() == type(result)(posts=0, owners=0)

    def test_it_follows_the_setting(self, owner, settings):
        post = deleted(owner, days_ago=3)
        settings.PMD_RESTORE_DAYS = 5
        assert bin_purge_expired().posts == 0
        settings.PMD_RESTORE_DAYS = 2
        assert bin_purge_expired().posts == 1
        assert not Post.objects.filter(pk=post.pk).exists()

    def test_its_entries_cannot_be_undone(self, owner):
        deleted(owner, days_ago=60)
        bin_purge_expired()
        entry = ActivityEntry.objects.get(user=owner)
        assert "cannot be undone" in undo_refused(owner, entry.pk).message

    def test_the_task_runs_it(self, owner):
        deleted(owner, days_ago=60)
        assert empty_the_bin() == {"posts": 1, "owners": 1}

    def test_it_deletes_files_in_a_bucket(
        self, owner, s3_vault, django_capture_on_commit_callbacks
    ):
        post = deleted(owner, days_ago=60)
        assert s3_vault.keys("art/") == [post.art.name]
        with django_capture_on_commit_callbacks(execute=True):
            bin_purge_expired()
        assert s3_vault.keys("art/") == []

    def test_a_store_that_fails_costs_a_logged_file_never_the_emptying(
        self, owner, settings, django_capture_on_commit_callbacks, tmp_path, caplog
    ):
        post = deleted(owner, days_ago=60)
        # A vault the storage cannot delete from: its folder is a file.
        (tmp_path / "not-a-folder").write_text("")
        settings.STORAGES = {
            **settings.STORAGES,
            "vault": {
                "BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": str(tmp_path / "not-a-folder"), "base_url": None},
            },
        }
        with django_capture_on_commit_callbacks(execute=True):
            assert bin_purge_expired().posts == 1
        assert not Post.objects.filter(pk=post.pk).exists()
        assert f"could not delete artwork file {post.art.name}" in caplog.text


class TestSchedule:
    def test_the_migration_schedules_it_daily_and_keeps_admin_edits(self, db):
        migration = importlib.import_module("pmd.migrations.0008_bin")
        task = PeriodicTask.objects.get(name="pmd: empty the bin")
        assert (task.task, task.interval.every, task.interval.period, task.enabled) == (
            "pmd.tasks.empty_the_bin",
            1,
            "days",
            True,
        )
        task.enabled = False
        task.save()
        migration.create_schedule(apps, None)
        assert PeriodicTask.objects.get(name=task.name).enabled is False


@pytest.mark.parametrize("days", [30, 10])
def test_the_page_says_how_long_the_bin_keeps_posts(
    owner, owner_client, owner_sqid, settings, days
):
    settings.PMD_RESTORE_DAYS = days
    url = f"/u/{owner_sqid}/posts"
    empty = owner_client.get(url, {"view": "deleted"}).content.decode()
    assert f"Nothing deleted in the last {days} days." in empty
    deleted(owner)
    page = owner_client.get(url, {"view": "deleted"}).content.decode()
    assert f"deleted in the last {days} days" in page
    assert f"go by themselves after {days} days" in page
    assert 'data-bulk="delete_forever"' in page
