from datetime import timedelta

import pytest
from django.utils import timezone

from bookshare.eventbus.delivery import backoff_seconds, run_delivery
from bookshare.eventbus.models import Delivery
from bookshare.eventbus.tests.testapp.models import Effect, FailPlan

from .factories import DeliveryFactory, StoredEventFactory

pytestmark = pytest.mark.django_db


def test_runs_the_consumer_and_marks_done_with_latency():
    d = DeliveryFactory(event__data={"key": "a"})
    assert run_delivery(d.pk) == "done"
    d.refresh_from_db()
    assert d.status == "done"
    assert d.attempts == 1
    assert d.finished_at is not None and d.latency_ms is not None
    assert Effect.objects.filter(consumer="ping", key="a").count() == 1


def test_a_second_message_for_a_done_delivery_is_skipped():
    d = DeliveryFactory(event__data={"key": "a"})
    run_delivery(d.pk)
    assert run_delivery(d.pk) == "skipped"
    assert Effect.objects.filter(consumer="ping").count() == 1


def test_a_missing_delivery_is_reported_not_raised():
    assert run_delivery(987654) == "missing"


def test_failure_rolls_back_the_consumers_writes_and_schedules_a_retry():
    FailPlan.objects.create(key="f", failures_left=1)
    d = DeliveryFactory(
        consumer="test.flaky", event__type="test.FlakyHappened", event__data={"key": "f"}
    )
    assert run_delivery(d.pk) == "retry"
    d.refresh_from_db()
    assert d.status == "retrying"
    assert "planned failure" in d.last_error
    assert d.lease_until > timezone.now()
    assert not Effect.objects.filter(key="f").exists()
    assert run_delivery(d.pk) == "done"
    assert Effect.objects.filter(consumer="flaky", key="f").count() == 1


def test_last_failed_attempt_makes_the_delivery_dead():
    FailPlan.objects.create(key="f", always=True)
    d = DeliveryFactory(
        consumer="test.flaky",
        event__type="test.FlakyHappened",
        event__data={"key": "f"},
        max_attempts=2,
    )
    assert run_delivery(d.pk) == "retry"
    assert run_delivery(d.pk) == "dead"
    d.refresh_from_db()
    assert d.status == "dead" and d.attempts == 2
    assert run_delivery(d.pk) == "skipped"


def test_unregistered_consumer_is_dead_with_a_reason():
    d = DeliveryFactory(consumer="gone.consumer")
    assert run_delivery(d.pk) == "dead"
    d.refresh_from_db()
    assert "not registered" in d.last_error


def test_consumer_sees_the_events_correlation_and_becomes_the_cause():
    from bookshare.eventbus.context import current_causation_id, current_correlation_id

    seen = {}
    from bookshare.eventbus import registry

    consumer = registry.get_consumer("test.ping")
    original = consumer.func

    def spy(event, envelope):
        seen["corr"], seen["cause"] = current_correlation_id(), current_causation_id()
        return original(event, envelope)

    object.__setattr__(consumer, "func", spy)
    try:
        ev = StoredEventFactory(correlation_id="corr-abcdefgh")
        d = DeliveryFactory(event=ev)
        run_delivery(d.pk)
    finally:
        object.__setattr__(consumer, "func", original)
    assert seen == {"corr": "corr-abcdefgh", "cause": str(ev.id)}


@pytest.mark.parametrize("attempt", [1, 2, 3, 5, 8, 20])
def test_backoff_grows_with_jitter_and_stays_under_the_visibility_timeout(settings, attempt):
    settings.EVENTBUS_BACKOFF_BASE = 2.0
    settings.EVENTBUS_BACKOFF_MAX = 600
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 300}
    ceiling = min(270, 2.0 * 2 ** (attempt - 1))
    delays = {backoff_seconds(attempt) for _ in range(50)}
    assert all(ceiling / 2 <= d <= ceiling for d in delays)
    assert len(delays) > 1  # jitter


def test_delivery_lease_for_retry_covers_the_backoff(settings):
    settings.EVENTBUS_LEASE_SECONDS = 30
    FailPlan.objects.create(key="f", failures_left=5)
    d = DeliveryFactory(
        consumer="test.flaky", event__type="test.FlakyHappened", event__data={"key": "f"}
    )
    before = timezone.now()
    run_delivery(d.pk)
    d.refresh_from_db()
    assert d.lease_until >= before + timedelta(seconds=30)
    assert Delivery.objects.get(pk=d.pk).status == "retrying"


@pytest.mark.django_db(transaction=True)
def test_a_delivery_locked_for_a_moment_is_waited_for_not_dropped():
    """The publisher marks a delivery queued just after sending it; a fast worker that
    finds the row locked by that update must run it, not answer "busy" and drop it."""
    import threading
    import time

    from django.db import connection, transaction

    from bookshare.testing import require_postgres

    require_postgres()
    d = DeliveryFactory(event__data={"key": "locked"})
    locked = threading.Event()

    def hold_the_row():
        try:
            with transaction.atomic():
                Delivery.objects.select_for_update().get(pk=d.pk)
                locked.set()
                time.sleep(0.2)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_row)
    holder.start()
    assert locked.wait(10)
    assert run_delivery(d.pk) == "done"
    holder.join()


def test_success_after_a_failure_keeps_the_last_error_and_times_consistent():
    FailPlan.objects.create(key="f", failures_left=1)
    d = DeliveryFactory(
        consumer="test.flaky", event__type="test.FlakyHappened", event__data={"key": "f"}
    )
    run_delivery(d.pk)
    run_delivery(d.pk)
    d.refresh_from_db()
    assert d.status == "done"
    assert "planned failure 1" in d.last_error  # what went wrong before stays visible
    assert d.finished_at >= d.event.occurred_at
    assert d.latency_ms == int((d.finished_at - d.event.occurred_at).total_seconds() * 1000)


def test_one_consumer_takes_several_event_types_each_as_its_own_class():
    from bookshare.eventbus import publish
    from bookshare.eventbus.registry import consumers_for, get_consumer
    from bookshare.eventbus.tests.testapp.events import DoorClosed, DoorOpened

    door = get_consumer("test.door")
    assert door.event_types == ("test.DoorOpened", "test.DoorClosed")
    assert door in consumers_for("test.DoorOpened") and door in consumers_for("test.DoorClosed")
    opened, closed = publish(DoorOpened(key="k")), publish(DoorClosed(key="k"))
    for stored in (opened, closed):
        (delivery,) = Delivery.objects.filter(event=stored)
        assert delivery.consumer == "test.door"
        assert run_delivery(delivery.pk) == "done"
    keys = set(Effect.objects.filter(consumer="door").values_list("key", flat=True))
    assert keys == {"opened:k:test.DoorOpened", "closed:k:test.DoorClosed"}


def test_a_consumer_refuses_an_unknown_queue_or_no_event():
    from bookshare.eventbus import consumer
    from bookshare.eventbus.tests.testapp.events import DoorOpened

    with pytest.raises(ValueError, match="EVENTBUS_QUEUES"):
        consumer(DoorOpened, queue="nowhere")
    with pytest.raises(TypeError):
        consumer(queue="default")


def test_the_attempt_is_counted_before_the_consumer_runs(monkeypatch):
    seen = {}
    from bookshare.eventbus import registry

    consumer = registry.get_consumer("test.ping")
    original = consumer.func

    def spy(event, envelope):
        # The claim (attempt counted, status running) was written before the consumer ran.
        row = Delivery.objects.values("attempts", "status").get(pk=envelope["delivery"]["id"])
        seen.update(row, key=envelope["delivery"]["key"])
        return original(event, envelope)

    object.__setattr__(consumer, "func", spy)
    try:
        d = DeliveryFactory(event__data={"key": "counted"})
        assert run_delivery(d.pk) == "done"
    finally:
        object.__setattr__(consumer, "func", original)
    assert seen["attempts"] == 1 and seen["status"] == "running"
    assert seen["key"] == f"{d.event.id}:test.ping"


def test_a_message_for_a_running_delivery_under_its_lease_is_dropped():
    future = timezone.now() + timedelta(minutes=2)
    d = DeliveryFactory(status="running", attempts=1, lease_until=future)
    assert run_delivery(d.pk) == "running"
    d.refresh_from_db()
    assert d.attempts == 1 and not Effect.objects.exists()


def test_a_running_delivery_whose_lease_ran_out_is_claimed_again():
    past = timezone.now() - timedelta(seconds=1)
    d = DeliveryFactory(status="running", attempts=1, lease_until=past, event__data={"key": "k"})
    assert run_delivery(d.pk) == "done"
    d.refresh_from_db()
    assert d.attempts == 2


def test_a_delivery_whose_every_attempt_was_lost_is_dead_with_the_reason():
    past = timezone.now() - timedelta(seconds=1)
    d = DeliveryFactory(status="running", attempts=3, max_attempts=3, lease_until=past)
    assert run_delivery(d.pk) == "dead"
    d.refresh_from_db()
    assert d.status == "dead" and "worker lost during attempt 3 of 3" in d.last_error
    assert not Effect.objects.exists()
