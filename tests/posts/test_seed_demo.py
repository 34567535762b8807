from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.files.storage import storages
from django.core.management import CommandError, call_command
from django.db.models import F
from django.utils import timezone
from PIL import Image

from posts.models import VISIBLE_COMMENT, Comment, Post, Reaction
from testing.factories import ensure_licenses


def _seed(*args):
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
class TestSeedDemo:
    def test_it_creates_a_user_with_realistic_posts(self):
        ensure_licenses()
        output = _seed(
            "--user",
            "pixelfan",
            "--password",
            "pixels-pass-1",
            "--email",
            "p@example.com",
            "--posts",
            "300",
            "--seed",
            "3",
        )
        user = get_user_model().objects.get(username="pixelfan")
        assert user.check_password("pixels-pass-1")
        posts = Post.objects.filter(owner=user)
        assert posts.count() == 300
        assert "/u/" in output and "/posts" in output and "pixelfan / pixels-pass-1" in output
        assert {p.file_format for p in posts} == {"png", "gif", "webp", "bmp"}
        assert posts.filter(kind="playlist").exists()
        assert posts.filter(hidden_by_user=True).exists()
        assert posts.filter(deleted_by_user=True, deleted_by_user_date__isnull=False).exists()
        assert posts.filter(description="").exists()
        assert any(len(p.title) > 200 for p in posts)
        # A mix of licences, and posts with none (all rights reserved).
        assert posts.filter(license__isnull=True).exists()
        assert posts.filter(license__isnull=False).values("license").distinct().count() >= 3
        assert Comment.objects.filter(post__owner=user, author__isnull=True).exists()
        assert Comment.objects.filter(post__owner=user, hidden_by_mod=True).exists()
        assert Comment.objects.filter(post__owner=user, deleted_by_owner=True).exists()

    def test_its_files_are_real_images_that_match_the_rows(self):
        _seed("--user", "pixelfan", "--posts", "40", "--seed", "5")
        for post in Post.objects.filter(file_format="gif")[:5]:
            with storages["vault"].open(post.art.name) as handle:
                data = handle.read()
            assert len(data) == post.file_bytes
            image = Image.open(io.BytesIO(data))
            assert image.size == (post.width, post.height)
            assert 2 <= image.n_frames == post.frame_count <= 64
            assert 8 <= post.width <= 256

    def test_its_counters_match_the_social_rows(self):
        _seed("--user", "pixelfan", "--posts", "80", "--seed", "9")
        for post in Post.objects.all()[:40]:
            assert post.comment_count == post.comments.filter(VISIBLE_COMMENT).count()
            assert post.reaction_count == post.reactions.count()

    def test_it_can_run_again_safely(self):
        _seed("--user", "pixelfan", "--posts", "50")
        output = _seed("--user", "pixelfan", "--posts", "50")
        assert "nothing to add" in output
        assert Post.objects.count() == 50
        _seed("--user", "pixelfan", "--posts", "60")
        assert Post.objects.count() == 60

    def test_it_leaves_an_existing_users_password_alone_unless_asked(self):
        # `make run` seeds on every start: setting the password again (a new
        # hash) would end every open session of the demo user.
        _seed("--user", "pixelfan", "--password", "first-pass-1", "--posts", "0")
        user = get_user_model().objects.get(username="pixelfan")
        hashed = user.password
        output = _seed("--user", "pixelfan", "--password", "other-pass-2", "--email", "n@ex.com")
        user.refresh_from_db()
        assert user.password == hashed and user.check_password("first-pass-1")
        assert user.email == "n@ex.com"
        assert "pixelfan (password as it was; --reset-password sets it to other-pass-2)" in output
        output = _seed("--user", "pixelfan", "--password", "other-pass-2", "--reset-password")
        user.refresh_from_db()
        assert user.check_password("other-pass-2")
        assert "as pixelfan / other-pass-2" in output

    def test_its_times_are_never_in_the_future_nor_a_deletion_before_its_upload(self):
        before = timezone.now()
        _seed("--user", "pixelfan", "--posts", "400", "--seed", "11")
        after = timezone.now()
        posts = Post.objects.all()
        assert Comment.objects.count() > 300 and Reaction.objects.count() > 300
        assert not Comment.objects.filter(created_at__gt=after).exists()
        assert not Reaction.objects.filter(created_at__gt=after).exists()
        assert not posts.filter(created_at__gt=before).exists()
        deleted = posts.filter(deleted_by_user=True)
        assert deleted.exists()
        assert not deleted.filter(deleted_by_user_date__lt=F("created_at")).exists()

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["--posts", "lots"], "--posts must be a whole number"),
            (["--posts", "-3"], "--posts must be between"),
            (["--user", "bad name!"], "is not a valid username"),
            (["--email", "nope"], "is not a valid email address"),
            (["--password", "short"], "at least 8 characters"),
        ],
    )
    def test_it_rejects_bad_arguments_without_creating_anything(self, args, message):
        with pytest.raises(CommandError, match=message):
            _seed("--user", "pixelfan", *args) if "--user" not in args else _seed(*args)
        assert not get_user_model().objects.exists()
        assert not Post.objects.exists()
