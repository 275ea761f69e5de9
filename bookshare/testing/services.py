from __future__ import annotations

import os
import shutil
import socket

import pytest
from django.db import connection


def require_service(available: bool, reason: str) -> None:
    """Skip (laptop) or fail (REQUIRE_SERVICES=1, CI) when a service is missing."""
    if available:
        return
    if os.environ.get("REQUIRE_SERVICES") == "1":
        pytest.fail(f"required service missing: {reason} (REQUIRE_SERVICES=1)")
    pytest.skip(reason)


def require_postgres() -> None:
    """For PostgreSQL-only behaviour (SKIP LOCKED, full-text search).

    This is a property of the configuration under test, not a missing service: the
    zero-setup run (SQLite) skips these tests even in CI, which runs them in its
    PostgreSQL pass. A PostgreSQL that is configured but down fails the run anyway.
    """
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL-only; runs when DATABASE_URL=postgres://… (CI's first pass)")


def require_redis_server() -> str:
    """The path of a redis-server binary, for tests that start and stop their own."""
    path = shutil.which("redis-server")
    require_service(path is not None, "needs the redis-server binary (apt install redis-server)")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0
