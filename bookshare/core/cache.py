"""The Django cache, used so that a cache outage degrades instead of failing requests.

Every read here returns the caller's default when the cache is down, and every write is
skipped: callers then work from the database (cached reads) or from a per-process
counter (rate limits). A warning is logged at most once per WARN_EVERY seconds per
process, so an outage does not flood the log. The Redis cache is configured with short
socket timeouts in settings (CACHE_SOCKET_TIMEOUT), so a dead Redis costs a request at
most that long, and after a failure the cache is skipped for COOLDOWN seconds.

Use `from bookshare.core import cache` and `cache.get(...)`, `cache.set(...)`,
`cache.add(...)`, `cache.incr_window(...)` instead of `django.core.cache.cache`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict

from django.conf import settings
from django.core.cache import cache as _django_cache

log = logging.getLogger(__name__)

WARN_EVERY = 30.0
_lock = threading.Lock()
_state = {"down_until": 0.0, "warned_at": 0.0}
# Per-process stand-in for counters while the shared cache is down (bounded).
_local_counters: OrderedDict[str, tuple[int, float]] = OrderedDict()
_LOCAL_MAX = 10_000


def _cooldown() -> float:
    return getattr(settings, "CACHE_FAILURE_COOLDOWN", 5.0)


def is_down() -> bool:
    """True while a recent cache failure is still being waited out."""
    return time.monotonic() < _state["down_until"]


def reset() -> None:
    """Forget a noted failure (tests, and after an operator fixed the cache)."""
    with _lock:
        _state["down_until"] = 0.0
        _local_counters.clear()


def _failed(operation: str, exc: Exception) -> None:
    now = time.monotonic()
    with _lock:
        _state["down_until"] = now + _cooldown()
        warn = now - _state["warned_at"] >= WARN_EVERY
        if warn:
            _state["warned_at"] = now
    if warn:
        log.warning(
            "cache unavailable during %s (%s: %s); working without it for %.0f s",
            operation,
            type(exc).__name__,
            exc,
            _cooldown(),
        )


def get(key: str, default=None):
    if is_down():
        return default
    try:
        return _django_cache.get(key, default)
    except Exception as exc:
        _failed("get", exc)
        return default


def set(key: str, value, timeout: float | None = None) -> bool:
    if is_down():
        return False
    try:
        _django_cache.set(key, value, timeout)
    except Exception as exc:
        _failed("set", exc)
        return False
    return True


def add(key: str, value, timeout: float | None = None) -> bool | None:
    """True if added, False if the key was there, None if the cache is down."""
    if is_down():
        return None
    try:
        return _django_cache.add(key, value, timeout)
    except Exception as exc:
        _failed("add", exc)
        return None


def delete(key: str) -> None:
    if is_down():
        return
    try:
        _django_cache.delete(key)
    except Exception as exc:
        _failed("delete", exc)


def delete_many(keys) -> None:
    keys = list(keys)
    if not keys or is_down():
        return
    try:
        _django_cache.delete_many(keys)
    except Exception as exc:
        _failed("delete_many", exc)


def is_shared() -> bool:
    """True when every process sees the same cache (Redis, files, a database): only then
    may one process cache what another invalidates. A per-process (locmem) or dummy
    cache is not."""
    backend = settings.CACHES["default"]["BACKEND"]
    return not backend.endswith(("LocMemCache", "DummyCache"))


def incr_window(key: str, *, timeout: int) -> int:
    """Add one to the counter `key` (created with `timeout`) and return the new count.

    While the shared cache is down the count is kept in this process only: limits then
    hold per process (looser by the number of processes), never fail a request.
    """
    if not is_down():
        try:
            _django_cache.add(key, 0, timeout=timeout)
            try:
                return _django_cache.incr(key)
            except ValueError:  # expired between add and incr
                _django_cache.set(key, 1, timeout=timeout)
                return 1
        except Exception as exc:
            _failed("incr", exc)
    return _local_incr(key, timeout)


def _local_incr(key: str, timeout: int) -> int:
    now = time.monotonic()
    with _lock:
        count, expires = _local_counters.pop(key, (0, now + timeout))
        if expires <= now:
            count, expires = 0, now + timeout
        count += 1
        _local_counters[key] = (count, expires)
        while len(_local_counters) > _LOCAL_MAX:
            _local_counters.popitem(last=False)
    return count


def check() -> dict:
    """Reachability of the cache for /healthz: a real write and read."""
    started = time.monotonic()
    try:
        _django_cache.set("healthz:probe", "ok", 10)
        if _django_cache.get("healthz:probe") != "ok":
            raise RuntimeError("wrote a value and read back something else")
    except Exception as exc:
        _failed("health check", exc)
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    return {"ok": True, "ms": round((time.monotonic() - started) * 1000, 1)}
