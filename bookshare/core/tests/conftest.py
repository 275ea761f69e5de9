import pytest


@pytest.fixture(autouse=True)
def _fresh_counters():
    """Rate-limit counters (the cache) and the cache-outage state start empty per test."""
    from django.core.cache import cache

    from bookshare.core import cache as safe_cache

    cache.clear()
    safe_cache.reset()
    yield
    cache.clear()
    safe_cache.reset()
