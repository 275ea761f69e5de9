import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from bookshare.eventbus import operations
from bookshare.eventbus.models import Delivery

from .factories import DeliveryFactory, StoredEventFactory

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command("events", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def no_broker(monkeypatch):
    monkeypatch.setattr(
        operations, "send_to_broker", lambda items, countdown=None: [pk for pk, _ in items]
    )
    monkeypatch.setattr("bookshare.eventbus.stats.queue_depths", dict)  # queues empty


def test_stats_lists_counts_and_latency_per_consumer():
    DeliveryFactory(status="done", latency_ms=40, finished_at=timezone.now())
    DeliveryFactory(status="dead", attempts=3)
    DeliveryFactory(status="pending")
    out = run("stats")
    row = next(line for line in out.splitlines() if "test.ping" in line)
    assert row.split()[2:8] == ["3", "1", "1", "1", "1", "40"]
    assert "queue depths:" in out and "oldest unsent delivery:" in out


def test_stats_as_json_is_machine_readable():
    DeliveryFactory(status="done", latency_ms=10, finished_at=timezone.now())
    data = json.loads(run("stats", "--json"))
    assert data["rows"][0]["consumer"] == "test.ping"
    assert data["rows"][0]["p95_ms"] == 10
    assert "default" in data["queue_depths"]


def test_relay_command_reports_what_it_sent(no_broker):
    DeliveryFactory(status="queued", lease_until=timezone.now() - timedelta(seconds=5))
    assert "relayed 1 deliveries" in run("relay")


def test_replay_dead(no_broker):
    DeliveryFactory(status="dead", attempts=3)
    assert "replaying 1 deliveries" in run("replay", "--dead")
    assert Delivery.objects.get().attempts == 0


def test_replay_for_a_consumer_over_a_time_range(no_broker):
    StoredEventFactory(occurred_at=timezone.now() - timedelta(days=10))
    StoredEventFactory()
    since = (timezone.now() - timedelta(days=1)).date().isoformat()
    assert "replaying 1 deliveries" in run("replay", "--consumer", "test.ping", "--since", since)


def test_replay_without_a_selection_explains_the_options():
    with pytest.raises(CommandError, match="--dead"):
        run("replay")


def test_replay_with_an_unknown_consumer_lists_the_real_ones():
    with pytest.raises(CommandError, match="test.ping"):
        run("replay", "--consumer", "nope")


def test_replay_with_an_unreadable_time_says_how_to_write_it():
    with pytest.raises(CommandError, match="2026-11-21"):
        run("replay", "--dead", "--since", "last tuesday")


def test_tail_prints_new_events_as_they_arrive(monkeypatch):
    import bookshare.eventbus.management.commands.events as events_cmd

    StoredEventFactory(type="test.Old")  # before the tail starts: not shown
    sleeps = []

    def publish_during_sleep(seconds):
        if not sleeps:
            StoredEventFactory(type="test.Pinged", data={"key": "live"})
        sleeps.append(seconds)

    monkeypatch.setattr(events_cmd.time, "sleep", publish_during_sleep)
    out = run("tail", "--limit", "1")
    assert "test.Pinged" in out and '"key": "live"' in out
    assert "test.Old" not in out


def test_cleanup_command_respects_the_days_option():
    ev = StoredEventFactory(occurred_at=timezone.now() - timedelta(days=5))
    DeliveryFactory(event=ev, status="done")
    assert "deleted 0" in run("cleanup")
    assert "deleted 1" in run("cleanup", "--days", "3")


def test_consumers_lists_the_registry():
    out = run("consumers")
    assert "test.fan.email" in out and "email" in out


def test_stats_says_how_many_deliveries_are_dead_and_since_when():
    from datetime import timedelta

    from django.utils import timezone

    from .factories import DeliveryFactory

    out = StringIO()
    call_command("events", "stats", stdout=out)
    assert "dead deliveries: none" in out.getvalue()
    DeliveryFactory(status="dead", finished_at=timezone.now() - timedelta(days=3, hours=1))
    DeliveryFactory(status="dead", finished_at=timezone.now())
    out = StringIO()
    call_command("events", "stats", stdout=out)
    assert "dead deliveries: 2, the oldest died 3.0 days ago" in out.getvalue()
