"""The background sender (EVENTBUS_SEND_IN_BACKGROUND): commits hand their deliveries to
one thread per process, which sends whatever has accumulated each time it wakes, a
batching consumer's deliveries from many transactions grouped into one message."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from bookshare.eventbus import publisher, sender
from bookshare.eventbus.models import Delivery
from bookshare.eventbus.operations import relay_once
from bookshare.eventbus.stats import queue_depths
from bookshare.eventbus.tests.testapp.events import Batched, FannedOut, Pinged
from bookshare.eventbus.tests.testapp.models import Effect
from bookshare.testing import Worker, publish_committed, wait_until
from bookshare.testing.worker import ROOT

from .conftest import FAST

pytestmark = pytest.mark.django_db(transaction=True)

WAIT = 30  # seconds a test waits for the thread before it fails (never reached when it works)


@pytest.fixture(autouse=True)
def background(settings):
    """Background sending on, and a fresh sender per test (as in a new process); the
    test's sender is drained or dropped before the tables are truncated."""
    settings.EVENTBUS_SEND_IN_BACKGROUND = True
    sender._forget_after_fork()
    yield
    sender.shutdown(WAIT)  # its thread ends and closes its database connection
    sender._forget_after_fork()


class Recorder:
    """Replaces publisher._send_messages: records each call (the thread that made it and
    its messages). With `hold_first`, the first call waits for release() after saying
    it has started, so a test knows exactly what the first round took. `real`: the
    messages are also really sent."""

    def __init__(self, *, hold_first=False, sends=True, real=None):
        self.calls: list[tuple[str, list[tuple[list[int], str]]]] = []
        self.started = threading.Event()
        self.released = threading.Event()
        self.hold_first = hold_first
        self.sends = sends
        self.real = real
        self.connections: list = []
        self.open_at_call: list[bool] = []

    def __call__(self, messages, *, countdown=None):
        first = not self.calls
        self.calls.append((threading.current_thread().name, [(list(i), q) for i, q in messages]))
        self.connections.append(connections["default"])
        self.open_at_call.append(connections["default"].connection is not None)
        if first and self.hold_first:
            self.started.set()
            assert self.released.wait(WAIT), "the test never released the first send"
        if self.real is not None:
            return self.real(messages, countdown=countdown)
        return [pk for ids, _ in messages for pk in ids] if self.sends else []

    def release(self):
        self.released.set()

    def messages(self, thread=None):
        return [m for name, msgs in self.calls if thread in (None, name) for m in msgs]

    def sent_ids(self):
        return [pk for ids, _ in self.messages() for pk in ids]


@pytest.fixture
def recorder(monkeypatch):
    made: list[Recorder] = []

    def make(**kwargs) -> Recorder:
        rec = Recorder(**kwargs)
        made.append(rec)
        monkeypatch.setattr(publisher, "_send_messages", rec)
        return rec

    yield make
    for rec in made:
        rec.release()  # never leave the thread waiting on a failed test


def delivery_ids(stored_events) -> list[int]:
    return [s.deliveries.get().pk for s in stored_events]


def test_the_commit_returns_before_the_send_and_the_thread_sends_it(recorder):
    rec = recorder(hold_first=True)
    (pk,) = delivery_ids([publish_committed(Pinged(key="a"))])
    # The commit has returned while the send is still held in the thread.
    assert rec.started.wait(WAIT)
    assert sender.get_sender().pending() == 1
    rec.release()
    assert sender.flush(WAIT)
    assert rec.calls == [("eventbus-sender", [([pk], "default")])]
    assert Delivery.objects.get(pk=pk).status == "queued"


def test_commits_waiting_while_a_round_is_sent_go_in_the_next_round_grouped(recorder):
    rec = recorder(hold_first=True)
    first = delivery_ids([publish_committed(Batched(key="b0"))])
    assert rec.started.wait(WAIT)  # the thread took only the first commit
    later = delivery_ids([publish_committed(Batched(key=f"b{i}")) for i in range(1, 26)])
    single = delivery_ids([publish_committed(Pinged(key="p"))])
    rec.release()
    assert sender.flush(WAIT)
    assert len(rec.calls) == 2, rec.calls  # two rounds for 27 transactions
    assert rec.calls[0][1] == [(first, "default")]
    second = rec.calls[1][1]
    assert sorted(pk for ids, _ in second for pk in ids) == sorted(later + single)
    if connection.vendor == "postgresql":
        # test.batch has batch_size=10: 25 deliveries from 25 transactions, 3 messages.
        assert [ids for ids, _ in second if len(ids) > 1] == [later[:10], later[10:20], later[20:]]
        assert [ids for ids, _ in second if len(ids) == 1] == [single]
    else:
        assert all(len(ids) == 1 for ids, _ in second)  # no batching off PostgreSQL
    assert set(Delivery.objects.values_list("status", flat=True)) == {"queued"}


def test_the_rest_after_a_round_sends_the_first_commit_at_once_and_groups_the_stream(
    recorder, settings
):
    settings.EVENTBUS_SEND_PAUSE_MS = 60_000  # a rest the test ends itself
    rec = recorder()
    first = delivery_ids([publish_committed(Batched(key="r0"))])
    assert sender.flush(WAIT)  # sent without waiting for any rest
    assert rec.calls == [("eventbus-sender", [(first, "default")])]
    later = delivery_ids([publish_committed(Batched(key=f"r{i}")) for i in range(1, 6)])
    assert sender.get_sender().pending() == 5 and len(rec.calls) == 1  # the thread rests
    sender.get_sender().rest_over.set()  # as the rest running out does
    assert sender.flush(WAIT)
    assert len(rec.calls) == 2
    sent = sorted(pk for ids, _ in rec.calls[1][1] for pk in ids)
    assert sent == sorted(later)
    if connection.vendor == "postgresql":
        assert [ids for ids, _ in rec.calls[1][1]] == [later]  # five commits, one message


def test_an_urgent_queue_is_sent_by_the_committing_thread_not_behind_bulk(recorder):
    rec = recorder(hold_first=True)
    publish_committed(Pinged(key="bulk"))
    assert rec.started.wait(WAIT)  # the thread is stuck in a bulk send
    stored = publish_committed(FannedOut(key="fan"))  # email, search and suggestions
    by_queue = {d.queue: d.pk for d in stored.deliveries.all()}
    me = threading.current_thread().name
    # The email delivery went out before the commit returned, from this thread, while
    # the bulk round is still held; search and suggestions wait for the thread.
    assert rec.messages(thread=me) == [([by_queue["email"]], "email")]
    assert by_queue["search"] not in rec.sent_ids()
    rec.release()
    assert sender.flush(WAIT)
    thread_ids = [pk for ids, _ in rec.messages(thread="eventbus-sender") for pk in ids]
    assert sorted(thread_ids[1:]) == sorted([by_queue["search"], by_queue["suggestions"]])
    assert sorted(rec.sent_ids()).count(by_queue["email"]) == 1


def test_what_the_thread_cannot_send_is_marked_pending_on_its_own_connection(recorder):
    rec = recorder(sends=False)  # the broker takes nothing
    ids = []
    for i in range(3):  # three rounds
        ids += delivery_ids([publish_committed(Pinged(key=f"p{i}"))])
        assert sender.flush(WAIT)
    rows = Delivery.objects.filter(pk__in=ids)
    assert set(rows.values_list("status", flat=True)) == {"pending"}
    assert all(d.lease_until <= timezone.now() for d in rows)
    # The thread marked them on a connection of its own ...
    assert {name for name, _ in rec.calls} == {"eventbus-sender"}
    assert all(conn is not connections["default"] for conn in rec.connections)
    if connection.vendor == "postgresql":
        # ... kept from one failing round to the next (CONN_MAX_AGE), not a new
        # PostgreSQL backend per round while the broker is down ...
        assert rec.open_at_call == [False, True, True]
    # ... and closed when the thread ends.
    assert sender.shutdown(WAIT)
    assert all(conn.connection is None for conn in rec.connections)


def test_an_idle_thread_closes_its_connection(recorder, monkeypatch):
    monkeypatch.setattr(sender, "IDLE_SECONDS", 0.01)
    rec = recorder(sends=False)
    delivery_ids([publish_committed(Pinged(key="p"))])
    assert sender.flush(WAIT)
    (conn,) = rec.connections
    wait_until(lambda: conn.connection is None, timeout=WAIT, message="idle sender to close")
    assert sender.get_sender().thread.is_alive()  # idle, not gone


def test_a_failing_round_is_logged_and_the_thread_goes_on(recorder, caplog, monkeypatch):
    rec = recorder()
    calls = {"n": 0}

    def broken_once(messages, *, countdown=None):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("serialisation blew up")
        return rec(messages, countdown=countdown)

    monkeypatch.setattr(publisher, "_send_messages", broken_once)
    (lost,) = delivery_ids([publish_committed(Pinged(key="lost"))])
    assert sender.flush(WAIT)
    thread = sender.get_sender().thread
    (sent,) = delivery_ids([publish_committed(Pinged(key="sent"))])
    assert sender.flush(WAIT)
    assert sender.get_sender().thread is thread and thread.is_alive()
    assert rec.sent_ids() == [sent]
    assert "left for the relay" in caplog.text
    # The failed round's row is untouched: queued, for the relay after its lease.
    assert Delivery.objects.get(pk=lost).status == "queued"


def test_a_process_that_dies_with_deliveries_buffered_loses_only_nudges(
    isolated_broker, monkeypatch
):
    """Buffered and never flushed (the process died before its thread woke): the rows
    stay queued; the relay sends them after their lease, once, and each takes effect
    once."""
    url, env = isolated_broker
    monkeypatch.setattr(sender._Sender, "_ensure_thread", lambda self: True)  # never wakes
    ids = delivery_ids([publish_committed(Batched(key=f"d{i}")) for i in range(5)])
    assert sender.get_sender().pending() == 5
    sender._forget_after_fork()  # the process is gone, and its buffer with it
    assert set(Delivery.objects.values_list("status", flat=True)) == {"queued"}
    assert queue_depths()["default"] == 0  # nothing reached the broker
    assert relay_once() == 0  # their lease still runs
    Delivery.objects.update(lease_until=timezone.now() - timedelta(seconds=1))
    assert relay_once() == 5
    with Worker(broker_url=url, env={**FAST, **env}, name="sender-died"):
        wait_until(
            lambda: Delivery.objects.filter(pk__in=ids, status="done").count() == 5,
            message="relayed deliveries done",
        )
    assert relay_once() == 0
    rows = Delivery.objects.filter(pk__in=ids)
    assert set(rows.values_list("resends", "attempts")) == {(1, 1)}
    assert sorted(Effect.objects.filter(consumer="batch").values_list("key", flat=True)) == [
        f"d{i}" for i in range(5)
    ]


def test_a_forked_child_has_its_own_empty_sender(recorder):
    rec = recorder(hold_first=True)
    publish_committed(Pinged(key="parent-0"))
    assert rec.started.wait(WAIT)
    (parent_waiting,) = delivery_ids([publish_committed(Pinged(key="parent-1"))])
    parent = sender.get_sender()
    assert parent.pending() == 2
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report, then leave without running pytest's teardown
        try:
            mine = sender.get_sender()
            fresh = mine is not parent and mine.pending() == 0
            before = len(rec.calls)
            sender.submit([(10**9, "default", "test.ping")])
            flushed = sender.flush(WAIT)
            sent = [pk for _, msgs in rec.calls[before:] for ids, _ in msgs for pk in ids]
            report = {"fresh": fresh, "flushed": flushed, "sent": sent}
        except BaseException as exc:  # noqa: BLE001 - anything goes back to the parent
            report = {"error": repr(exc)}
        os.write(write, json.dumps(report).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        report = json.loads(pipe.read())
    os.waitpid(pid, 0)
    # The child sent only its own delivery, from a thread of its own.
    assert report == {"fresh": True, "flushed": True, "sent": [10**9]}
    rec.release()
    assert sender.flush(WAIT)
    assert parent_waiting in rec.sent_ids()


def test_deliveries_still_buffered_at_exit_are_sent_by_the_atexit_flush(isolated_broker):
    """A process that exits normally right after its commits: the atexit flush sends what
    its thread had not sent yet (each round here is slowed down so that most commits are
    still buffered when the script ends)."""
    url, env = isolated_broker
    script = (
        "import time, django\n"
        "django.setup()\n"
        "from bookshare.eventbus import publisher\n"
        "real = publisher._send_messages\n"
        "def slow(messages, **kw):\n"
        "    time.sleep(0.5)\n"
        "    return real(messages, **kw)\n"
        "publisher._send_messages = slow\n"
        "from bookshare.testing import publish_committed\n"
        "from bookshare.eventbus.sender import get_sender\n"
        "from bookshare.eventbus.tests.testapp.events import Pinged\n"
        "for i in range(20):\n"
        "    publish_committed(Pinged(key=f'exit-{i}'))\n"
        "print('buffered at exit:', get_sender().pending(), flush=True)\n"
    )
    worker_env = Worker(broker_url=url, env=env).environment()
    worker_env["EVENTBUS_SEND_IN_BACKGROUND"] = "true"
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=worker_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.split("buffered at exit:")[1]) > 0, done.stdout  # really buffered
    assert Delivery.objects.count() == 20
    assert set(Delivery.objects.values_list("status", flat=True)) == {"queued"}
    assert queue_depths()["default"] == 20  # every one sent, none lost, none twice


@pytest.mark.flow
def test_flow_many_transactions_arrive_grouped_and_take_effect_once(isolated_broker, recorder):
    """Through a real worker (its own sends in the background too): 40 events in 40
    transactions published while the thread sends the first; the rest arrive as
    deliver_many messages (PostgreSQL), and each event takes effect exactly once."""
    url, env = isolated_broker
    rec = recorder(hold_first=True, real=publisher._send_messages)
    worker_env = {**FAST, **env, "EVENTBUS_SEND_IN_BACKGROUND": "true"}
    with Worker(broker_url=url, env=worker_env, name="background-sender"):
        ids = delivery_ids([publish_committed(Batched(key="f0"))])
        assert rec.started.wait(WAIT)
        ids += delivery_ids([publish_committed(Batched(key=f"f{i}")) for i in range(1, 40)])
        rec.release()
        assert sender.flush(WAIT)
        wait_until(
            lambda: Delivery.objects.filter(pk__in=ids, status="done").count() == 40,
            message="40 deliveries done",
        )
    messages = rec.messages()
    assert sorted(pk for ids_, _ in messages for pk in ids_) == sorted(ids)  # each sent once
    keys = Effect.objects.filter(consumer="batch").values_list("key", flat=True)
    assert sorted(keys) == sorted(f"f{i}" for i in range(40))  # each took effect once
    assert set(Delivery.objects.filter(pk__in=ids).values_list("attempts", flat=True)) == {1}
    if connection.vendor == "postgresql":
        # batch_size=10: the first alone, then 39 from 39 transactions in 4 messages.
        assert [len(m) for m, _ in messages] == [1, 10, 10, 10, 9]
        runs = Effect.objects.filter(consumer__startswith="batch.tx:").values_list("consumer")
        assert len(set(runs)) < 40  # and the worker ran them in batches
