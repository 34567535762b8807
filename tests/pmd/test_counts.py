from __future__ import annotations

import pytest

from pmd.counts import cached_count, owner_posts_changed
from tests.services import require_redis


@pytest.fixture
def redis_cache(settings):
    require_redis()
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": settings.REDIS_URL,
            "KEY_PREFIX": "pmd-test-counts",
        }
    }
    from django.core.cache import cache

    cache.clear()
    return cache


class TestCachedCount:
    def test_it_computes_once_until_the_owner_posts_change(self, redis_cache):
        calls = []

        def compute():
            calls.append(1)
            return 40 + len(calls)

        assert cached_count(7, "all", compute) == 41
        assert cached_count(7, "all", compute) == 41
        assert len(calls) == 1
        owner_posts_changed(7)
        assert cached_count(7, "all", compute) == 42
        assert len(calls) == 2

    def test_owners_and_keys_are_kept_apart(self, redis_cache):
        assert cached_count(1, "all", lambda: 5) == 5
        assert cached_count(2, "all", lambda: 9) == 9
        assert cached_count(1, "hidden", lambda: 2) == 2
        owner_posts_changed(2)
        assert cached_count(1, "all", lambda: 100) == 5

    def test_it_still_counts_when_the_cache_is_down(self, settings):
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": "redis://127.0.0.1:1/0",
                "OPTIONS": {"socket_connect_timeout": 0.2},
            }
        }
        assert cached_count(3, "all", lambda: 12) == 12
        owner_posts_changed(3)  # logs, does not raise
