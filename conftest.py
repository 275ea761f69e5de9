"""Fixtures shared by every app's tests."""

import pytest


@pytest.fixture(scope="session")
def fake_providers_server():
    """Stand-in Open Library, Google Books and ISBNdb on loopback for the whole run: the
    session worker's provider URLs point here, so no test touches the internet."""
    from catalogue.fakes import FakeProviders

    server = FakeProviders().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def bus_worker(django_db_setup, fake_providers_server):
    """One real Celery worker on every queue but `email`, for flow tests (transactional_db).

    As in production, email has a worker of its own: tests that need mail start one
    with an SMTP server of their own (see accounts' flow tests). Its catalogue providers
    are the local stand-ins (catalogue.fakes).
    """
    from bookshare.testing.worker import ALL_QUEUES, Worker, purge_broker

    purge_broker()
    queues = ",".join(q for q in ALL_QUEUES.split(",") if q != "email")
    env = {
        **fake_providers_server.settings(),
        "CATALOGUE_COVER_ALLOW_PRIVATE": "true",
        "CATALOGUE_HTTP_TIMEOUT": "2",
        "CATALOGUE_HTTP_RETRIES": "1",
        "CATALOGUE_RETRY_AFTER_CAP": "1",
    }
    worker = Worker(queues=queues, name="session", env=env).start()
    yield worker
    worker.stop()


@pytest.fixture
def settled_bus(bus_worker):
    """The session worker, and a quiet bus when the test ends (no delivery still writing
    when a transactional test truncates its tables)."""
    from bookshare.testing.worker import settle

    yield bus_worker
    settle()


@pytest.fixture(autouse=True)
def _fresh_broker_cooldown():
    """A broker failure noted by one test must not make the next skip the broker."""
    from bookshare.eventbus.publisher import reset_broker_cooldown

    reset_broker_cooldown()
    yield
    reset_broker_cooldown()


@pytest.fixture
def redis_server():
    """A private redis-server on a free port, which the test may stop and start."""
    from bookshare.testing.services import require_redis_server
    from bookshare.testing.worker import RedisServer

    server = RedisServer(require_redis_server()).start()
    yield server
    server.stop()


@pytest.fixture
def staff_client(client, db):
    """The test client signed in as a verified superuser."""
    from accounts.tests.factories import VerifiedUserFactory

    client.force_login(VerifiedUserFactory(is_staff=True, is_superuser=True))
    return client
