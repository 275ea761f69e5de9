"""The relay under a backlog (issue 11, hole 2): no multiplied messages while they wait,
and a message really lost is still sent again, through real brokers and workers."""

import os
import time

import pytest
from django.db import transaction
from django.db.models import Sum

from bookshare.eventbus import publish, sender
from bookshare.eventbus.models import Delivery
from bookshare.eventbus.operations import relay_once
from bookshare.eventbus.stats import queue_depths
from bookshare.eventbus.tests.testapp.events import Nooped
from bookshare.testing import Worker, require_redis_server, wait_until
from bookshare.testing.worker import RedisServer, use_broker

from .conftest import FAST

pytestmark = [pytest.mark.flow, pytest.mark.django_db(transaction=True)]

LEASE = 1  # seconds, in this process and the workers


def publish_many(n: int) -> None:
    with transaction.atomic():
        for i in range(n):
            publish(Nooped(n=i))
    assert sender.flush(60)  # sent, when EVENTBUS_SEND_IN_BACKGROUND is on


def resends() -> int:
    return Delivery.objects.aggregate(n=Sum("resends"))["n"] or 0


def relay_rounds(seconds: float, interval: float = 0.25) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        while relay_once():
            pass
        time.sleep(interval)


@pytest.mark.parametrize(
    "n",
    [
        1000,
        pytest.param(
            10_000,
            marks=pytest.mark.skipif(
                os.environ.get("BUS_SLOW") != "1", reason="the issue's full figure: BUS_SLOW=1"
            ),
        ),
    ],
)
def test_a_backlog_behind_a_stopped_worker_is_not_sent_again(isolated_broker, settings, n):
    url, env = isolated_broker
    settings.EVENTBUS_LEASE_SECONDS = LEASE
    settings.EVENTBUS_RELAY_BATCH = 5000
    publish_many(n)
    assert queue_depths()["default"] == n
    relay_rounds(5 * LEASE)  # no worker for five leases: every lease runs out
    assert queue_depths()["default"] == n  # nothing was sent again meanwhile
    worker_env = {**FAST, **env, "EVENTBUS_LEASE_SECONDS": str(LEASE)}
    with Worker(queues="default", broker_url=url, env=worker_env, name="backlog"):

        def drained():
            relay_once()
            return not Delivery.objects.filter(status__in=Delivery.UNFINISHED).exists()

        wait_until(drained, timeout=60 + n / 20, interval=0.25, message="backlog drained")
    sent = n + resends()
    print(f"relay under a backlog: {n} deliveries, {sent} messages, {sent / n:.3f} per delivery")
    assert sent <= 1.05 * n
    assert Delivery.objects.filter(status="done").count() == n


def test_a_message_lost_with_the_broker_is_sent_again_once_the_queue_is_empty(settings):
    settings.EVENTBUS_LEASE_SECONDS = LEASE
    server = RedisServer(require_redis_server()).start()
    try:
        with use_broker(server.url):
            publish_many(20)
            assert queue_depths()["default"] == 20
            relay_rounds(2 * LEASE)
            assert resends() == 0  # waiting, not lost: not sent again
            server.stop()  # Redis restarted empty: the 20 messages are gone
            server.start()
            assert queue_depths()["default"] == 0
            # Their leases ran out while they waited; the first relay round that sees
            # the queue empty sends them all again.
            assert relay_once() == 20
            with Worker(
                queues="default",
                broker_url=server.url,
                env={**FAST, "EVENTBUS_LEASE_SECONDS": str(LEASE)},
                name="lost",
            ):
                wait_until(
                    lambda: Delivery.objects.filter(status="done").count() == 20,
                    message="lost deliveries done",
                )
    finally:
        server.stop()
