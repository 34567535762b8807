"""Cached post counts for the dashboard.

Counting 100,000 rows costs milliseconds on every page view, so a
count is kept in the cache under a key that holds the owner's posts version.
Database triggers bump that version in the same transaction as any insert,
delete or change of the owner's posts, whoever writes them (the PMD, the
admin, other code's queryset update() or delete(), raw SQL; posts migration
0003). A cached count therefore never outlives a change, and nothing has to
remember to forget it. Reading the version is one
primary-key lookup per request, however many counts it serves. Cache trouble
(Redis down) only costs speed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

from django.core.cache import cache

from posts.models import OwnerPostsVersion

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Keys are versioned, so this never keeps a stale count alive; it only bounds
# the memory of counts nobody asks for any more.
COUNT_TTL_SECONDS = 600


def owner_posts_version(owner_id: int) -> int:
    """The owner's posts version (0 until their posts first change)."""
    versions = OwnerPostsVersion.objects.filter(owner_id=owner_id).values_list("version", flat=True)
    return next(iter(versions), 0)


def cached_counts(owner_id: int, computes: Mapping[str, Callable[[], T]]) -> dict[str, T]:
    """{key: compute()} for each key, each remembered until the owner's posts change
    (a count, or any picklable value made of counts: the table's facets)."""
    version = owner_posts_version(owner_id)
    cache_keys = {key: f"pmd:count:{owner_id}:{version}:{key}" for key in computes}
    try:
        found = cache.get_many(list(cache_keys.values()))
    except Exception:  # noqa: BLE001 - the cache is an optimisation
        logger.warning("count cache unavailable", exc_info=True)
        found = None
    counts, computed = {}, {}
    for key, compute in computes.items():
        value = found.get(cache_keys[key]) if found is not None else None
        if value is None:
            value = computed[cache_keys[key]] = compute()
        counts[key] = value
    if computed and found is not None:
        try:
            cache.set_many(computed, COUNT_TTL_SECONDS)
        except Exception:  # noqa: BLE001
            logger.warning("count cache unavailable", exc_info=True)
    return counts


def forget_cached_counts(owner_id: int, keys: Sequence[str]) -> None:
    """Drop what cached_counts remembers under `keys` for the owner's current
    posts version: the next read counts again."""
    version = owner_posts_version(owner_id)
    cache.delete_many([f"pmd:count:{owner_id}:{version}:{key}" for key in keys])


def cached_count(owner_id: int, key: str, compute: Callable[[], int]) -> int:
    """compute(), remembered until the owner's posts change."""
    return cached_counts(owner_id, {key: compute})[key]
