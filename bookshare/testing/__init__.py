"""Helpers for tests that run real services: workers, redis-server, SMTP servers.

Flow tests start real Celery worker processes against the test database and the
configured broker. Tests needing PostgreSQL or a redis-server binary skip with a reason
on a laptop without them, and fail when REQUIRE_SERVICES=1 (as in CI).
"""

from .services import require_postgres, require_redis_server, require_service
from .worker import Worker, wait_until

__all__ = ["Worker", "require_postgres", "require_redis_server", "require_service", "wait_until"]
