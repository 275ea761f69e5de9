"""Reachability checks for /healthz."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path

from django.conf import settings
from django.db import connection


def check_database() -> dict:
    started = time.monotonic()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    return {"ok": True, "ms": round((time.monotonic() - started) * 1000, 1)}


def check_broker() -> dict:
    from bookshare.celery import app
    from bookshare.eventbus.publisher import broker_cooling_down

    started = time.monotonic()
    filesystem = str(app.conf.broker_url or "").startswith("filesystem")
    try:
        if filesystem:
            folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_out"])
            folder.mkdir(parents=True, exist_ok=True)
            probe = folder / ".healthz"
            probe.write_text("ok")
            probe.unlink()
        else:
            if broker_cooling_down():
                # A publish failed moments ago: don't wait on the broker again.
                raise ConnectionError("a recent publish could not reach the broker")
            with app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, timeout=settings.EVENTBUS_BROKER_TIMEOUT)
                conn.default_channel  # noqa: B018 - opens the channel
    except Exception as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    return {"ok": True, "ms": round((time.monotonic() - started) * 1000, 1)}


def check_cache() -> dict:
    from . import cache

    return cache.check()


# What each check means for the site. Without the database nothing works: 503.
# Without the broker or the cache the site still serves (events wait for the relay,
# rate limits count per process): "degraded", 200, so the load balancer keeps it.
CHECKS = {"database": check_database, "broker": check_broker, "cache": check_cache}
ESSENTIAL = {"database"}
_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="healthz")


def run_checks(timeout: float | None = None) -> dict:
    """Every check's result; one that has not answered within `timeout` (default
    HEALTHZ_TIMEOUT) counts as down. The database check runs in the calling thread
    (its connection is per thread); the others run alongside it."""
    timeout = settings.HEALTHZ_TIMEOUT if timeout is None else timeout
    started = time.monotonic()
    futures = {name: _pool.submit(check) for name, check in CHECKS.items() if name != "database"}
    results = {"database": check_database()}
    for name, future in futures.items():
        remaining = max(0.0, timeout - (time.monotonic() - started))
        try:
            results[name] = future.result(timeout=remaining)
        except FutureTimeout:
            results[name] = {"ok": False, "error": f"no answer within {timeout:g} s"}
    return results


def overall(results: dict) -> tuple[str, int]:
    if any(not results[name]["ok"] for name in ESSENTIAL):
        return "unavailable", 503
    if all(r["ok"] for r in results.values()):
        return "ok", 200
    return "degraded", 200
