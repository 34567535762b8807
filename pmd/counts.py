"""Cached post counts for the dashboard.

Counting 100,000 rows on every page view costs a scan per page (issue 3); the
count of a given filter is kept in the cache under a per-owner version that
every write to the owner's posts bumps, so a count is never stale after a
change made through the PMD. Cache trouble (Redis down) only costs speed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.core.cache import cache

logger = logging.getLogger(__name__)

COUNT_TTL_SECONDS = 600


def _version_key(owner_id: int) -> str:
    return f"pmd:counts-version:{owner_id}"


def owner_posts_changed(owner_id: int) -> None:
    """Forget every cached count of this owner's posts. Call after commit."""
    try:
        cache.incr(_version_key(owner_id))
    except ValueError:
        # No version yet: nothing cached to forget.
        pass
    except Exception:  # noqa: BLE001 - the cache is an optimisation
        logger.warning("could not invalidate cached counts of owner %s", owner_id, exc_info=True)


def cached_count(owner_id: int, key: str, compute: Callable[[], int]) -> int:
    """compute(), remembered until the owner's posts change."""
    try:
        version = cache.get_or_set(_version_key(owner_id), 1, timeout=None)
        cache_key = f"pmd:count:{owner_id}:{version}:{key}"
        value = cache.get(cache_key)
    except Exception:  # noqa: BLE001 - the cache is an optimisation
        logger.warning("count cache unavailable", exc_info=True)
        return compute()
    if value is None:
        value = compute()
        try:
            cache.set(cache_key, value, COUNT_TTL_SECONDS)
        except Exception:  # noqa: BLE001
            logger.warning("count cache unavailable", exc_info=True)
    return value
