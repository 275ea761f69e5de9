"""Hardening against poison consumers, lost workers, slow consumers and a broker that
is down (issue 11), through real Celery workers on a private broker: the configured
kind (Redis or the filesystem) and RabbitMQ (the `fault_broker` fixture)."""

import time

import pytest

from bookshare.eventbus import sender
from bookshare.eventbus.models import Delivery
from bookshare.eventbus.operations import relay_once
from bookshare.eventbus.stats import collect, queue_depths
from bookshare.eventbus.tests.testapp.events import Crashed, Pinged
from bookshare.eventbus.tests.testapp.models import Effect
from bookshare.testing import Worker, publish_committed, wait_until

from .conftest import FAST

pytestmark = [pytest.mark.flow, pytest.mark.django_db(transaction=True)]


def starts(log) -> int:
    return len(log.read_text().splitlines()) if log.exists() else 0


def test_a_consumer_that_kills_its_worker_process_goes_dead_after_max_attempts(
    fault_broker, tmp_path, settings
):
    """The pool process dies mid-consumer (task_reject_on_worker_lost puts the message
    back each time): each crash still counts, and the third makes the delivery dead."""
    url, env = fault_broker
    settings.EVENTBUS_LEASE_SECONDS = 1
    log = tmp_path / "starts"
    stored = publish_committed(Crashed(key="poison", log=str(log)))
    delivery = stored.deliveries.get()

    def relayed_and_dead():
        relay_once()  # on brokers that drop the message with the process
        delivery.refresh_from_db()
        return delivery.status == "dead"

    with Worker(broker_url=url, env={**FAST, **env, "EVENTBUS_LEASE_SECONDS": "1"}, name="poison"):
        wait_until(relayed_and_dead, timeout=90, interval=0.5, message="poison delivery dead")
        time.sleep(1)  # a message still going round would start the consumer again
    assert delivery.attempts == delivery.max_attempts == 3
    assert starts(log) == 3
    assert "lost" in delivery.last_error
    assert not Effect.objects.filter(consumer="crash").exists()
    (row,) = [r for r in collect(with_queues=False).rows if r.consumer == "test.crash"]
    assert row.dead == 1 and row.pending == 0


def test_a_worker_sigkilled_mid_consumer_again_and_again_ends_with_a_dead_delivery(
    fault_broker, tmp_path, settings
):
    """The whole worker (main process and pool) is SIGKILLed while the consumer runs,
    three times; the relay sends the delivery again each time, and then it is dead."""
    url, env = fault_broker
    settings.EVENTBUS_LEASE_SECONDS = 1
    log = tmp_path / "starts"
    stored = publish_committed(Crashed(key="hang", log=str(log), sleep=120))
    delivery = stored.deliveries.get()
    worker_env = {**FAST, **env, "EVENTBUS_LEASE_SECONDS": "1"}
    for n in range(1, 4):
        worker = Worker(broker_url=url, env=worker_env, name=f"killed-{n}").start()
        try:
            wait_until(lambda n=n: starts(log) >= n, timeout=60, message=f"attempt {n}")
            worker.kill()
        finally:
            worker.stop()
        # The message died with the worker (or sits unacked): the relay sends it again
        # once the lease has run out. (Not while the consumer runs: on SQLite its
        # transaction holds the database's write lock.)
        # (RabbitMQ puts an unacknowledged message back in its queue at once instead.)
        wait_until(
            lambda: relay_once() == 1 or queue_depths()["default"] == 1,
            timeout=30,
            interval=0.5,
            message="message sent again",
        )
    delivery.refresh_from_db()
    assert delivery.status != "dead"
    assert delivery.attempts == 3  # counted although every attempt's transaction was lost

    def relayed_and_dead():
        relay_once()
        delivery.refresh_from_db()
        return delivery.status == "dead"

    with Worker(broker_url=url, env=worker_env, name="after-kills"):
        wait_until(relayed_and_dead, timeout=60, interval=0.5, message="dead after 3 kills")
    assert starts(log) == 3
    assert "lost" in delivery.last_error


def test_a_consumer_past_its_queues_soft_time_limit_fails_and_is_retried(
    fault_broker, tmp_path, settings
):
    """Time limits come from settings.EVENTBUS_QUEUES with every deliver message; the
    soft limit is an ordinary failure (retry with backoff), not a lost worker."""
    url, env = fault_broker
    settings.EVENTBUS_QUEUES = {
        **settings.EVENTBUS_QUEUES,
        "default": {"soft_time_limit": 1, "time_limit": 20},
    }
    marker = tmp_path / "started"
    # The first run sleeps 8 s (past the soft limit); a later run finds the marker.
    stored = publish_committed(Pinged(key="slow", sleep=8, marker=str(marker)))
    with Worker(broker_url=url, env={**FAST, **env}, name="soft-limit"):
        wait_until(lambda: stored.deliveries.get().status == "done", timeout=60, message="done")
    delivery = stored.deliveries.get()
    assert delivery.attempts == 2
    assert "SoftTimeLimitExceeded" in delivery.last_error
    assert Effect.objects.filter(consumer="ping", key="slow").count() == 1


def test_with_the_broker_down_the_save_commits_and_the_relay_delivers_after(fault_broker, settings):
    from bookshare.eventbus.publisher import reset_broker_cooldown
    from bookshare.eventbus.tests.testapp.models import Widget
    from bookshare.testing.services import free_port
    from bookshare.testing.worker import use_broker

    url, env = fault_broker
    if url.startswith("filesystem"):
        pytest.skip("the filesystem broker cannot be down (Redis: test_flows.py)")
    settings.EVENTBUS_LEASE_SECONDS = 1
    scheme = url.split("://")[0]
    nowhere = f"{scheme}://guest:guest@127.0.0.1:{free_port()}//"
    with use_broker(nowhere, {"connect_timeout": 1, "socket_connect_timeout": 1}):
        widget = Widget.objects.create(name="while the broker is down")
        assert sender.flush(30)  # the send was tried (EVENTBUS_SEND_IN_BACKGROUND on)
        delivery = Delivery.objects.get(event__data__widget_id=widget.pk)
        assert delivery.status == "pending"  # saved; nothing lost
        reset_broker_cooldown()
        assert relay_once() == 0  # still down: nothing sent
    reset_broker_cooldown()
    with Worker(broker_url=url, env={**FAST, **env}, name="broker-back"):

        def relayed_and_done():
            relay_once()
            delivery.refresh_from_db()
            return delivery.status == "done"

        wait_until(relayed_and_done, timeout=60, interval=0.5, message="delivered after")
        time.sleep(1)
    assert Effect.objects.filter(consumer="widget", key=str(widget.pk)).count() == 1
