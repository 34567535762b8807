"""The batch post action service (pmd.actions), without HTTP."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pmd.actions import (
    ACTIONS,
    ActionRefused,
    post_action_run,
    recently_deleted_posts,
    restore_cutoff,
)
from pmd.counts import cached_count
from pmd.models import ActivityEntry
from posts.models import Post
from tests.factories import make_posts
from tests.pmd.action_state import database_state, flags
from tests.services import require_redis


def run(user, action, ids):
    return post_action_run(user=user, action_name=action, post_ids=ids)


def refused(user, action, ids) -> str:
    before = database_state()
    with pytest.raises(ActionRefused) as caught:
        run(user, action, ids)
    assert database_state() == before, "a refused action changed the database"
    return caught.value.message


class TestRegistry:
    def test_it_registers_the_four_actions_with_their_declarations(self):
        assert list(ACTIONS) == ["hide", "unhide", "delete", "restore"]
        for name, action in ACTIONS.items():
            assert action.name == name
            assert action.label and action.aria_label
        assert ACTIONS["delete"].serious and ACTIONS["delete"].needs_confirmation
        assert not ACTIONS["hide"].needs_confirmation
        assert not ACTIONS["restore"].serious

    def test_it_refuses_an_unknown_or_missing_action(self, owner):
        (post,) = make_posts(owner, 1)
        assert "Unknown action 'explode'; use one of hide, unhide, delete, restore" in refused(
            owner, "explode", [post.pk]
        )
        assert "Say which action to run" in refused(owner, "", [post.pk])
        assert "Say which action to run" in refused(owner, None, [post.pk])


class TestHide:
    def test_it_hides_and_records_who_did_what_to_which_posts(self, owner):
        posts = make_posts(owner, 3)
        ids = [post.pk for post in posts]
        result = run(owner, "hide", ids)
        assert (result.action, result.affected_count, result.requested_count) == ("hide", 3, 3)
        assert result.message == "3 posts hidden."
        assert all(flags(post)[0] for post in posts)
        entry = ActivityEntry.objects.get()
        assert (entry.user, entry.action, entry.post_ids, entry.count) == (owner, "hide", ids, 3)
        assert timezone.now() - entry.created_at < timedelta(seconds=10)

    def test_it_is_idempotent_and_says_how_many_were_already_hidden(self, owner):
        posts = make_posts(owner, 2) + make_posts(owner, 3, hidden_by_user=True)
        result = run(owner, "hide", [post.pk for post in posts])
        assert result.affected_count == 2
        assert result.requested_count == 5
        assert result.message == "2 posts hidden (3 were already hidden)."
        again = run(owner, "hide", [post.pk for post in posts])
        assert again.affected_count == 0
        assert again.message == "All 5 posts were already hidden; nothing changed."
        assert all(flags(post)[0] for post in posts)
        assert list(ActivityEntry.objects.order_by("id").values_list("count", flat=True)) == [2, 0]

    def test_its_messages_are_singular_for_one_post(self, owner):
        (post,) = make_posts(owner, 1)
        (hidden,) = make_posts(owner, 1, hidden_by_user=True)
        assert run(owner, "hide", [post.pk, hidden.pk]).message == (
            "1 post hidden (1 was already hidden)."
        )
        assert run(owner, "hide", [post.pk]).message == (
            "The post was already hidden; nothing changed."
        )

    def test_it_counts_duplicates_once(self, owner):
        a, b = make_posts(owner, 2)
        result = run(owner, "hide", [a.pk, b.pk, a.pk, a.pk])
        assert (result.affected_count, result.requested_count) == (2, 2)
        assert ActivityEntry.objects.get().post_ids == [a.pk, b.pk]

    def test_it_never_touches_what_it_was_not_asked_to(self, owner, other):
        mine = make_posts(owner, 3)
        theirs = make_posts(other, 2)
        run(owner, "hide", [mine[0].pk])
        assert [flags(post)[0] for post in mine + theirs] == [True, False, False, False, False]


class TestUnhide:
    def test_it_clears_the_owners_flag_but_not_the_moderators(self, owner):
        (mine,) = make_posts(owner, 1, hidden_by_user=True)
        (both,) = make_posts(owner, 1, hidden_by_user=True, hidden_by_mod=True)
        (visible,) = make_posts(owner, 1)
        result = run(owner, "unhide", [mine.pk, both.pk, visible.pk])
        assert result.affected_count == 2
        assert result.message == (
            "2 posts unhidden (1 was not hidden). 1 stays hidden by a moderator."
        )
        assert flags(mine)[:2] == (False, False)
        assert flags(both)[:2] == (False, True)
        assert Post.objects.get(pk=both.pk).is_visible is False

    def test_it_is_idempotent(self, owner):
        posts = make_posts(owner, 2)
        result = run(owner, "unhide", [post.pk for post in posts])
        assert result.affected_count == 0
        assert result.message == "None of the 2 posts were hidden; nothing changed."

    def test_it_names_a_moderator_hide_even_when_nothing_changed(self, owner):
        (post,) = make_posts(owner, 1, hidden_by_mod=True)
        assert run(owner, "unhide", [post.pk]).message == (
            "The post was not hidden; nothing changed. 1 stays hidden by a moderator."
        )


class TestDelete:
    def test_it_soft_deletes_setting_both_fields(self, owner):
        posts = make_posts(owner, 2, hidden_by_user=True) + make_posts(owner, 1)
        started = timezone.now()
        result = run(owner, "delete", [post.pk for post in posts])
        assert result.affected_count == 3
        assert result.message == (
            "3 posts deleted. You can restore them from Recently deleted for 7 days."
        )
        for post in posts:
            post.refresh_from_db()
            assert post.deleted_by_user is True
            assert started <= post.deleted_by_user_date <= timezone.now()
        # Soft: the rows (and the hidden flag the owner set) are all still there.
        assert Post.objects.filter(pk__in=[p.pk for p in posts], hidden_by_user=True).count() == 2

    def test_it_refuses_posts_already_deleted(self, owner):
        (live,) = make_posts(owner, 1)
        (gone,) = make_posts(owner, 1, deleted_by_user=True, deleted_by_user_date=timezone.now())
        message = refused(owner, "delete", [live.pk, gone.pk])
        assert message == f"Post {gone.pk} is already deleted. Nothing was changed."


class TestRefusals:
    @pytest.mark.parametrize("action", ["hide", "unhide", "delete", "restore"])
    def test_it_refuses_another_users_post_and_changes_nothing(self, owner, other, action):
        (mine,) = make_posts(owner, 1, deleted_by_user=True, deleted_by_user_date=timezone.now())
        (theirs,) = make_posts(other, 1, deleted_by_user=True, deleted_by_user_date=timezone.now())
        if action != "restore":
            Post.objects.filter(pk=mine.pk).update(deleted_by_user=False, deleted_by_user_date=None)
            Post.objects.filter(pk=theirs.pk).update(
                deleted_by_user=False, deleted_by_user_date=None
            )
        message = refused(owner, action, [mine.pk, theirs.pk])
        assert message == f"Post {theirs.pk} is not one of your posts. Nothing was changed."

    def test_it_answers_an_unknown_id_like_another_users(self, owner, other):
        (theirs,) = make_posts(other, 1)
        unknown = theirs.pk + 1000
        message = refused(owner, "hide", [theirs.pk, unknown])
        assert message == (f"Posts {theirs.pk}, {unknown} are not your posts. Nothing was changed.")

    @pytest.mark.parametrize("action", ["hide", "unhide", "delete", "restore"])
    def test_it_refuses_playlists(self, owner, action):
        (live,) = make_posts(owner, 1)
        (playlist,) = make_posts(owner, 1, kind="playlist")
        message = refused(owner, action, [live.pk, playlist.pk])
        assert f"Post {playlist.pk} is a playlist; the dashboard manages artworks only." in message

    @pytest.mark.parametrize("action", ["hide", "unhide"])
    def test_it_refuses_to_hide_or_unhide_a_deleted_post(self, owner, action):
        (live,) = make_posts(owner, 1)
        (gone,) = make_posts(owner, 1, deleted_by_user=True, deleted_by_user_date=timezone.now())
        message = refused(owner, action, [live.pk, gone.pk])
        assert message == (f"Post {gone.pk} is deleted. Nothing was changed.")

    def test_it_names_a_few_ids_and_counts_the_rest(self, owner):
        ids = [post.pk + 10_000 for post in make_posts(owner, 8)]
        message = refused(owner, "hide", ids)
        assert message == (
            f"Posts {', '.join(map(str, ids[:5]))} and 3 more are not your posts. "
            "Nothing was changed."
        )

    def test_it_lists_every_kind_of_problem_at_once(self, owner):
        (live,) = make_posts(owner, 1)
        (playlist,) = make_posts(owner, 1, kind="playlist")
        (gone,) = make_posts(owner, 1, deleted_by_user=True, deleted_by_user_date=timezone.now())
        message = refused(owner, "hide", [live.pk, 9_999_999, playlist.pk, gone.pk])
        assert message == (
            "Post 9999999 is not one of your posts. "
            f"Post {playlist.pk} is a playlist; the dashboard manages artworks only. "
            f"Post {gone.pk} is deleted. Nothing was changed."
        )

    def test_it_refuses_an_empty_list(self, owner):
        assert refused(owner, "hide", []) == "Select at least one post."

    def test_it_holds_the_limit_itself_after_removing_duplicates(self, owner, settings):
        posts = make_posts(owner, 129)
        ids = [post.pk for post in posts]
        message = refused(owner, "hide", ids)
        assert message == "At most 128 posts per request; this one has 129."
        assert run(owner, "hide", ids[:128] + ids[:5]).affected_count == 128
        settings.PMD_ACTION_LIMIT = 4
        assert "At most 4 posts" in refused(owner, "unhide", ids[:5])


class TestRestore:
    def _deleted(self, owner, days_ago: float, **fields):
        (post,) = make_posts(
            owner,
            1,
            deleted_by_user=True,
            deleted_by_user_date=timezone.now() - timedelta(days=days_ago),
            **fields,
        )
        return post

    def test_it_restores_posts_deleted_within_the_window_clearing_both_fields(self, owner):
        posts = [self._deleted(owner, days) for days in (0, 3, 6.9)]
        result = run(owner, "restore", [post.pk for post in posts])
        assert result.affected_count == 3
        assert result.message == "3 posts restored."
        for post in posts:
            assert flags(post)[2:] == (False, None)
        assert ActivityEntry.objects.get().action == "restore"

    def test_it_refuses_posts_deleted_longer_ago(self, owner):
        recent = self._deleted(owner, 1)
        old = self._deleted(owner, 7.01)
        message = refused(owner, "restore", [recent.pk, old.pk])
        assert message == (
            f"Post {old.pk} was deleted more than 7 days ago and can no longer be restored. "
            "Nothing was changed."
        )

    def test_it_follows_the_restore_days_setting(self, owner, settings):
        post = self._deleted(owner, 2)
        settings.PMD_RESTORE_DAYS = 1
        assert "more than 1 days ago" in refused(owner, "restore", [post.pk])
        settings.PMD_RESTORE_DAYS = 3
        assert run(owner, "restore", [post.pk]).affected_count == 1

    def test_it_refuses_posts_that_are_not_deleted(self, owner):
        (live,) = make_posts(owner, 1)
        message = refused(owner, "restore", [live.pk])
        assert message == (
            f"Post {live.pk} is not deleted, so there is nothing to restore. Nothing was changed."
        )

    def test_a_restored_post_keeps_its_hidden_flags_and_the_message_says_so(self, owner):
        hidden = self._deleted(owner, 1, hidden_by_user=True)
        moderated = self._deleted(owner, 1, hidden_by_mod=True)
        plain = self._deleted(owner, 1)
        result = run(owner, "restore", [hidden.pk, moderated.pk, plain.pk])
        assert result.message == (
            "3 posts restored. 2 of them are hidden, so they stay off your profile."
        )
        assert flags(hidden)[:3] == (True, False, False)
        assert flags(moderated)[:3] == (False, True, False)

    def test_recently_deleted_lists_only_restorable_artworks_newest_first(self, owner, other):
        older = self._deleted(owner, 5)
        newer = self._deleted(owner, 1)
        self._deleted(owner, 8)
        self._deleted(owner, 1, kind="playlist")
        self._deleted(other, 1)
        make_posts(owner, 1)
        assert list(recently_deleted_posts(owner=owner)) == [newer, older]
        assert abs(restore_cutoff() - (timezone.now() - timedelta(days=7))) < timedelta(seconds=5)


class TestAllOrNothing:
    def test_a_failed_audit_write_undoes_the_change(self, owner, monkeypatch):
        posts = make_posts(owner, 3)

        def failing_create(**fields):
            raise IntegrityError("audit insert failed")

        monkeypatch.setattr(ActivityEntry.objects, "create", failing_create)
        before = database_state()
        with pytest.raises(IntegrityError):
            run(owner, "hide", [post.pk for post in posts])
        assert database_state() == before

    def test_it_runs_three_statements_whatever_the_number_of_posts(self, owner):
        posts = make_posts(owner, 128)
        counts = []
        for ids in ([posts[0].pk], [post.pk for post in posts]):
            with CaptureQueriesContext(connection) as captured:
                run(owner, "hide", ids)
            statements = [
                query["sql"]
                for query in captured.captured_queries
                if "SAVEPOINT" not in query["sql"]
            ]
            counts.append(len(statements))
            assert [sql.split()[0] for sql in statements] == ["SELECT", "UPDATE", "INSERT"]
            if connection.vendor == "postgresql":
                assert statements[0].rstrip().endswith("FOR UPDATE")
        assert counts == [3, 3]


class TestCountsRefresh:
    def test_cached_counts_are_forgotten_when_something_changed_only(self, owner, settings):
        # The database bumps the owner's posts version in the action's own
        # transaction (posts migration 0003, issue 11): nothing to call.
        require_redis()
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": settings.REDIS_URL,
                "KEY_PREFIX": f"pmd-test-actions-{owner.pk}-{timezone.now().timestamp()}",
            }
        }
        posts = make_posts(owner, 2)
        ids = [post.pk for post in posts]
        assert cached_count(owner.pk, "all", lambda: 2) == 2
        assert cached_count(owner.pk, "all", lambda: 99) == 2, "the cache is not caching"
        run(owner, "hide", ids)
        assert cached_count(owner.pk, "all", lambda: 0) == 0
        run(owner, "hide", ids)  # already hidden: nothing changes
        with pytest.raises(ActionRefused):
            run(owner, "restore", ids)
        assert cached_count(owner.pk, "all", lambda: 99) == 0


class TestConcurrency:
    @pytest.mark.postgresql_only
    @pytest.mark.django_db(transaction=True)
    def test_a_delete_committed_while_it_waits_is_seen_before_anything_is_written(self, owner):
        """The check locks the rows, so a post deleted by another request
        between the check and the write cannot be hidden by this one."""
        (post,) = make_posts(owner, 1)
        locked, release = threading.Event(), threading.Event()
        outcome: dict[str, str] = {}

        def delete_slowly() -> None:
            try:
                with transaction.atomic():
                    Post.objects.select_for_update().get(pk=post.pk)
                    locked.set()
                    release.wait(10)
                    Post.objects.filter(pk=post.pk).update(
                        deleted_by_user=True, deleted_by_user_date=timezone.now()
                    )
            finally:
                connection.close()

        def hide() -> None:
            try:
                outcome["message"] = run(owner, "hide", [post.pk]).message
            except ActionRefused as refusal:
                outcome["refused"] = refusal.message
            finally:
                connection.close()

        deleter = threading.Thread(target=delete_slowly)
        deleter.start()
        assert locked.wait(10)
        hider = threading.Thread(target=hide)
        hider.start()
        hider.join(0.5)
        assert hider.is_alive(), "the hide did not wait for the row lock"
        release.set()
        deleter.join(10)
        hider.join(10)
        assert outcome == {"refused": f"Post {post.pk} is deleted. Nothing was changed."}
        post.refresh_from_db()
        assert (post.deleted_by_user, post.hidden_by_user) == (True, False)
        assert not ActivityEntry.objects.exists()
