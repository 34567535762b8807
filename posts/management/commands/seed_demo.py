from __future__ import annotations

import sys
import time

from django.conf import settings
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_email
from django.urls import reverse

from posts.demo import ensure_user, seed_posts
from posts.public_ids import user_sqid

MAX_POSTS = 1_000_000


class Command(BaseCommand):
    help = "Create (or top up) a demo user with realistic posts, comments and reactions."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", default="demo", help="username (default: demo)")
        parser.add_argument("--password", default="pixels-demo-2026", help="password")
        parser.add_argument("--email", default="demo@example.com", help="email address")
        parser.add_argument("--posts", default="600", help="total posts the user should have")
        parser.add_argument(
            "--seed", type=int, default=None, help="random seed, for repeatable data"
        )
        parser.add_argument("--no-playlists", action="store_true", help="artwork posts only")
        parser.add_argument(
            "--reset-password",
            action="store_true",
            help="set an existing user's password to --password (logs that user out everywhere)",
        )

    def handle(self, *args, **options) -> None:
        username, password, email = options["user"], options["password"], options["email"]
        # Everything is checked before anything is written: no partial user.
        try:
            UnicodeUsernameValidator()(username)
        except ValidationError:
            raise CommandError(f"--user {username!r} is not a valid username") from None
        if not username or len(username) > 150:
            raise CommandError("--user must be 1 to 150 characters")
        if len(password) < 8:
            raise CommandError("--password must be at least 8 characters")
        try:
            validate_email(email)
        except ValidationError:
            raise CommandError(f"--email {email!r} is not a valid email address") from None
        try:
            total = int(options["posts"])
        except ValueError:
            raise CommandError(
                f"--posts must be a whole number, not {options['posts']!r}"
            ) from None
        if not 0 <= total <= MAX_POSTS:
            raise CommandError(f"--posts must be between 0 and {MAX_POSTS:,}")

        user, password_set = ensure_user(
            username=username,
            password=password,
            email=email,
            reset_password=options["reset_password"],
        )
        started = time.monotonic()
        created = seed_posts(
            owner=user,
            total=total,
            seed=options["seed"],
            progress=self._progress,
            playlists=not options["no_playlists"],
        )
        elapsed = time.monotonic() - started
        if created:
            self.stdout.write(f"\nCreated {created:,} posts in {elapsed:.1f} s.")
        else:
            self.stdout.write(f"{username} already has {total:,} posts or more; nothing to add.")
        sqid = user_sqid(user.pk)
        credentials = (
            f"{username} / {password}"
            if password_set
            else f"{username} (password as it was; --reset-password sets it to {password})"
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Log in at {settings.SITE_URL}{reverse('login')} as {credentials}\n"
                f"Profile: {settings.SITE_URL}{reverse('posts:profile', args=[sqid])}\n"
                f"PMD:     {settings.SITE_URL}{reverse('pmd:dashboard', args=[sqid])}"
            )
        )

    def _progress(self, done: int, total: int) -> None:
        width = 30
        filled = width * done // total
        bar = "█" * filled + "░" * (width - filled)
        end = "" if done < total else "\n"
        sys.stdout.write(
            f"\rSeeding posts [{bar}] {done * 100 // total:3d}% {done:,}/{total:,}{end}"
        )
        sys.stdout.flush()
