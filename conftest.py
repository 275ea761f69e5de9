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


def _is_transactional(request) -> bool:
    marker = request.node.get_closest_marker("django_db")
    if marker is not None and (
        marker.kwargs.get("transaction") or (len(marker.args) > 0 and marker.args[0])
    ):
        return True
    return bool({"transactional_db", "live_server"} & set(request.fixturenames))


@pytest.fixture(autouse=True)
def _bus_quiet_before_truncate(request):
    """Every transactional test, not only those that asked for `settled_bus`: whatever
    it committed was published to the broker, and the session worker (alive once any
    flow test started it) takes those messages. Its writes must be over before the
    test's tables are truncated, or the TRUNCATE deadlocks with them (CI saw it on a
    rating test that never asked for a worker). Set up after the database fixture, so
    this runs first at teardown; free when no worker is running."""
    if not _is_transactional(request):
        yield
        return
    # The public fixture (it sets up the same database as the test's marker): this one
    # then depends on it and is torn down before it.
    request.getfixturevalue("transactional_db")
    yield
    from bookshare.testing.worker import Worker, settle

    served = Worker.served_queues()
    if served:
        # Only deliveries a running worker can take, and only while they move: one left
        # queued on purpose (its worker stopped, its send recorded rather than made)
        # would otherwise hold the teardown for the whole timeout.
        settle(only_queues=served, idle_after=1.0, timeout=30, strict=False)


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
