"""Consumers declared with batch_size: a worker runs up to that many of their waiting
deliveries in one transaction (PostgreSQL), each with its own attempt and outcome."""

import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bookshare.eventbus import publish, publisher, sender
from bookshare.eventbus.delivery import run_deliveries, run_delivery
from bookshare.eventbus.models import Delivery
from bookshare.eventbus.operations import relay_once
from bookshare.eventbus.publisher import send_to_broker
from bookshare.eventbus.tests.testapp.events import Batched, Pinged
from bookshare.eventbus.tests.testapp.models import Effect, FailPlan
from bookshare.testing import Worker, publish_committed, require_postgres, wait_until

from .conftest import FAST

pytestmark = [pytest.mark.flow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def sent(monkeypatch):
    """Sends to the broker are recorded, not made: in-process tests run deliveries by hand."""
    record: list[tuple[int, float | None]] = []

    def fake_send(items, *, countdown=None):
        items = list(items)
        record.extend((pk, countdown) for pk, _ in items)
        return [pk for pk, _ in items]

    monkeypatch.setattr(publisher, "send_to_broker", fake_send)
    return record


def batch(n: int, prefix: str = "b", extra: dict | None = None) -> list[int]:
    """Publish n Batched events, one transaction each; return their delivery ids."""
    ids = []
    for i in range(n):
        stored = publish_committed(Batched(key=f"{prefix}{i}", **(extra or {}).get(i, {})))
        ids.append(stored.deliveries.get().pk)
    return ids


def effects(key: str | None = None) -> int:
    qs = Effect.objects.filter(consumer="batch")
    return qs.filter(key=key).count() if key else qs.count()


def transactions() -> dict[str, int]:
    """Effects per transaction id: how the deliveries were grouped."""
    groups: dict[str, int] = {}
    for name in Effect.objects.filter(consumer__startswith="batch.tx:").values_list(
        "consumer", flat=True
    ):
        groups[name] = groups.get(name, 0) + 1
    return groups


def rows(ids):
    return {d.pk: d for d in Delivery.objects.filter(pk__in=ids)}


def test_one_message_runs_waiting_siblings_in_one_transaction_bounded_by_batch_size(sent):
    require_postgres()
    ids = batch(12)
    assert run_delivery(ids[0]) == "done"
    now = rows(ids)
    # batch_size=10: the one asked for and the 9 oldest waiting siblings, one transaction.
    assert [now[pk].status for pk in ids] == ["done"] * 10 + ["queued"] * 2
    assert all(now[pk].attempts == 1 and now[pk].latency_ms is not None for pk in ids[:10])
    assert list(transactions().values()) == [10]
    assert effects() == 10


def test_messages_for_deliveries_a_batch_finished_skip_without_writing(sent):
    require_postgres()
    ids = batch(3)
    run_delivery(ids[0])
    for pk in ids[1:]:
        with CaptureQueriesContext(connection) as queries:
            assert run_delivery(pk) == "skipped"
        # Two short statements in autocommit: the single-row claim (matches nothing: no
        # write, no WAL flush) and a plain read of the row; no transaction, no row lock.
        sql = [q["sql"] for q in queries.captured_queries]
        assert len(sql) == 2, sql
        assert sql[0].startswith("UPDATE") and sql[1].startswith("SELECT"), sql
        assert not any("FOR UPDATE" in s and s.startswith("SELECT") for s in sql), sql
    assert effects() == 3


def test_a_member_that_raises_rolls_the_batch_back_and_only_it_is_retried(sent):
    require_postgres()
    FailPlan.objects.create(key="b2", failures_left=1)
    ids = batch(5)
    assert run_delivery(ids[0]) == "done"
    now = rows(ids)
    assert [now[pk].status for pk in ids] == ["done", "done", "retrying", "done", "done"]
    # Each attempt counted once: at the claim, not again when run alone after the rollback.
    assert [now[pk].attempts for pk in ids] == [1] * 5
    assert "planned failure 1 for b2" in now[ids[2]].last_error
    assert [effects(f"b{i}") for i in range(5)] == [1, 1, 0, 1, 1]
    # The retry was scheduled for the failing one only.
    assert [pk for pk, countdown in sent if countdown] == [ids[2]]
    # Its retry runs alone and succeeds.
    assert run_delivery(ids[2]) == "done"
    assert rows([ids[2]])[ids[2]].attempts == 2
    assert [effects(f"b{i}") for i in range(5)] == [1] * 5


def test_a_delivery_that_already_used_an_attempt_is_never_batched(sent):
    require_postgres()
    FailPlan.objects.create(key="r0", always=True)
    (poison,) = batch(1, prefix="r")
    assert run_delivery(poison) == "retry"  # alone: nothing else was waiting
    later = batch(4, prefix="q")
    # The retried one runs alone: its waiting siblings are not dragged into its attempt.
    assert run_delivery(poison) == "retry"
    now = rows([poison, *later])
    assert now[poison].attempts == 2
    assert [now[pk].status for pk in later] == ["queued"] * 4
    # And a fresh delivery's batch does not take the retried one in.
    assert run_delivery(later[0]) == "done"
    now = rows([poison, *later])
    assert [now[pk].status for pk in later] == ["done"] * 4
    assert list(transactions().values()) == [4]
    assert now[poison].status == "retrying" and now[poison].attempts == 2


def test_batching_switched_off_runs_one_delivery_per_message(sent, settings):
    require_postgres()
    settings.EVENTBUS_BATCHING = False
    ids = batch(3)
    assert run_delivery(ids[0]) == "done"
    now = rows(ids)
    assert [now[pk].status for pk in ids] == ["done", "queued", "queued"]


def test_batched_deliveries_sent_several_times_take_effect_once(isolated_broker):
    """Through a real worker (on SQLite: one by one, the same guarantees)."""
    url, env = isolated_broker
    ids = batch(25)
    # Every message three more times, as redeliveries and relays might.
    for _ in range(3):
        assert len(send_to_broker([(pk, "default") for pk in ids])) == len(ids)
    with Worker(broker_url=url, env={**FAST, **env}, name="batch-dupes"):
        wait_until(
            lambda: Delivery.objects.filter(pk__in=ids, status="done").count() == 25,
            message="25 batched deliveries done",
        )
        time.sleep(1)  # leftover copies are drained meanwhile
    assert [effects(f"b{i}") for i in range(25)] == [1] * 25
    assert set(Delivery.objects.filter(pk__in=ids).values_list("attempts", flat=True)) == {1}
    if connection.vendor == "postgresql":
        assert max(transactions().values()) > 1  # they really were batched


def test_a_lost_batch_is_sent_again_by_the_relay_and_delivered_once(isolated_broker, monkeypatch):
    url, env = isolated_broker
    # Published while sends go nowhere: the rows wait as if their messages were lost.
    # (_send_messages: single and grouped sends alike; the background sender may group.)
    monkeypatch.setattr(publisher, "_send_messages", lambda messages, countdown=None: [])
    ids = batch(6)
    assert sender.flush(30)  # the sends went nowhere (EVENTBUS_SEND_IN_BACKGROUND on)
    monkeypatch.undo()
    past = timezone.now() - timedelta(minutes=1)
    Delivery.objects.filter(pk__in=ids).update(status="queued", lease_until=past)
    assert relay_once() == 6
    with Worker(broker_url=url, env={**FAST, **env}, name="batch-relay"):
        wait_until(
            lambda: Delivery.objects.filter(pk__in=ids, status="done").count() == 6,
            message="relayed batch done",
        )
    assert [effects(f"b{i}") for i in range(6)] == [1] * 6
    assert set(Delivery.objects.filter(pk__in=ids).values_list("resends", flat=True)) == {1}


def test_a_member_that_kills_its_worker_mid_batch_goes_dead_and_its_siblings_done(
    fault_broker, tmp_path, settings
):
    """The pool process dies inside a batch: every member used an attempt. After the
    lease each runs alone (a delivery with a used attempt is never batched): the
    siblings finish, the poison one dies again and ends dead after max_attempts."""
    require_postgres()
    url, env = fault_broker
    settings.EVENTBUS_LEASE_SECONDS = 1
    log = tmp_path / "starts"
    ids = batch(5, extra={2: {"crash_log": str(log)}})
    poison = ids[2]

    def settled():
        relay_once()
        return not Delivery.objects.filter(pk__in=ids, status__in=Delivery.UNFINISHED).exists()

    worker_env = {**FAST, **env, "EVENTBUS_LEASE_SECONDS": "1"}
    with Worker(broker_url=url, env=worker_env, name="batch-poison"):
        wait_until(settled, timeout=120, interval=0.5, message="batch settled")
    now = rows(ids)
    assert now[poison].status == "dead" and now[poison].attempts == 3
    assert "lost" in now[poison].last_error
    assert len(log.read_text().splitlines()) == 3
    assert [now[pk].status for pk in ids if pk != poison] == ["done"] * 4
    assert [effects(f"b{i}") for i in (0, 1, 3, 4)] == [1] * 4
    assert effects("b2") == 0


@pytest.fixture
def messages(monkeypatch):
    """Grouped sends are recorded, not made."""
    record: list[tuple[list[int], str]] = []

    def fake(msgs, *, countdown=None):
        record.extend((list(ids), queue) for ids, queue in msgs)
        return [pk for ids, _ in msgs for pk in ids]

    monkeypatch.setattr(publisher, "_send_messages", fake)
    return record


def test_one_transaction_publishing_many_sends_them_as_bounded_messages(messages):
    require_postgres()
    with transaction.atomic():
        stored = [publish(Batched(key=f"b{i}")) for i in range(25)]
        publish(Pinged(key="single"))  # a consumer without batch_size: its own message
    assert sender.flush(30)
    ids = [s.deliveries.get().pk for s in stored]
    batched = [m for m, _ in messages if len(m) > 1]
    assert batched == [ids[:10], ids[10:20], ids[20:]]
    assert len([m for m, _ in messages if len(m) == 1]) == 1
    assert run_deliveries(ids[:10]) == dict.fromkeys(ids[:10], "done")
    assert list(transactions().values()) == [10]
    assert Delivery.objects.filter(pk__in=ids[10:], status="queued").count() == 15


def test_deliveries_of_a_rolled_back_savepoint_are_not_sent(messages):
    require_postgres()
    with transaction.atomic():
        kept = [publish(Batched(key=f"k{i}")) for i in range(2)]
        with pytest.raises(RuntimeError), transaction.atomic():
            publish(Batched(key="gone"))
            raise RuntimeError("inner write failed")
        kept.append(publish(Batched(key="k2")))
    assert sender.flush(30)
    sent_ids = sorted(pk for ids, _ in messages for pk in ids)
    assert sent_ids == sorted(s.deliveries.get().pk for s in kept)
    assert Delivery.objects.count() == 3


def test_a_transactions_batch_message_and_its_duplicates_take_effect_once(isolated_broker):
    url, env = isolated_broker
    with transaction.atomic():
        stored = [publish(Batched(key=f"b{i}")) for i in range(25)]
    ids = [s.deliveries.get().pk for s in stored]
    assert len(publisher._send_messages([(ids[:10], "default")])) == 10  # a duplicate
    with Worker(broker_url=url, env={**FAST, **env}, name="batch-many"):
        wait_until(
            lambda: Delivery.objects.filter(pk__in=ids, status="done").count() == 25,
            message="25 deliveries done",
        )
        time.sleep(0.5)
    assert [effects(f"b{i}") for i in range(25)] == [1] * 25


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"batch_size": 0}, "positive integer"),
        ({"batch_size": 101}, "EVENTBUS_MAX_BATCH_SIZE"),
        ({"batch_size": 5, "atomic": False}, "atomic consumer"),
    ],
)
def test_batch_size_is_bounded_and_only_for_atomic_consumers(options, message):
    from bookshare.eventbus import consumer

    with pytest.raises(ValueError, match=message):
        consumer(Batched, queue="default", name="test.bad_batch", **options)
