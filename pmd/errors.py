"""What the dashboard's rules raise when they refuse: the one vocabulary of refusals.

Services, selectors and access helpers raise these, and know nothing of HTTP;
the HTTP edge gives each kind its status code in one place (pmd.refusals).
A refusal changes nothing: whatever raised it wrote nothing first. Every
message is written for the person who asked, never a stack trace.
"""

from __future__ import annotations

from datetime import datetime


class DomainError(Exception):
    """A rule refused what was asked; `message` says why, for a person."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Invalid(DomainError):
    """What was asked cannot be done as asked (posts not the caller's, ...)."""


class NotFound(DomainError):
    """No such thing, or not the caller's: answered alike, so ids cannot be probed."""


class Forbidden(DomainError):
    """The caller may not do this at all (support without the permission for it)."""


class Conflict(DomainError):
    """Not possible in the thing's current state (retry of a request not failed, ...)."""


class Gone(DomainError):
    """It existed, and is no longer there (an expired download)."""


class Unavailable(DomainError):
    """A service it needs (the object store) does not answer now; try again later."""


class DailyLimitReached(DomainError):
    """Today's download requests are used up; `resets_at` is when more are allowed."""

    def __init__(self, *, limit: int, resets_at: datetime, now: datetime) -> None:
        wait = resets_at - now
        hours, minutes = divmod(max(int(wait.total_seconds()) // 60, 1), 60)
        in_words = f"{hours} h {minutes} min" if hours else f"{minutes} min"
        super().__init__(
            f"You have used all {limit} download requests for today. "
            f"The limit resets at 00:00 UTC, in {in_words}."
        )
        self.resets_at = resets_at
