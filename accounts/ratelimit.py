"""Per-client-address rate limits on the account forms, counted in the Django cache.

Fixed windows: a counter per (scope, window, client address) that lives as long as its
window. The cache is shared by every web process (Redis in production), so the limit
holds across processes. Over the limit, the view answers 429 with a friendly page and a
Retry-After header. Only POSTs count: looking at a form is free.
"""

from __future__ import annotations

import hashlib
import math
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.shortcuts import render

from . import clock


def client_ip(request) -> str:
    """The client's address: REMOTE_ADDR, or the proxy's last X-Forwarded-For entry."""
    if settings.ACCOUNTS_TRUST_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        if hops:
            return hops[-1][:45]
    return (request.META.get("REMOTE_ADDR") or "unknown")[:45]


def hit(*, scope: str, key: str) -> int:
    """Count one request; return 0 if allowed, else the seconds until the window ends."""
    if not settings.ACCOUNTS_RATELIMIT_ENABLED:
        return 0
    limit, window = settings.ACCOUNTS_RATE_LIMITS[scope]
    now = clock.now().timestamp()
    bucket = int(now // window)
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    cache_key = f"accounts:rl:{scope}:{bucket}:{digest}"
    cache.add(cache_key, 0, timeout=window + 1)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, timeout=window + 1)
        count = 1
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
