from __future__ import annotations

import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from posts.counters import RECOUNT_BATCH, missing_triggers, recount


class Command(BaseCommand):
    help = (
        "Repair drift in the posts' comment_count and reaction_count and forget the cached "
        "post counts. Safe to run at any time; reports what it fixed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", help="only this user's posts (username)")
        parser.add_argument(
            "--batch",
            type=int,
            default=RECOUNT_BATCH,
            help=f"posts per transaction (default {RECOUNT_BATCH:,})",
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
        missing = missing_triggers()
        if missing:
            # Without them the counters drift again at the next write.
            self.stderr.write(
                self.style.WARNING(
                    f"Counter triggers missing: {', '.join(missing)}. Run `manage.py migrate`; "
                    "if it reports nothing to do, migrate posts back to 0002 and forward again."
                )
            )
        self._batch = options["batch"]
        started = time.monotonic()
        result = recount(owner=owner, batch=options["batch"], progress=self._progress)
        seconds = time.monotonic() - started
        whose = f"{owner.get_username()}'s " if owner else ""
        fixes = "; ".join(f"{name} fixed on {count:,}" for name, count in result.fixed.items())
        self.stdout.write(
            f"Checked {whose}{result.checked:,} posts in {seconds:.1f} s: {fixes}. "
            "Cached post counts forgotten."
        )

    def _progress(self, done: int, total: int) -> None:
        if total <= self._batch:
            return  # one transaction: nothing to follow
        self.stdout.write(
            f"\rRecounting {done:,}/{total:,} posts ({done * 100 // total}%)",
            ending="" if done < total else "\n",
        )
        self.stdout.flush()
