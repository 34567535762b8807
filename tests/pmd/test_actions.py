"""The batch post action service (pmd.actions), without HTTP."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from pmd.actions.registry import ACTIONS
from pmd.actions.run import post_action_run
from pmd.actions.undo import UNDO_WINDOW, post_action_undo
from pmd.activity import activity_recent
from pmd.counts import cached_count
from pmd.errors import DomainError, NotFound
from pmd.models import ActivityEntry
from pmd.selectors import PostQuery, matching_posts
from posts.models import Post, restore_cutoff
from testing.factories import make_posts
from testing.services import require_redis
from tests.pmd.action_state import database_state, flags, hashtags


def run(user, action, ids, hashtag=None):
    return post_action_run(user=user, action_name=action, post_ids=ids, hashtag=hashtag)


def refused(user, action, ids, hashtag=None) -> str:
    before = database_state()
    with pytest.raises(DomainError) as caught:
        run(user, action, ids, hashtag)
    assert database_state() == before, "a refused action changed the database"
    return caught.value.message


def undo(user, activity_id):
    return post_action_undo(user=user, activity_id=activity_id)


def undo_refused(user, activity_id) -> DomainError:
    before = database_state()
    with pytest.raises(DomainError) as caught:
        undo(user, activity_id)
    assert database_state() == before, "a refused undo changed the database"
    return caught.value


def ids_of(posts) -> list[int]:
    return [post.pk for post in posts]


def searched(owner, words: str) -> set[int]:
    query = PostQuery(owner=owner, search=words)
    return set(matching_posts(query).values_list("id", flat=True))


class TestRegistry:
    def test_it_registers_the_seven_actions_with_their_declarations(self):
        assert list(ACTIONS) == [
            "hide",
            "unhide",
            "delete",
            "restore",
            "add_hashtag",
            "remove_hashtag",
            "delete_forever",
        ]
        for name, action in ACTIONS.items():
            assert action.name == name
            assert action.label and action.aria_label
            # Each one's undo is its partner, and undoing that comes back;
            # deleting forever alone has none.
            assert action.undoable is (name != "delete_forever")
            if action.undoable:
                assert ACTIONS[ACTIONS[action.inverse].inverse] is action
        assert [name for name, action in ACTIONS.items() if action.takes_hashtag] == [
            "add_hashtag",
            "remove_hashtag",
        ]
        assert ACTIONS["delete"].serious and ACTIONS["delete"].needs_confirmation
        assert not ACTIONS["hide"].needs_confirmation
        assert not ACTIONS["restore"].serious

    def test_it_refuses_an_unknown_or_missing_action(self, owner):
        (post,) = make_posts(owner, 1)
        assert (
            "Unknown action 'explode'; use one of hide, unhide, delete, restore, add_hashtag, "
            "remove_hashtag, delete_forever." in refused(owner, "explode", [post.pk])
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
            "3 posts deleted. You can restore them from Recently deleted for 30 days."
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
        old = self._deleted(owner, 30.01)
        message = refused(owner, "restore", [recent.pk, old.pk])
        assert message == (
            f"Post {old.pk} was deleted more than 30 days ago and can no longer be restored. "
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

    def test_recently_deleted_holds_only_restorable_artworks(self, owner, other):
        older = self._deleted(owner, 5)
        newer = self._deleted(owner, 1)
        self._deleted(owner, 31)
        self._deleted(owner, 1, kind="playlist")
        self._deleted(other, 1)
        make_posts(owner, 1)
        assert set(Post.objects.filter(owner=owner).recently_deleted()) == {newer, older}
        assert abs(restore_cutoff() - (timezone.now() - timedelta(days=30))) < timedelta(seconds=5)


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
        # transaction (posts migration 0003): nothing to call.
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
        with pytest.raises(DomainError):
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
            except DomainError as refusal:
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


class TestAddHashtag:
    def test_it_adds_one_hashtag_in_lower_case_and_records_it(self, owner):
        posts = make_posts(owner, 2, hashtags="retro") + make_posts(owner, 1, hashtags="")
        result = run(owner, "add_hashtag", ids_of(posts), "#Pixel_2")
        assert (result.hashtag, result.affected_count, result.requested_count) == ("pixel_2", 3, 3)
        assert result.changed_ids == ids_of(posts)
        assert result.message == "Added #pixel_2 to 3 posts."
        assert [hashtags(post) for post in posts] == ["retro pixel_2", "retro pixel_2", "pixel_2"]
        entry = ActivityEntry.objects.get()
        assert (entry.action, entry.hashtag, entry.changed_ids, entry.count) == (
            "add_hashtag",
            "pixel_2",
            ids_of(posts),
            3,
        )
        assert result.activity_id == entry.pk

    def test_it_matches_without_regard_to_case_and_is_idempotent(self, owner):
        (has_it,) = make_posts(owner, 1, hashtags="Pixel retro")
        (lacks_it,) = make_posts(owner, 1, hashtags="retro")
        result = run(owner, "add_hashtag", [has_it.pk, lacks_it.pk], "PIXEL")
        assert result.changed_ids == [lacks_it.pk]
        assert result.message == "Added #pixel to 1 post (1 already had it)."
        assert hashtags(has_it) == "Pixel retro"
        again = run(owner, "add_hashtag", [has_it.pk, lacks_it.pk], "pixel")
        assert again.affected_count == 0
        assert again.message == "All 2 posts already have #pixel; nothing changed."
        assert hashtags(lacks_it) == "retro pixel"
        assert run(owner, "add_hashtag", [has_it.pk], "pixel").message == (
            "The post already has #pixel; nothing changed."
        )

    def test_it_reports_posts_already_full_and_tags_the_others(self, owner):
        sixteen = " ".join(f"t{n}" for n in range(16))
        (full,) = make_posts(owner, 1, hashtags=sixteen)
        (full_with_it,) = make_posts(owner, 1, hashtags=sixteen.replace("t0", "pixel"))
        roomy = make_posts(owner, 2, hashtags="retro")
        ids = [full.pk, full_with_it.pk] + ids_of(roomy)
        result = run(owner, "add_hashtag", ids, "pixel")
        assert result.changed_ids == ids_of(roomy)
        assert result.full_ids == [full.pk]
        assert result.message == (
            "Added #pixel to 2 posts (1 already had it). 1 post has no room for another "
            "hashtag (at most 16 per post), so #pixel was not added to it."
        )
        assert hashtags(full) == sixteen
        assert ActivityEntry.objects.get().changed_ids == ids_of(roomy)
        only_full = run(owner, "add_hashtag", [full.pk], "fox")
        assert only_full.message == (
            "Nothing changed. 1 post has no room for another hashtag (at most 16 per post), "
            "so #fox was not added to it."
        )
        both = run(owner, "add_hashtag", [full.pk, full_with_it.pk], "pixel")
        assert both.message == (
            "1 post already has #pixel. 1 post has no room for another hashtag (at most 16 "
            "per post), so #pixel was not added to it."
        )

    def test_it_follows_the_hashtag_limit_setting(self, owner, settings):
        settings.PMD_HASHTAG_LIMIT = 2
        (one,) = make_posts(owner, 1, hashtags="a")
        (two,) = make_posts(owner, 1, hashtags="a b")
        result = run(owner, "add_hashtag", [one.pk, two.pk], "c")
        assert (result.changed_ids, result.full_ids) == ([one.pk], [two.pk])
        assert "(at most 2 per post)" in result.message

    def test_a_post_without_room_in_its_500_characters_counts_as_full(self, owner):
        # Older posts may hold long hashtags: 3 of them can leave no room.
        long_tags = " ".join(["x" * 165] * 3)
        (post,) = make_posts(owner, 1, hashtags=long_tags)
        assert run(owner, "add_hashtag", [post.pk], "pixel").full_ids == [post.pk]
        assert hashtags(post) == long_tags
        (fits,) = make_posts(owner, 1, hashtags="x" * 469)
        assert run(owner, "add_hashtag", [fits.pk], "y" * 30).changed_ids == [fits.pk]
        assert len(hashtags(fits)) == 500

    def test_search_finds_the_posts_at_once(self, owner):
        tagged = make_posts(owner, 3, hashtags="retro")
        make_posts(owner, 4, hashtags="retro")
        run(owner, "add_hashtag", ids_of(tagged), "Zebrafish")
        assert searched(owner, "#zebrafish") == set(ids_of(tagged))
        assert searched(owner, "#ZEBRAFISH") == set(ids_of(tagged))
        run(owner, "remove_hashtag", ids_of(tagged)[:1], "zebrafish")
        assert searched(owner, "#zebrafish") == set(ids_of(tagged)[1:])

    @pytest.mark.parametrize(
        ("action", "hashtag", "message"),
        [
            ("add_hashtag", None, 'add_hashtag needs a hashtag, such as "pixelart".'),
            ("remove_hashtag", None, 'remove_hashtag needs a hashtag, such as "pixelart".'),
            ("add_hashtag", "", 'Type a hashtag, such as "pixelart".'),
            ("add_hashtag", "pixel art", "' ' is not one."),
            ("add_hashtag", "x" * 31, "at most 30 characters; this one has 31."),
            ("add_hashtag", ["pixel"], 'hashtag must be text, such as "pixelart".'),
            (
                "hide",
                "pixel",
                "Only add_hashtag and remove_hashtag take a hashtag; leave it out for hide.",
            ),
            ("restore", "", "leave it out for restore."),
        ],
    )
    def test_it_refuses_a_missing_malformed_or_unwanted_hashtag(
        self, owner, action, hashtag, message
    ):
        posts = make_posts(owner, 2, hashtags="retro")
        assert message in refused(owner, action, ids_of(posts), hashtag)

    @pytest.mark.parametrize("action", ["add_hashtag", "remove_hashtag"])
    def test_it_refuses_others_posts_deleted_posts_and_playlists_as_a_whole(
        self, owner, other, action
    ):
        live = make_posts(owner, 2, hashtags="pixel")
        (gone,) = make_posts(owner, 1, deleted_by_user=True, deleted_by_user_date=timezone.now())
        (playlist,) = make_posts(owner, 1, kind="playlist")
        (theirs,) = make_posts(other, 1, hashtags="pixel")
        ids = ids_of(live) + [gone.pk, playlist.pk, theirs.pk]
        assert refused(owner, action, ids, "fox") == (
            f"Post {gone.pk} is deleted. "
            f"Post {playlist.pk} is a playlist; the dashboard manages artworks only. "
            f"Post {theirs.pk} is not one of your posts. Nothing was changed."
        )

    def test_it_runs_three_statements_whatever_the_number_of_posts(self, owner):
        for action, start in (("add_hashtag", "retro"), ("remove_hashtag", "retro pixel")):
            posts = make_posts(owner, 128, hashtags=start)
            counts = []
            for ids in ([posts[0].pk], ids_of(posts)):
                with CaptureQueriesContext(connection) as captured:
                    result = run(owner, action, ids, "pixel")
                statements = [
                    query["sql"]
                    for query in captured.captured_queries
                    if "SAVEPOINT" not in query["sql"]
                ]
                counts.append(len(statements))
                assert [sql.split()[0] for sql in statements] == ["SELECT", "UPDATE", "INSERT"]
                # Undo both, so each pass changes every post it names.
                undo(owner, result.activity_id)
            assert counts == [3, 3]


class TestRemoveHashtag:
    def test_it_removes_any_spelling_and_keeps_the_other_hashtags(self, owner):
        (a,) = make_posts(owner, 1, hashtags="retro PIXEL fox")
        (b,) = make_posts(owner, 1, hashtags="pixel")
        (c,) = make_posts(owner, 1, hashtags="retro")
        result = run(owner, "remove_hashtag", [a.pk, b.pk, c.pk], "#Pixel")
        assert result.changed_ids == [a.pk, b.pk]
        assert result.message == "Removed #pixel from 2 posts (1 did not have it)."
        assert [hashtags(a), hashtags(b), hashtags(c)] == ["retro fox", "", "retro"]
        again = run(owner, "remove_hashtag", [a.pk, b.pk, c.pk], "pixel")
        assert again.message == "None of the 3 posts have #pixel; nothing changed."
        assert run(owner, "remove_hashtag", [a.pk], "pixel").message == (
            "The post does not have #pixel; nothing changed."
        )
        texts = [run.text for run in activity_recent(user=owner)]
        # One line: requests of one action and hashtag this close together are one run.
        assert texts == ["Removed #pixel from 2 of 7 posts"]


class TestUndo:
    @pytest.mark.parametrize(
        ("action", "start", "done", "text"),
        [
            ("hide", {}, {"hidden_by_user": True}, "Undid hiding 2 posts."),
            (
                "unhide",
                {"hidden_by_user": True},
                {"hidden_by_user": False},
                "Undid unhiding 2 posts.",
            ),
            ("delete", {}, {"deleted_by_user": True}, "Undid deleting 2 posts."),
            (
                "restore",
                {"deleted_by_user": True, "deleted_by_user_date": timezone.now()},
                {"deleted_by_user": False},
                "Undid restoring 2 posts.",
            ),
        ],
    )
    def test_it_runs_the_inverse_on_exactly_the_posts_that_changed(
        self, owner, action, start, done, text
    ):
        changing = make_posts(owner, 2, **start)
        # Already in the wanted state: the action leaves them, so must the undo.
        already = make_posts(owner, 1, **{**start, "hidden_by_user": action == "hide"})
        bystander = make_posts(owner, 1, **start)
        requested = changing + (already if action in ("hide", "unhide") else [])
        before = {post.pk: flags(post) for post in changing + already + bystander}
        result = run(owner, action, ids_of(requested))
        assert result.changed_ids == ids_of(changing)
        assert all(Post.objects.filter(pk=post.pk, **done).exists() for post in changing), (
            "the action did not act"
        )
        undone = undo(owner, result.activity_id)
        assert undone.message == text
        assert undone.undo_of == result.activity_id
        assert undone.action == ACTIONS[action].inverse
        assert undone.changed_ids == ids_of(changing)
        for post in changing + already + bystander:
            # Back as it was (a delete's date is cleared by the restore).
            assert flags(post)[:3] == before[post.pk][:3], post.pk
        entry = ActivityEntry.objects.get(pk=undone.activity_id)
        assert (entry.undo_of_id, entry.post_ids, entry.count) == (
            result.activity_id,
            ids_of(changing),
            2,
        )
        assert activity_recent(user=owner)[0].text == text.rstrip(".")

    def test_undoing_a_delete_restores_and_a_restore_undone_deletes_again(self, owner):
        posts = make_posts(owner, 3)
        deleted = run(owner, "delete", ids_of(posts))
        assert undo(owner, deleted.activity_id).affected_count == 3
        assert not Post.objects.filter(deleted_by_user=True).exists()
        assert set(Post.objects.filter(owner=owner).recently_deleted()) == set()

    @pytest.mark.parametrize(
        ("action", "start", "inverse_check"),
        [
            ("add_hashtag", "retro", lambda text: text == "retro"),
            ("remove_hashtag", "retro pixel", lambda text: text == "retro pixel"),
        ],
    )
    def test_it_undoes_hashtag_actions_on_the_posts_that_changed(
        self, owner, action, start, inverse_check
    ):
        changing = make_posts(owner, 2, hashtags=start)
        other_state = "retro pixel" if action == "add_hashtag" else "retro"
        unchanged = make_posts(owner, 1, hashtags=other_state)
        result = run(owner, action, ids_of(changing + unchanged), "Pixel")
        assert result.changed_ids == ids_of(changing)
        undone = undo(owner, result.activity_id)
        assert all(inverse_check(hashtags(post)) for post in changing)
        assert hashtags(unchanged[0]) == other_state
        verb = "adding #pixel to" if action == "add_hashtag" else "removing #pixel from"
        assert undone.message == f"Undid {verb} 2 posts."
        assert undone.hashtag == "pixel"

    def test_a_post_changed_again_since_is_left_as_it_is(self, owner):
        kept, changed_again = make_posts(owner, 2)
        hid = run(owner, "hide", [kept.pk, changed_again.pk])
        # Meanwhile the owner unhid one and hid it again (its eye, twice).
        run(owner, "unhide", [changed_again.pk])
        run(owner, "hide", [changed_again.pk])
        # A later change of another kind is no reason to leave a post.
        run(owner, "add_hashtag", [kept.pk], "fox")
        undone = undo(owner, hid.activity_id)
        assert undone.changed_ids == [kept.pk]
        assert undone.message == (
            "Undid hiding 1 of 2 posts. 1 had changed since and was left as it is."
        )
        assert flags(kept)[0] is False
        assert flags(changed_again)[0] is True

    def test_a_hashtag_changed_since_in_another_spelling_is_left_as_it_is(self, owner):
        (post,) = make_posts(owner, 1, hashtags="retro")
        added = run(owner, "add_hashtag", [post.pk], "straße")
        # "strasse" is the same hashtag (case-folded): removing it removes
        # "straße", and adding it back writes the new spelling.
        assert run(owner, "remove_hashtag", [post.pk], "strasse").affected_count == 1
        run(owner, "add_hashtag", [post.pk], "strasse")
        undone = undo(owner, added.activity_id)
        assert undone.changed_ids == []
        assert undone.message == "Nothing was undone: the post had changed since."
        assert hashtags(post) == "retro strasse"

    def test_a_post_that_cannot_take_the_inverse_any_more_is_left_too(self, owner):
        posts = make_posts(owner, 2)
        hid = run(owner, "hide", ids_of(posts))
        # Deleted since, in a way the trail does not pair with hiding.
        Post.objects.filter(pk=posts[1].pk).update(
            deleted_by_user=True, deleted_by_user_date=timezone.now()
        )
        undone = undo(owner, hid.activity_id)
        assert undone.changed_ids == [posts[0].pk]
        assert flags(posts[1])[:3] == (True, False, True)
        nothing = run(owner, "hide", [posts[0].pk])
        run(owner, "unhide", [posts[0].pk])
        assert undo(owner, nothing.activity_id).message == (
            "Nothing was undone: the post had changed since."
        )

    def test_it_refuses_a_second_undo_an_undo_of_an_undo_and_what_changed_nothing(self, owner):
        posts = make_posts(owner, 2)
        hid = run(owner, "hide", ids_of(posts))
        undone = undo(owner, hid.activity_id)
        assert undo_refused(owner, hid.activity_id).message == (
            "That action has already been undone."
        )
        assert undo_refused(owner, undone.activity_id).message == (
            "An undo cannot be undone; run the action again instead."
        )
        run(owner, "hide", ids_of(posts))
        nothing = run(owner, "hide", ids_of(posts))
        assert undo_refused(owner, nothing.activity_id).message == (
            "That action changed nothing, so there is nothing to undo."
        )

    def test_it_answers_404_for_another_users_or_an_unknown_action(self, owner, other):
        (post,) = make_posts(owner, 1)
        hid = run(owner, "hide", [post.pk])
        for user, activity_id in ((other, hid.activity_id), (owner, hid.activity_id + 1000)):
            refusal = undo_refused(user, activity_id)
            assert isinstance(refusal, NotFound)
            assert refusal.message == "You have no action with that activity_id to undo."
        assert flags(post)[0] is True

    def test_it_refuses_after_the_undo_window_and_entries_from_before_undo(self, owner):
        (post,) = make_posts(owner, 1)
        hid = run(owner, "hide", [post.pk])
        ActivityEntry.objects.filter(pk=hid.activity_id).update(
            created_at=timezone.now() - UNDO_WINDOW - timedelta(seconds=1)
        )
        assert undo_refused(owner, hid.activity_id).message == (
            "That action is more than an hour old and can no longer be undone."
        )
        old = ActivityEntry.objects.create(user=owner, action="hide", post_ids=[post.pk], count=1)
        assert undo_refused(owner, old.pk).message == (
            "That action was recorded before undo existed and cannot be undone."
        )


class TestUndoConcurrency:
    @pytest.mark.postgresql_only
    @pytest.mark.django_db(transaction=True)
    def test_two_undos_of_one_action_at_once_undo_it_once(self, owner):
        posts = make_posts(owner, 3)
        hid = run(owner, "hide", ids_of(posts))
        start = threading.Barrier(2)
        outcomes: list[str] = []

        def undo_it() -> None:
            try:
                start.wait(5)
                outcomes.append(undo(owner, hid.activity_id).message)
            except DomainError as refusal:
                outcomes.append(refusal.message)
            finally:
                connection.close()

        threads = [threading.Thread(target=undo_it) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        assert sorted(outcomes) == ["That action has already been undone.", "Undid hiding 3 posts."]
        assert ActivityEntry.objects.filter(undo_of=hid.activity_id).count() == 1
        assert not Post.objects.filter(hidden_by_user=True).exists()
