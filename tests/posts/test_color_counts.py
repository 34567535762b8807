"""Post.color_count: counted when a post is made, filled in for older posts
by `manage.py count_colors` (batched, resumable, unreadable files skipped)."""

from __future__ import annotations

import io

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from PIL import Image

from pmd.counts import owner_posts_version
from posts.color_counts import count_missing_colors
from posts.colors import distinct_colors
from posts.models import Post
from testing.factories import make_post


def png(colours: int, size: int = 8) -> bytes:
    """A size × size PNG using exactly `colours` colours."""
    image = Image.new("RGB", (size, size))
    for index in range(size * size):
        image.putpixel((index % size, index // size), (index % colours * 7 % 256, 0, 0))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def uncounted(owner, colours: int) -> Post:
    name = storages["vault"].save("art/test/colours.png", ContentFile(png(colours)))
    return make_post(owner, write_file=False, art=name, color_count=None)


class TestBackfill:
    def test_it_counts_every_post_without_a_count(self, owner, other):
        posts = [uncounted(owner, 3), uncounted(owner, 5), uncounted(other, 9)]
        counted = make_post(owner, write_file=False, color_count=77)
        result = count_missing_colors(batch=2)
        assert (result.counted, result.unreadable) == (3, 0)
        assert [Post.objects.get(pk=p.pk).color_count for p in posts] == [3, 5, 9]
        assert Post.objects.get(pk=counted.pk).color_count == 77

    def test_each_batch_is_one_update_and_moves_the_version_once(self, owner):
        for colours in (2, 3, 4, 5):
            uncounted(owner, colours)
        version = owner_posts_version(owner.pk)
        with CaptureQueriesContext(connection) as queries:
            count_missing_colors(batch=2)
        updates = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
        assert len(updates) == 2
        if connection.vendor == "postgresql":
            assert owner_posts_version(owner.pk) == version + 2
        else:  # SQLite's triggers are row-level: one bump per post
            assert owner_posts_version(owner.pk) == version + 4

    def test_a_stopped_run_carries_on_where_it_stopped(self, owner):
        posts = [uncounted(owner, colours) for colours in (2, 3, 4)]
        seen = []

        def stop_after_first_batch(done, total):
            seen.append((done, total))
            raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            count_missing_colors(batch=2, progress=stop_after_first_batch)
        assert seen == [(2, 3)]
        assert Post.objects.filter(color_count__isnull=True).count() == 1
        result = count_missing_colors(batch=2)
        assert result.counted == 1
        assert [Post.objects.get(pk=p.pk).color_count for p in posts] == [2, 3, 4]

    def test_an_unreadable_or_missing_file_is_skipped_and_left_empty(self, owner):
        broken_name = storages["vault"].save("art/test/broken.png", ContentFile(b"not a png"))
        broken = make_post(owner, write_file=False, art=broken_name, color_count=None)
        missing = make_post(owner, write_file=False, art="art/test/gone.png", color_count=None)
        good = uncounted(owner, 6)
        result = count_missing_colors()
        assert (result.counted, result.unreadable) == (1, 2)
        assert Post.objects.get(pk=broken.pk).color_count is None
        assert Post.objects.get(pk=missing.pk).color_count is None
        assert Post.objects.get(pk=good.pk).color_count == 6

    def test_the_command_reports_and_takes_a_user(self, owner, other):
        uncounted(owner, 3)
        theirs = uncounted(other, 4)
        out = io.StringIO()
        call_command("count_colors", "--user", owner.username, stdout=out)
        assert "Counted the colours of 1 posts" in out.getvalue()
        assert Post.objects.get(pk=theirs.pk).color_count is None
        with pytest.raises(CommandError, match="No user called"):
            call_command("count_colors", "--user", "nobody")
        with pytest.raises(CommandError, match="--batch"):
            call_command("count_colors", "--batch", "0")


class TestNewPosts:
    def test_seeded_posts_have_their_colours(self, db):
        call_command("seed_demo", "--user", "pixelfan", "--posts", "12", "--seed", "3")
        posts = Post.objects.filter(owner__username="pixelfan")
        assert posts.count() == 12
        for post in posts:
            with storages["vault"].open(post.art.name, "rb") as file:
                assert post.color_count == distinct_colors(file) >= 2

    def test_a_post_added_in_the_admin_has_its_colours(self, owner, staff):
        client = Client()
        client.force_login(staff)
        response = client.post(
            "/admin/posts/post/add/",
            {
                "owner": str(owner.pk),
                "kind": "artwork",
                "title": "Added by support",
                "description": "",
                "hashtags": "",
                "created_at_0": "2026-01-02",
                "created_at_1": "10:00:00",
                "width": 8,
                "height": 8,
                "frame_count": 1,
                "file_format": "png",
                "file_bytes": 100,
                "art": SimpleUploadedFile("five.png", png(5), content_type="image/png"),
                "view_count": 0,
                "reaction_count": 0,
                "comment_count": 0,
                "_save": "Save",
            },
        )
        assert response.status_code == 302, response.context["adminform"].form.errors
        assert Post.objects.get(title="Added by support").color_count == 5
