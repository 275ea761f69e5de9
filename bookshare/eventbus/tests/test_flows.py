"""The bus's guarantees, through real Celery workers and a real broker and database."""

import threading
import time

import pytest
from django.db import connection, transaction

from bookshare.eventbus import operations, sender
from bookshare.eventbus.models import Delivery, StoredEvent
from bookshare.eventbus.operations import relay_once, replay
from bookshare.eventbus.publisher import send_to_broker
from bookshare.eventbus.tests.testapp.events import (
    BackendProbed,
    FannedOut,
    FlakyHappened,
    Pinged,
)
from bookshare.eventbus.tests.testapp.models import Effect, FailPlan, Widget
from bookshare.testing import Worker, publish_committed, require_postgres, wait_until
from bookshare.testing.worker import use_broker

from .conftest import FAST

pytestmark = [pytest.mark.flow, pytest.mark.django_db(transaction=True)]


def effects(consumer: str, key: str | None = None) -> int:
    qs = Effect.objects.filter(consumer=consumer)
    return qs.filter(key=key).count() if key is not None else qs.count()


def status_of(stored: StoredEvent, consumer: str | None = None) -> str:
    qs = Delivery.objects.filter(event=stored)
    if consumer:
        qs = qs.filter(consumer=consumer)
    return qs.get().status


def done(stored: StoredEvent, consumer: str | None = None):
    return lambda: status_of(stored, consumer) == "done"


def test_saved_model_event_reaches_its_consumer_but_rolled_back_one_does_not(isolated_broker):
    url, env = isolated_broker
    with Worker(broker_url=url, env={**FAST, **env}, name="rollback"):
        with pytest.raises(RuntimeError), transaction.atomic():
            ghost = Widget.objects.create(name="ghost")
            raise RuntimeError("the request failed")
        widget = Widget.objects.create(name="real")
        wait_until(lambda: effects("widget", str(widget.pk)) == 1, message="widget effect")
        time.sleep(1)  # give a stray task time to show up if one had been sent
    assert not StoredEvent.objects.filter(data__name=ghost.name).exists()
    assert Delivery.objects.count() == 1
    assert effects("widget") == 1


def test_fan_out_reaches_every_consumer_each_on_its_own_queue(isolated_broker):
    url, env = isolated_broker
    stored = publish_committed(FannedOut(key="fan"))
    queues = dict(Delivery.objects.filter(event=stored).values_list("consumer", "queue"))
    assert queues == {
        "test.fan.email": "email",
        "test.fan.search": "search",
        "test.fan.suggestions": "suggestions",
    }
    # A worker on the email queue alone runs only the email consumer: queues are separate.
    with Worker(queues="email", broker_url=url, env={**FAST, **env}, name="email-only"):
        wait_until(done(stored, "test.fan.email"), message="email delivery")
        time.sleep(0.5)
        assert status_of(stored, "test.fan.search") == "queued"
        assert status_of(stored, "test.fan.suggestions") == "queued"
    with Worker(queues="search,suggestions", broker_url=url, env={**FAST, **env}, name="bulk"):
        wait_until(done(stored, "test.fan.search"), message="search delivery")
        wait_until(done(stored, "test.fan.suggestions"), message="suggestions delivery")
    assert [effects(f"fan.{q}", "fan") for q in ("email", "search", "suggestions")] == [1, 1, 1]


def test_the_same_delivery_message_sent_twice_takes_effect_once(fault_broker):
    url, env = fault_broker
    stored = publish_committed(Pinged(key="dup"))  # one message sent on commit
    delivery = stored.deliveries.get()
    assert send_to_broker([(delivery.pk, delivery.queue)]) == [delivery.pk]  # and again
    with Worker(broker_url=url, env={**FAST, **env}, name="dup") as worker:
        wait_until(done(stored), message="delivery done")
        send_to_broker([(delivery.pk, delivery.queue)])  # a third, after it is done
        wait_until(
            lambda: (
                sum(worker.output().count(f"'{o}'") for o in ("skipped", "busy", "running")) >= 2
            ),
            message="both duplicates handled",
        )
    assert effects("ping", "dup") == 1


def test_flaky_consumer_succeeds_on_the_third_attempt(isolated_broker):
    url, env = isolated_broker
    FailPlan.objects.create(key="flaky", failures_left=2)
    stored = publish_committed(FlakyHappened(key="flaky"))
    with Worker(broker_url=url, env={**FAST, **env}, name="flaky") as worker:
        wait_until(done(stored), timeout=60, message="flaky delivery done")
    # The worker's log lines about this delivery carry the event's correlation id.
    failure_lines = [line for line in worker.output().splitlines() if "failed (attempt" in line]
    assert len(failure_lines) == 2
    assert all(f"[{stored.correlation_id}]" in line for line in failure_lines)
    delivery = stored.deliveries.get()
    assert delivery.attempts == 3
    assert "planned failure 2" in delivery.last_error
    assert effects("flaky", "flaky") == 1
    assert effects("flaky-attempt", "flaky") == 1  # failed attempts' writes rolled back


def test_always_failing_consumer_goes_dead_then_replays_after_the_fix(fault_broker):
    url, env = fault_broker
    plan = FailPlan.objects.create(key="broken", always=True)
    stored = publish_committed(FlakyHappened(key="broken"))
    with Worker(broker_url=url, env={**FAST, **env}, name="dead"):
        wait_until(lambda: status_of(stored) == "dead", timeout=60, message="dead")
        delivery = stored.deliveries.get()
        assert delivery.attempts == delivery.max_attempts == 3
        assert effects("flaky", "broken") == 0
        plan.delete()  # the fix
        assert replay(Delivery.objects.filter(status="dead")) == 1
        wait_until(done(stored), message="replayed delivery done")
    assert effects("flaky", "broken") == 1


def test_worker_killed_mid_consumer_completes_later_with_one_effect(
    fault_broker, tmp_path, settings
):
    url, env = fault_broker
    settings.EVENTBUS_LEASE_SECONDS = 1
    marker = tmp_path / "started"
    stored = publish_committed(Pinged(key="crash", sleep=60, marker=str(marker)))
    fast = {**FAST, **env, "EVENTBUS_LEASE_SECONDS": "1"}
    worker = Worker(broker_url=url, env=fast, name="crash").start()
    try:
        wait_until(marker.exists, message="consumer to start")
        worker.kill()  # SIGKILL, main process and pool children
    finally:
        worker.stop()
    assert status_of(stored) != "done"
    assert effects("ping", "crash") == 0
    with Worker(broker_url=url, env=fast, name="after-crash"):
        # The message died with the worker (file transport) or sits unacked (Redis):
        # the relay sends the delivery again once its lease has run out.
        def relayed_and_done():
            relay_once()
            return status_of(stored) == "done"

        wait_until(relayed_and_done, timeout=60, interval=0.5, message="delivery after crash")
        time.sleep(1)
    assert effects("ping", "crash") == 1


def test_with_redis_down_the_save_commits_and_the_relay_delivers_after(redis_server, settings):
    settings.EVENTBUS_LEASE_SECONDS = 1
    with (
        use_broker(redis_server.url),
        Worker(broker_url=redis_server.url, env=FAST, name="redis-down"),
    ):
        redis_server.stop()
        started = time.monotonic()
        widget = Widget.objects.create(name="while redis is down")
        save_seconds = time.monotonic() - started
        assert sender.flush(30)  # the send was tried (EVENTBUS_SEND_IN_BACKGROUND on)
        stored = StoredEvent.objects.get(data__widget_id=widget.pk)
        assert status_of(stored) == "pending"
        assert relay_once() == 0  # still down: nothing sent, nothing lost

        redis_server.start()
        from bookshare.eventbus.publisher import reset_broker_cooldown

        def relayed_and_done():
            reset_broker_cooldown()
            relay_once()
            return status_of(stored) == "done"

        wait_until(relayed_and_done, timeout=90, interval=1, message="delivery after restart")
        time.sleep(1)
    assert effects("widget", str(widget.pk)) == 1
    print(f"save with redis down took {save_seconds * 1000:.0f} ms")


def test_two_relays_at_once_never_send_the_same_delivery(monkeypatch):
    require_postgres()
    from django.utils import timezone

    from .factories import DeliveryFactory

    past = timezone.now() - timezone.timedelta(minutes=5)
    due = {DeliveryFactory(status="queued", lease_until=past).pk for _ in range(300)}
    sent_by: dict[str, list[int]] = {"a": [], "b": []}
    barrier = threading.Barrier(2)

    def recording_send(items, countdown=None):
        items = list(items)
        name = threading.current_thread().name
        sent_by[name].extend(pk for pk, _ in items)
        time.sleep(0.01)  # widen the window for overlap
        return [pk for pk, _ in items]

    monkeypatch.setattr(operations, "send_to_broker", recording_send)
    monkeypatch.setattr("bookshare.eventbus.stats.queue_depths", dict)  # queues empty

    def run():
        try:
            barrier.wait()
            while relay_once(limit=25):
                pass
        finally:
            connection.close()

    threads = [threading.Thread(target=run, name=n) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert set(sent_by["a"]).isdisjoint(sent_by["b"])
    assert set(sent_by["a"]) | set(sent_by["b"]) == due
    assert sent_by["a"] and sent_by["b"]  # both really took part


def test_a_worker_keeps_its_database_connection_between_deliveries(isolated_broker):
    """Celery's Django fixup would reconnect for every task (~6 ms each on PostgreSQL)."""
    require_postgres()
    url, env = isolated_broker
    for n in range(5):
        publish_committed(BackendProbed(n=n))
    with Worker(broker_url=url, env={**FAST, **env}, concurrency=1, name="reuse"):
        wait_until(lambda: effects("backend_pid") == 5, message="five probes")
    pids = set(Effect.objects.filter(consumer="backend_pid").values_list("key", flat=True))
    assert len(pids) == 1
