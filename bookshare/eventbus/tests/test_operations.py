from datetime import timedelta

import pytest
from django.utils import timezone

from bookshare.eventbus import operations
from bookshare.eventbus.models import Delivery, StoredEvent
from bookshare.eventbus.operations import cleanup, relay_once, replay, replay_for_consumer

from .factories import DeliveryFactory, StoredEventFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch):
    """Record what the relay hands to the broker (the broker itself is tested in flows)."""
    calls = []

    def record(items, countdown=None):
        items = list(items)
        calls.extend(pk for pk, _ in items)
        return [pk for pk, _ in items]

    monkeypatch.setattr(operations, "send_to_broker", record)
    monkeypatch.setattr("bookshare.eventbus.stats.queue_depths", dict)  # queues empty
    return calls


def test_relay_leaves_a_queue_with_messages_waiting_but_sends_what_was_never_sent(
    sent, monkeypatch
):
    past = timezone.now() - timedelta(seconds=1)
    waiting = DeliveryFactory(status="queued", queue="search", lease_until=past)
    unsent = DeliveryFactory(status="pending", queue="search", lease_until=past)
    lost = DeliveryFactory(status="queued", queue="default", lease_until=past)
    monkeypatch.setattr(
        "bookshare.eventbus.stats.queue_depths", lambda: {"search": 3, "default": 0}
    )
    assert relay_once() == 2
    assert sorted(sent) == sorted([unsent.pk, lost.pk])
    monkeypatch.setattr("bookshare.eventbus.stats.queue_depths", lambda: {"search": 0})
    assert relay_once() == 1
    assert sent[-1] == waiting.pk


def test_relay_sends_only_unfinished_deliveries_whose_lease_ran_out(sent):
    past = timezone.now() - timedelta(seconds=1)
    due = DeliveryFactory(status="queued", lease_until=past)
    pending = DeliveryFactory(status="pending", lease_until=past)
    DeliveryFactory(status="queued", lease_until=timezone.now() + timedelta(minutes=5))
    DeliveryFactory(status="done", lease_until=past)
    DeliveryFactory(status="dead", lease_until=past)
    assert relay_once() == 2
    assert sorted(sent) == sorted([due.pk, pending.pk])
    pending.refresh_from_db()
    assert pending.status == "queued" and pending.resends == 1
    assert pending.lease_until > timezone.now()


def test_relay_again_right_away_sends_nothing(sent):
    DeliveryFactory(status="queued", lease_until=timezone.now() - timedelta(seconds=1))
    assert relay_once() == 1
    assert relay_once() == 0


def test_when_broker_is_down_relay_keeps_them_due(monkeypatch):
    monkeypatch.setattr(operations, "send_to_broker", lambda items, countdown=None: [])
    d = DeliveryFactory(status="pending", lease_until=timezone.now() - timedelta(seconds=1))
    assert relay_once() == 0
    d.refresh_from_db()
    assert d.status == "pending" and d.lease_until <= timezone.now()


def test_replay_resets_dead_deliveries(django_capture_on_commit_callbacks, sent, monkeypatch):
    from bookshare.eventbus import publisher

    monkeypatch.setattr(publisher, "send_to_broker", operations.send_to_broker)
    d = DeliveryFactory(status="dead", attempts=3, last_error="boom")
    with django_capture_on_commit_callbacks(execute=True):
        assert replay(Delivery.objects.filter(status="dead")) == 1
    d.refresh_from_db()
    assert d.status == "queued" and d.attempts == 0
    assert sent == [d.pk]


def test_replay_for_consumer_creates_missing_deliveries_in_the_time_range(sent):
    old = StoredEventFactory(occurred_at=timezone.now() - timedelta(days=3))
    recent = StoredEventFactory()
    DeliveryFactory(event=recent, status="done")
    n = replay_for_consumer("test.ping", since=timezone.now() - timedelta(days=1))
    assert n == 1
    assert not Delivery.objects.filter(event=old).exists()
    assert Delivery.objects.get(event=recent).status == "queued"


def test_replay_for_unknown_consumer_says_so():
    with pytest.raises(ValueError, match="no consumer"):
        replay_for_consumer("nope")


def test_cleanup_deletes_only_old_fully_done_events():
    old = timezone.now() - timedelta(days=40)
    done_old = StoredEventFactory(occurred_at=old)
    DeliveryFactory(event=done_old, status="done")
    dead_old = StoredEventFactory(occurred_at=old)
    DeliveryFactory(event=dead_old, status="dead")
    fresh = StoredEventFactory()
    DeliveryFactory(event=fresh, status="done")
    assert cleanup(older_than_days=30) == 1
    assert set(StoredEvent.objects.values_list("pk", flat=True)) == {dead_old.pk, fresh.pk}


def test_dead_deliveries_go_after_their_own_retention_and_take_their_events(settings):
    settings.EVENTBUS_DEAD_RETENTION_DAYS = 60
    now = timezone.now()
    long_dead = DeliveryFactory(
        status="dead",
        finished_at=now - timedelta(days=61),
        event__occurred_at=now - timedelta(days=62),
    )
    # An old event with a long-dead delivery and a done one: both go.
    mixed_event = StoredEventFactory(occurred_at=now - timedelta(days=70))
    DeliveryFactory(event=mixed_event, status="done")
    DeliveryFactory(
        event=mixed_event,
        consumer="test.flaky",
        status="dead",
        finished_at=now - timedelta(days=65),
    )
    recently_dead = DeliveryFactory(
        status="dead",
        finished_at=now - timedelta(days=59),
        event__occurred_at=now - timedelta(days=62),
    )
    assert cleanup() == 2
    assert not Delivery.objects.filter(pk=long_dead.pk).exists()
    assert not StoredEvent.objects.filter(pk__in=[long_dead.event_id, mixed_event.pk]).exists()
    assert Delivery.objects.filter(pk=recently_dead.pk).exists()  # still there to replay
