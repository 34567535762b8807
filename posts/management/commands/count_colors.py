from __future__ import annotations

import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from posts.color_counts import BATCH, count_missing_colors


class Command(BaseCommand):
    help = (
        "Count the distinct colours of every post that has no count yet (posts made before "
        "colour counts existed), for colors: in searches. Safe to stop and run again: it "
        "carries on with the posts still without a count."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", help="only this user's posts (username)")
        parser.add_argument(
            "--batch", type=int, default=BATCH, help=f"posts per update (default {BATCH:,})"
        )

    def handle(self, *args, **options) -> None:
        owner = None
        if options["user"] is not None:
            try:
                owner = get_user_model().objects.get(username=options["user"])
            except get_user_model().DoesNotExist:
                raise CommandError(f"No user called {options['user']!r}.") from None
        if options["batch"] < 1:
            raise CommandError("--batch must be at least 1")
        started = time.monotonic()
        result = count_missing_colors(owner=owner, batch=options["batch"], progress=self._progress)
        self.stdout.write(
            f"Counted the colours of {result.counted:,} posts in "
            f"{time.monotonic() - started:.1f} s"
            + (
                f"; {result.unreadable:,} files could not be read (their count stays empty)."
                if result.unreadable
                else "."
            )
        )

    def _progress(self, done: int, total: int) -> None:
        self.stdout.write(
            f"\rCounting colours: {done:,}/{total:,} posts", ending="" if done < total else "\n"
        )
        self.stdout.flush()
