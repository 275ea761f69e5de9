"""Helpers for tests that run real services: workers, redis-server, SMTP servers.

Flow tests start real Celery worker processes against the test database and the
configured broker. Tests needing PostgreSQL or a redis-server binary skip with a reason
on a laptop without them, and fail when REQUIRE_SERVICES=1 (as in CI).
"""

from .services import require_postgres, require_redis_server, require_service
from .worker import Worker, wait_until


def publish_committed(event):
    """Publish `event` in a transaction of its own and commit it (for transactional tests).

    `publish()` refuses to run outside a transaction; production code publishes inside
    the write it describes, tests that only need an event use this.
    """
    from django.db import transaction

    from bookshare.eventbus import publish

    with transaction.atomic():
        return publish(event)


__all__ = [
    "Worker",
    "publish_committed",
    "require_postgres",
    "require_redis_server",
    "require_service",
    "wait_until",
]
