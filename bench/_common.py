"""Shared helpers for the scripts in bench/: Django setup, percentiles, table, JSON."""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


def setup_django(*, db_name: str, redis_db: int, settings: str = "bookshare.test_settings"):
    """Point Django at a benchmark database on PostgreSQL and a Redis DB (broker and
    cache), migrate, setup."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{db_name}")
    os.environ.setdefault("CELERY_BROKER_URL", f"redis://127.0.0.1:6379/{redis_db}")
    cache_like_broker()
    os.environ["DJANGO_SETTINGS_MODULE"] = settings
    os.environ["IGNORE_DOTENV"] = "1"
    ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command

    progress("migrating the benchmark database …")
    call_command("migrate", verbosity=0, interactive=False)


def cache_like_broker() -> None:
    """The shared cache as deployed: Redis, by default on the broker's server and
    database (CELERY_BROKER_URL must be set). With test_settings' per-process default,
    what the site caches (counts, panels) would be read from the database on every
    request and the figures would not be production's."""
    os.environ.setdefault(
        "CACHE_URL", os.environ["CELERY_BROKER_URL"].replace("redis://", "rediscache://", 1)
    )


def ensure_database(url: str) -> None:
    if not url.startswith("postgres"):
        return
    import psycopg

    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def summary_ms(seconds: list[float]) -> dict:
    ms = [s * 1000 for s in seconds]
    return {
        "n": len(ms),
        "p50_ms": round(pct(ms, 0.50), 3),
        "p95_ms": round(pct(ms, 0.95), 3),
        "mean_ms": round(statistics.fmean(ms), 3) if ms else None,
    }


def print_table(title: str, rows: list[tuple], headers: tuple) -> None:
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows, strict=False)]
    line = "  ".join(f"{h:<{w}}" for h, w in zip(headers, widths, strict=False))
    print(f"\n{title}\n{line}\n{'-' * len(line)}")
    for row in rows:
        print("  ".join(f"{str(x):<{w}}" for x, w in zip(row, widths, strict=False)))


def write_json(name: str, data: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    data = {
        "benchmark": name,
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        **data,
    }
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=2))
    print(f"\nwrote {path.relative_to(ROOT)}")
    return path
