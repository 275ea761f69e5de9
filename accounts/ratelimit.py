"""Per-client-address rate limits on the account forms, counted in the Django cache.

Fixed windows: a counter per (scope, window, client address) that lives as long as its
window. The cache is shared by every web process (Redis in production), so the limit
holds across processes. Over the limit, the view answers 429 with a friendly page and a
Retry-After header. Only POSTs count: looking at a form is free. The client address is
bookshare.core.proxies.client_ip (X-Forwarded-For only from ACCOUNTS_TRUSTED_PROXIES).
"""

from __future__ import annotations

import hashlib
import math
from functools import wraps

from django.conf import settings
from django.shortcuts import render

from bookshare.core import cache
from bookshare.core.proxies import client_ip

from . import clock

__all__ = ["client_ip", "hit", "rate_limited", "too_many_requests"]


def hit(*, scope: str, key: str) -> int:
    """Count one request; return 0 if allowed, else the seconds until the window ends."""
    if not settings.ACCOUNTS_RATELIMIT_ENABLED:
        return 0
    limit, window = settings.ACCOUNTS_RATE_LIMITS[scope]
    now = clock.now().timestamp()
    bucket = int(now // window)
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    cache_key = f"accounts:rl:{scope}:{bucket}:{digest}"
    # With the cache down this counts per process (bookshare/core/cache.py): limits
    # loosen, sign-in and registration keep working.
    count = cache.incr_window(cache_key, timeout=window + 1)
    if count <= limit:
        return 0
    return max(1, math.ceil((bucket + 1) * window - now))


def too_many_requests(request, *, retry_after: int):
    minutes = max(1, math.ceil(retry_after / 60))
    response = render(
        request,
        "accounts/429.html",
        {"retry_after": retry_after, "retry_minutes": minutes},
        status=429,
    )
    response["Retry-After"] = str(retry_after)
    return response


def rate_limited(scope: str):
    """View decorator: limit POSTs to `scope` per client address."""

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method == "POST":
                retry_after = hit(scope=scope, key=client_ip(request))
                if retry_after:
                    return too_many_requests(request, retry_after=retry_after)
            return view(request, *args, **kwargs)

        return wrapper

    return decorate
