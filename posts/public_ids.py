"""Public ids (sqids) of users and posts: URLs never show row numbers.

A sqid decodes to exactly one id, but several strings can decode to the same
id; only the canonical one (the one `encode` gives back) is accepted, so every
object has exactly one public URL.
"""

from __future__ import annotations

from functools import cache, lru_cache

from django.conf import settings
from sqids import Sqids

from pmd_project.inputs import ID_LIMIT


@cache
def _user_coder() -> Sqids:
    return Sqids(alphabet=settings.SQIDS_ALPHABET, min_length=settings.SQIDS_MIN_LENGTH)


@cache
def _post_coder() -> Sqids:
    # A different alphabet order, so a user's and a post's sqids never look alike.
    return Sqids(alphabet=settings.SQIDS_ALPHABET[::-1], min_length=settings.SQIDS_MIN_LENGTH)


def _decode(coder: Sqids, sqid: str) -> int | None:
    """The id `sqid` stands for, or None ("not found"): empty, too long, not
    canonical, or beyond any database id (such a number cannot be encoded back)."""
    if not sqid or len(sqid) > 32:
        return None
    numbers = coder.decode(sqid)
    if len(numbers) != 1 or not 0 < numbers[0] < ID_LIMIT or coder.encode(numbers) != sqid:
        return None
    return numbers[0]


# Encoding shuffles the alphabet each time (~70 µs); a table of 512 rows
# would spend 35 ms on it without remembering recent answers.
@lru_cache(maxsize=65536)
def user_sqid(user_id: int) -> str:
    return _user_coder().encode([user_id])


def user_id_from_sqid(sqid: str) -> int | None:
    return _decode(_user_coder(), sqid)


@lru_cache(maxsize=262144)
def post_sqid(post_id: int) -> str:
    return _post_coder().encode([post_id])


def post_id_from_sqid(sqid: str) -> int | None:
    return _decode(_post_coder(), sqid)
