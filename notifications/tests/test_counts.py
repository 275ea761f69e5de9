"""The bell's and the list's counts: cached in a shared cache, forgotten when they change,
counted in the database when the cache is down or per process."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from books.tests.factories import UserFactory
from bookshare.core import cache
from notifications import selectors, services
from notifications.models import Kind
from notifications.routing import Target

from .factories import NotificationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shared_cache(settings, tmp_path):
    """A cache every process would see (files), as in production (Redis)."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(tmp_path / "cache"),
        }
    }
    cache.reset()
    assert cache.is_shared()
    yield
    cache.reset()


def notify_one(member):
    services.notify(
        event_id=uuid.uuid4(),
        targets=[Target(recipient_id=member.pk, kind=Kind.COPY_REQUESTED, actor_id=None)],
    )


def count_queries(client, path):
    with CaptureQueriesContext(connection) as ctx:
        body = client.get(path).content.decode()
    counts = [q for q in ctx.captured_queries if "notifications_notification" in q["sql"]]
    return body, len(counts)


def test_the_bell_is_counted_once_then_read_from_the_cache(client, shared_cache):
    member = UserFactory()
    NotificationFactory.create_batch(2, recipient=member)
    client.force_login(member)
    body, counted = count_queries(client, "/notifications/bell/")
    assert ">2<" in body and counted == 1
    body, counted = count_queries(client, "/")
    assert 'aria-label="2 unread"' in body and counted == 0


def test_a_new_notification_shows_on_the_next_poll_after_its_commit(
    client, shared_cache, django_capture_on_commit_callbacks
):
    member = UserFactory()
    client.force_login(member)
    client.get("/notifications/bell/")  # cached: 0
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        notify_one(member)
    assert callbacks  # forgotten after the commit, not before
    assert ">1<" in client.get("/notifications/bell/").content.decode()


def test_the_count_is_not_forgotten_before_the_commit(
    client, shared_cache, django_capture_on_commit_callbacks
):
    """A page counting between the write and its commit would cache the old count; the
    forget runs after the commit, so it is the committed count that stays."""
    member = UserFactory()
    client.force_login(member)
    client.get("/notifications/bell/")
    with django_capture_on_commit_callbacks(execute=False):
        notify_one(member)
    assert cache.get(selectors.counts_key(member.pk)) is not None  # not yet forgotten


def test_marking_read_updates_the_bell_and_the_list(
    client, shared_cache, django_capture_on_commit_callbacks
):
    member = UserFactory()
    first, _second = NotificationFactory.create_batch(2, recipient=member)
    client.force_login(member)
    assert ">2<" in client.get("/notifications/bell/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/notifications/{first.pk}/read/")
    assert ">1<" in client.get("/notifications/bell/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/notifications/read-all/")
    assert "badge" not in client.get("/notifications/bell/").content.decode()
    page = client.get("/notifications/").content.decode()
    assert "Mark all" not in page


def test_with_the_cache_down_the_counts_come_from_the_database(client, shared_cache, monkeypatch):
    member = UserFactory()
    NotificationFactory.create_batch(3, recipient=member)
    client.force_login(member)
    client.get("/notifications/bell/")
    monkeypatch.setattr(cache, "is_down", lambda: True)
    notify_one(member)  # no forget reaches the cache while it is down
    body, counted = count_queries(client, "/notifications/bell/")
    assert ">4<" in body and counted == 1


def test_a_per_process_cache_is_not_used_for_counts(client):
    """Workers could not forget a count kept in the web process's memory."""
    assert not cache.is_shared()  # the test settings' locmem cache
    member = UserFactory()
    client.force_login(member)
    client.get("/notifications/bell/")
    notify_one(member)
    assert ">1<" in client.get("/notifications/bell/").content.decode()


def test_counts_are_per_member(client, shared_cache):
    ada, ben = UserFactory(), UserFactory()
    NotificationFactory.create_batch(2, recipient=ada)
    client.force_login(ada)
    client.get("/notifications/bell/")
    client.force_login(ben)
    assert "badge" not in client.get("/notifications/bell/").content.decode()
