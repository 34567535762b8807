"""comment_count and reaction_count stay exact whoever writes.

Database triggers (posts migration 0003) on PostgreSQL and SQLite: every
write path below goes around Python on purpose where it can (queryset
update()/delete(), bulk_create, raw SQL), so no signal could have seen it.
"""

from __future__ import annotations

import io
import re
import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from posts.models import VISIBLE_COMMENT, Comment, Post, Reaction
from posts.public_ids import user_sqid
from testing.factories import make_comment, make_posts, make_reaction, make_user
from tests.admin_forms import admin_comment_form, admin_post_form


@pytest.fixture
def fans(db):
    return [make_user(f"fan{number}") for number in range(4)]


def counters(post: Post) -> tuple[int, int]:
    post.refresh_from_db(fields=["comment_count", "reaction_count"])
    return post.comment_count, post.reaction_count


def truth(post: Post) -> tuple[int, int]:
    """What comments.json and reactions.json of a download would hold."""
    return (
        Comment.objects.filter(VISIBLE_COMMENT, post=post).count(),
        Reaction.objects.filter(post=post).count(),
    )


def assert_true(*posts: Post) -> None:
    for post in posts:
        assert counters(post) == truth(post), post.pk


class TestComments:
    def test_orm_create_save_and_delete(self, owner):
        post, _ = make_posts(owner, 2)
        shown = [make_comment(post) for _ in range(3)]
        make_comment(post, hidden_by_mod=True)
        make_comment(post, deleted_by_owner=True)
        assert counters(post) == (3, 0)
        shown[0].hidden_by_mod = True
        shown[0].save()
        assert counters(post) == (2, 0)
        shown[0].hidden_by_mod = False
        shown[0].deleted_by_owner = True
        shown[0].save()
        assert counters(post) == (2, 0)
        shown[0].deleted_by_owner = False
        shown[0].save()
        assert counters(post) == (3, 0)
        shown[1].body = "edited"  # a change that does not count
        shown[1].save()
        shown[2].delete()
        assert counters(post) == (2, 0)
        assert_true(post)

    def test_moving_comments_between_posts(self, owner):
        first, second = make_posts(owner, 2)
        moving = make_comment(first)
        hidden = make_comment(first, hidden_by_mod=True)
        make_comment(first)
        moving.post = second
        moving.save()
        hidden.post = second
        hidden.save()
        assert (counters(first), counters(second)) == ((1, 0), (1, 0))
        Comment.objects.filter(post=first).update(post=second)
        assert (counters(first), counters(second)) == ((0, 0), (2, 0))
        # Moved and unhidden in one statement.
        Comment.objects.filter(pk=hidden.pk).update(post=first, hidden_by_mod=False)
        assert (counters(first), counters(second)) == ((1, 0), (2, 0))
        assert_true(first, second)

    def test_queryset_update_and_delete(self, owner):
        first, second = make_posts(owner, 2)
        for post in (first, first, first, second):
            make_comment(post)
        Comment.objects.filter(post=first).update(hidden_by_mod=True)
        assert (counters(first), counters(second)) == ((0, 0), (1, 0))
        Comment.objects.all().update(hidden_by_mod=False)
        assert (counters(first), counters(second)) == ((3, 0), (1, 0))
        Comment.objects.filter(post=first)[:1].get().delete()
        Comment.objects.filter(post__in=[first, second]).delete()
        assert (counters(first), counters(second)) == ((0, 0), (0, 0))

    def test_bulk_create_and_raw_sql(self, owner):
        posts = make_posts(owner, 3)
        now = timezone.now()
        Comment.objects.bulk_create(
            [Comment(post=post, body="hi", created_at=now) for post in posts for _ in range(2)]
            + [Comment(post=posts[0], body="x", created_at=now, deleted_by_owner=True)]
        )
        assert [counters(post) for post in posts] == [(2, 0)] * 3
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO posts_comment (post_id, body, created_at, hidden_by_mod, "
                "deleted_by_owner) VALUES (%s, 'raw', %s, %s, %s)",
                [posts[1].pk, now, False, False],
            )
            cursor.execute(
                "UPDATE posts_comment SET deleted_by_owner = %s WHERE post_id = %s",
                [False, posts[0].pk],
            )
            cursor.execute("DELETE FROM posts_comment WHERE post_id = %s", [posts[2].pk])
        assert [counters(post) for post in posts] == [(3, 0), (3, 0), (0, 0)]
        assert_true(*posts)

    def test_a_moderator_hides_a_comment_in_the_admin(self, owner, owner_client, staff_client):
        # The case: the Comments column, its sort and the API
        # disagreed with comments.json forever.
        busy, quiet = make_posts(owner, 2)
        busy_comments = [make_comment(busy), make_comment(busy)]
        make_comment(quiet)
        for comment in busy_comments:
            response = staff_client.post(
                f"/admin/posts/comment/{comment.pk}/change/",
                admin_comment_form(comment, hidden_by_mod=True),
            )
            assert response.status_code == 302, response.content.decode()[:2000]
        assert Comment.objects.filter(hidden_by_mod=True).count() == 2
        assert_true(busy, quiet)
        items = {item["id"]: item for item in owner_client.get("/api/pmd/posts").json()["items"]}
        assert items[busy.pk]["comment_count"] == 0
        assert items[quiet.pk]["comment_count"] == 1
        table = owner_client.get(
            f"/u/{user_sqid(owner.pk)}/posts?sort=comments&dir=desc",
            headers={"HX-Request": "true"},
        ).content.decode()
        assert [int(i) for i in re.findall(r'<tr data-post-id="(\d+)"', table)] == [
            quiet.pk,
            busy.pk,
        ]

    def test_admin_delete_and_bulk_delete(self, owner, staff_client):
        (post,) = make_posts(owner, 1)
        comments = [make_comment(post) for _ in range(4)]
        response = staff_client.post(
            f"/admin/posts/comment/{comments[0].pk}/delete/", {"post": "yes"}
        )
        assert response.status_code == 302
        response = staff_client.post(
            "/admin/posts/comment/",
            {
                "action": "delete_selected",
                "_selected_action": [c.pk for c in comments[1:3]],
                "post": "yes",
            },
        )
        assert response.status_code == 302
        assert counters(post) == (1, 0)

    def test_drift_never_blocks_a_write(self, owner):
        (post,) = make_posts(owner, 1)
        comment = make_comment(post)
        Post.objects.filter(pk=post.pk).update(comment_count=0)  # drift
        comment.delete()  # would take the counter below zero
        assert counters(post) == (0, 0)
        make_comment(post)
        assert counters(post) == (1, 0)


class TestReactions:
    def test_every_write_path(self, owner, fans, staff_client):
        first, second = make_posts(owner, 2)
        reactions = [make_reaction(first, fan) for fan in fans]
        assert counters(first) == (0, 4)
        reactions[0].delete()
        Reaction.objects.filter(pk=reactions[1].pk).update(post=second)
        assert (counters(first), counters(second)) == ((0, 2), (0, 1))
        Reaction.objects.bulk_create(
            [Reaction(post=second, user=fan, emoji="🎨", created_at=timezone.now()) for fan in fans]
        )
        assert counters(second) == (0, 5)
        Reaction.objects.filter(post=second, emoji="🎨").delete()
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM posts_reaction WHERE id = %s", [reactions[2].pk])
        response = staff_client.post(
            "/admin/posts/reaction/",
            {"action": "delete_selected", "_selected_action": [reactions[3].pk], "post": "yes"},
        )
        assert response.status_code == 302
        assert (counters(first), counters(second)) == ((0, 0), (0, 1))
        assert_true(first, second)


class TestPosts:
    def test_a_post_saved_meanwhile_keeps_the_new_counts(self, owner, fans):
        # The admin's change form, or any code, saves a post it read a moment ago.
        (post,) = make_posts(owner, 1)
        stale = Post.objects.get(pk=post.pk)
        make_comment(post)
        make_reaction(post, fans[0])
        stale.title = "Renamed"
        stale.save()
        assert counters(post) == (1, 1)
        assert Post.objects.get(pk=post.pk).title == "Renamed"

    def test_the_admin_change_form_keeps_the_counts(self, owner, fans, staff_client):
        (post,) = make_posts(owner, 1)
        data = admin_post_form(post, title="Renamed by support")
        make_comment(post)  # while the form was open
        response = staff_client.post(f"/admin/posts/post/{post.pk}/change/", data)
        assert response.status_code == 302, response.content.decode()[:2000]
        assert counters(post) == (1, 0)
        assert Post.objects.get(pk=post.pk).title == "Renamed by support"

    def test_deleting_posts_deletes_their_comments_and_reactions(self, owner, fans):
        posts = make_posts(owner, 3)
        for post in posts:
            make_comment(post)
            make_reaction(post, fans[0])
        posts[0].delete()
        Post.objects.filter(pk=posts[1].pk).delete()
        assert Comment.objects.count() == Reaction.objects.count() == 1
        assert_true(posts[2])

    def test_seed_demo_counts_once(self, db):
        call_command("seed_demo", "--user", "pixelfan", "--posts", "120", "--seed", "9")
        posts = Post.objects.filter(owner__username="pixelfan")
        assert Comment.objects.filter(post__in=posts).exists()
        assert Reaction.objects.filter(post__in=posts).exists()
        for post in posts:
            assert counters(post) == truth(post)


class TestTriggers:
    def test_every_trigger_is_installed(self, db):
        # An SQLite table rebuild (a later AlterField) drops a table's triggers.
        from posts.counters import missing_triggers

        assert missing_triggers() == []

    def test_every_post_column_but_the_counters_bumps_the_version(self):
        from posts.counters import versioned_columns

        columns = {
            field.column
            for field in Post._meta.concrete_fields
            if not field.primary_key and not field.generated
        }
        counters = {"comment_count", "reaction_count", "view_count"}
        assert set(versioned_columns()) == columns - counters, (
            "a new Post column: add it to the version triggers in a new migration"
        )

    def test_the_version_moves_with_the_posts_not_their_counters(self, owner, other, fans):
        from pmd.counts import owner_posts_version

        posts = make_posts(owner, 3)
        version = owner_posts_version(owner.pk)
        make_comment(posts[0])
        make_reaction(posts[0], fans[0])
        Post.objects.filter(owner=owner).update(view_count=5)
        Post.objects.filter(owner=owner).update(hidden_by_user=False)  # no change
        assert owner_posts_version(owner.pk) == version
        Post.objects.filter(pk=posts[0].pk).update(title="New title")
        assert owner_posts_version(owner.pk) > version
        version, others = owner_posts_version(owner.pk), owner_posts_version(other.pk)
        Post.objects.filter(pk=posts[1].pk).update(owner=other)
        assert owner_posts_version(owner.pk) > version
        assert owner_posts_version(other.pk) > others

    @pytest.mark.postgresql_only
    def test_one_statement_bumps_each_owner_once(self, owner, other):
        from pmd.counts import owner_posts_version

        make_posts(owner, 128)
        make_posts(other, 5)
        version, others = owner_posts_version(owner.pk), owner_posts_version(other.pk)
        Post.objects.all().update(hidden_by_mod=True)
        assert owner_posts_version(owner.pk) == version + 1
        assert owner_posts_version(other.pk) == others + 1

    @pytest.mark.postgresql_only
    @pytest.mark.django_db(transaction=True)
    def test_truncate_zeroes_the_counters_and_bumps_every_version(self, owner, fans):
        # Committed rows: TRUNCATE refuses a table with deferred FK checks pending.
        from pmd.counts import owner_posts_version

        (post,) = make_posts(owner, 1)
        make_comment(post)
        make_reaction(post, fans[0])
        version = owner_posts_version(owner.pk)
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE posts_comment, posts_reaction")
        assert counters(post) == (0, 0)
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE posts_post CASCADE")
        assert owner_posts_version(owner.pk) > version

    @pytest.mark.django_db(transaction=True)
    def test_the_migration_goes_back_and_forth(self):
        from posts.counters import TRIGGERS, missing_triggers

        call_command("migrate", "posts", "0002", verbosity=0)
        try:
            assert missing_triggers() == list(TRIGGERS)
            assert "posts_ownerpostsversion" not in connection.introspection.table_names()
        finally:
            call_command("migrate", "posts", verbosity=0)
        assert missing_triggers() == []


def _recount(*args) -> str:
    out = io.StringIO()
    call_command("recount", *args, stdout=out, stderr=out)
    return out.getvalue()


class TestRecount:
    def test_it_repairs_drift_that_raw_sql_wrote_and_says_so(self, owner, fans):
        posts = make_posts(owner, 4)
        for post in posts:
            make_comment(post)
            make_reaction(post, fans[0])
        with connection.cursor() as cursor:
            # Writes the counter itself: no trigger can tell this is wrong.
            cursor.execute(
                "UPDATE posts_post SET comment_count = 7 WHERE id IN (%s, %s)",
                [posts[0].pk, posts[1].pk],
            )
        Post.objects.filter(pk=posts[2].pk).update(reaction_count=0)
        output = _recount()
        assert "Checked 4 posts" in output
        assert "comment_count fixed on 2; reaction_count fixed on 1" in output
        assert_true(*posts)
        assert "comment_count fixed on 0; reaction_count fixed on 0" in _recount()

    def test_it_can_keep_to_one_user(self, owner, other):
        mine, theirs = make_posts(owner, 1)[0], make_posts(other, 1)[0]
        Post.objects.update(comment_count=3)
        output = _recount("--user", owner.username)
        assert f"Checked {owner.username}'s 1 posts" in output
        assert "comment_count fixed on 1;" in output
        assert counters(mine) == (0, 0)
        assert counters(theirs) == (3, 0)

    def test_it_forgets_cached_counts(self, owner):
        from pmd.counts import owner_posts_version

        make_posts(owner, 1)
        version = owner_posts_version(owner.pk)
        _recount("--user", owner.username)
        assert owner_posts_version(owner.pk) > version

    def test_it_shows_progress_on_large_runs_and_refuses_bad_input(self, owner):
        make_posts(owner, 5)
        Post.objects.update(reaction_count=2)
        output = _recount("--batch", "2")
        assert "Recounting 2/5 posts (40%)" in output and "5/5 posts (100%)" in output
        assert "reaction_count fixed on 5" in output
        with pytest.raises(CommandError, match="No user called 'nobody'"):
            _recount("--user", "nobody")
        with pytest.raises(CommandError, match="--batch must be at least 1"):
            _recount("--batch", "0")

    @pytest.mark.postgresql_only
    def test_it_warns_when_a_trigger_is_off(self, db):
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE posts_comment DISABLE TRIGGER posts_comment_count_insert")
        output = _recount()
        assert "Counter triggers missing: posts_comment_count_insert." in output

    def test_its_queries_do_not_grow_with_the_posts(self, owner):
        # Set-based: a batch costs the same few statements for 5 or 200 posts.
        statements = []
        for count in (5, 200):
            Post.objects.all().delete()
            make_posts(owner, count)
            Post.objects.update(comment_count=1, reaction_count=1)
            with CaptureQueriesContext(connection) as captured:
                _recount()
            statements.append(len(captured.captured_queries))
        assert statements[0] == statements[1]

    @pytest.mark.postgresql_only
    @pytest.mark.django_db(transaction=True)
    def test_a_comment_written_meanwhile_is_counted_once(self, owner):
        (post,) = make_posts(owner, 1)
        Post.objects.filter(pk=post.pk).update(comment_count=9)  # drift to repair
        other = connections.create_connection("default")
        try:
            # Another writer: its comment is in, its trigger has locked the
            # post, it has not committed yet.
            other.set_autocommit(False)
            with other.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO posts_comment (post_id, body, created_at, hidden_by_mod, "
                    "deleted_by_owner) VALUES (%s, 'meanwhile', now(), false, false)",
                    [post.pk],
                )
            result = {}

            def run_recount():
                try:
                    result["out"] = _recount()
                finally:
                    connections.close_all()

            recounting = threading.Thread(target=run_recount)
            recounting.start()
            recounting.join(0.5)
            assert recounting.is_alive(), "recount did not wait for the writer's lock"
            other.commit()
            recounting.join(10)
            assert "comment_count fixed on 1" in result["out"]
        finally:
            other.close()
        assert counters(post) == truth(post) == (1, 0)
