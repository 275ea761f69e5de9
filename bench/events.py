"""Event bus throughput and overhead, on PostgreSQL + Redis, in one run.

(a) drain rate of a no-op Celery task, (b) end-to-end rate of events published and
delivered to a no-op consumer, with the same worker settings, one delivery per task and
to a consumer declared with batch_size=50; (c) time to save a model with and without
its event (including the after-commit send); (d) a save while the broker is down or
hung; (e) the worker side alone: a backlog of no-op tasks, of deliveries one per task
and of batched deliveries, drained. Goals: (b) >= 60% of (a); (c) adds <= 2 ms.

    python bench/events.py [--n 3000] [--saves 1000]
"""

from __future__ import annotations

import argparse
import socket
import time

from _common import print_table, progress, setup_django, summary_ms, write_json


def redis_client():
    import redis
    from django.conf import settings

    return redis.Redis.from_url(settings.CELERY_BROKER_URL)


def drained(r, queue: str) -> bool:
    # Waiting messages, plus those a worker holds unacknowledged (late acks).
    return r.llen(queue) == 0 and r.hlen("unacked") == 0


def bench_noop(n: int, worker_factory) -> float:
    from bookshare.eventbus.tasks import noop

    r = redis_client()
    with worker_factory("default"):
        started = time.perf_counter()
        for _ in range(n):
            noop.apply_async(queue="default")
        while not drained(r, "default"):
            time.sleep(0.005)
        return n / (time.perf_counter() - started)


def bench_events(n: int, worker_factory, *, batched: bool = False) -> float:
    """Events published one per transaction (as requests do) while a worker delivers
    them; the rate from the first publish to the last delivery done. `batched`: to the
    consumer declared with batch_size=50 instead of the one-delivery-per-task one."""
    from django.db import transaction

    from bookshare.eventbus import publish
    from bookshare.eventbus.models import Delivery
    from bookshare.eventbus.tests.testapp.events import Nooped, NoopedInBatches

    event_class = NoopedInBatches if batched else Nooped
    with worker_factory("default"):
        first = Delivery.objects.order_by("-id").values_list("id", flat=True).first() or 0
        started = time.perf_counter()
        for i in range(n):
            with transaction.atomic():  # one transaction per event, as a request's write
                publish(event_class(n=i))
        while Delivery.objects.filter(id__gt=first, status="done").count() < n:
            time.sleep(0.01)
        return n / (time.perf_counter() - started)


def bench_backlog(n: int, worker_factory, kind: str) -> float:
    """(e) The worker side alone: n messages sent with no worker running, then the rate
    from a worker being ready to the last one finished. kind: "noop" (Celery tasks),
    "events" (one delivery per task) or "batched" (batch_size=50 consumer)."""
    from django.db import transaction

    from bookshare.eventbus import publish
    from bookshare.eventbus.models import Delivery
    from bookshare.eventbus.tasks import noop
    from bookshare.eventbus.tests.testapp.events import Nooped, NoopedInBatches

    r = redis_client()
    first = Delivery.objects.order_by("-id").values_list("id", flat=True).first() or 0
    for i in range(n):
        if kind == "noop":
            noop.apply_async(queue="default")
        else:
            with transaction.atomic():
                publish((NoopedInBatches if kind == "batched" else Nooped)(n=i))
    with worker_factory("default"):
        started = time.perf_counter()
        if kind == "noop":
            while not drained(r, "default"):
                time.sleep(0.005)
        else:
            while Delivery.objects.filter(id__gt=first, status="done").count() < n:
                time.sleep(0.01)
        return n / (time.perf_counter() - started)


def bench_saves(n: int) -> dict:
    """Widget saves with and without the post_save adapter that publishes WidgetCreated.

    "in_transaction": the save inside transaction.atomic(), as services write (the event
    shares the save's commit). "bare_save": a save outside any transaction; the model
    (AtomicSaveMixin) opens one for the row and its event. Both include the send to
    Redis after commit.
    """
    from django.db import transaction
    from django.db.models.signals import post_save

    from bookshare.eventbus.tests.testapp import signals
    from bookshare.eventbus.tests.testapp.models import Widget

    def timed(label, atomic):
        samples = []
        for i in range(n):
            t = time.perf_counter()
            if atomic:
                with transaction.atomic():
                    Widget.objects.create(name=f"{label}-{i}")
            else:
                Widget.objects.create(name=f"{label}-{i}")
            samples.append(time.perf_counter() - t)
        return samples

    results = {}
    for mode, atomic in (("in_transaction", True), ("bare_save", False)):
        timed("warmup", atomic)
        with_event = timed("with", atomic)
        post_save.disconnect(sender=Widget, dispatch_uid="eventbus_testapp.widget_created")
        try:
            without = timed("without", atomic)
        finally:
            post_save.connect(
                signals.widget_created,
                sender=Widget,
                dispatch_uid="eventbus_testapp.widget_created",
            )
        results[mode] = {"with_event": summary_ms(with_event), "without_event": summary_ms(without)}
    return results


def bench_broker_down() -> dict:
    """Saves while the broker refuses connections, and while it accepts but never answers."""
    from bookshare.eventbus.publisher import reset_broker_cooldown
    from bookshare.eventbus.tests.testapp.models import Widget
    from bookshare.testing.services import free_port
    from bookshare.testing.worker import use_broker

    results = {}
    closed_port = free_port()
    hung = socket.socket()
    hung.bind(("127.0.0.1", 0))
    hung.listen(50)  # accepts connections, never replies
    hung_port = hung.getsockname()[1]
    for label, port in (("refused", closed_port), ("hung", hung_port)):
        with use_broker(f"redis://127.0.0.1:{port}/0"):
            reset_broker_cooldown()
            samples = []
            for i in range(20):
                t = time.perf_counter()
                Widget.objects.create(name=f"down-{label}-{i}")
                samples.append(time.perf_counter() - t)
            results[label] = {
                "first_save_ms": round(samples[0] * 1000, 1),
                "later_saves": summary_ms(samples[1:]),
            }
    hung.close()
    return results


BACKLOG_KINDS = ("noop", "events", "batched")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=3000, help="tasks/events per throughput run")
    parser.add_argument("--saves", type=int, default=1000, help="saves per overhead sample")
    args = parser.parse_args()

    setup_django(db_name="bookshare_bench_events", redis_db=6)
    from bookshare.testing.worker import Worker, purge_broker

    purge_broker()

    def worker_factory(queues):
        return Worker(queues=queues, concurrency=2, name="bench")

    progress(f"(a) draining {args.n} no-op tasks …")
    noop_rate = bench_noop(args.n, worker_factory)
    progress(f"(b) publishing and delivering {args.n} events, one delivery per task …")
    event_rate = bench_events(args.n, worker_factory)
    progress(f"(b) publishing and delivering {args.n} events to a batch_size=50 consumer …")
    batched_rate = bench_events(args.n, worker_factory, batched=True)
    progress(f"(e) {args.n} waiting messages of each kind drained by a worker …")
    backlog = {kind: bench_backlog(args.n, worker_factory, kind) for kind in BACKLOG_KINDS}
    progress(f"(c) {args.saves} saves with and {args.saves} without the event …")
    saves = bench_saves(args.saves)
    progress("(d) saves with the broker down and hung …")
    down = bench_broker_down()

    ratio = event_rate / noop_rate
    batched_ratio = batched_rate / noop_rate
    added = {
        mode: s["with_event"]["p50_ms"] - s["without_event"]["p50_ms"] for mode, s in saves.items()
    }
    rows = [
        ("(a) no-op task drain", f"{noop_rate:.0f}/s", "baseline"),
        (
            "(b) events published+delivered",
            f"{event_rate:.0f}/s",
            f"{ratio:.0%} of (a) (goal >= 60%)",
        ),
        (
            "(b) same, consumer with batch_size=50",
            f"{batched_rate:.0f}/s",
            f"{batched_ratio:.0%} of (a) (goal >= 60%)",
        ),
    ]
    for mode, s in saves.items():
        w, wo = s["with_event"], s["without_event"]
        rows.append(
            (
                f"(c) {mode}: save without event p50/p95",
                f"{wo['p50_ms']:.2f}/{wo['p95_ms']:.2f} ms",
                "",
            )
        )
        rows.append(
            (
                f"(c) {mode}: save with event p50/p95",
                f"{w['p50_ms']:.2f}/{w['p95_ms']:.2f} ms",
                f"+{added[mode]:.2f} ms at p50 (goal <= 2 ms)",
            )
        )
    for kind in BACKLOG_KINDS:
        rate = backlog[kind]
        rows.append(
            (
                f"(e) backlog drain: {kind}",
                f"{rate:.0f}/s",
                "baseline" if kind == "noop" else f"{rate / backlog['noop']:.0%} of noop drain",
            )
        )
    for label, d in down.items():
        rows.append(
            (
                f"(d) broker {label}: first save",
                f"{d['first_save_ms']:.0f} ms",
                "bounded by EVENTBUS_BROKER_TIMEOUT",
            )
        )
        rows.append(
            (
                f"(d) broker {label}: later saves p95",
                f"{d['later_saves']['p95_ms']:.2f} ms",
                "broker skipped while cooling down",
            )
        )
    print_table(
        "Event bus (PostgreSQL + Redis, worker: prefork -c 2, prefetch 1, late acks)",
        rows,
        ("measure", "value", "note"),
    )
    write_json(
        "events",
        {
            "params": vars(args),
            "noop_tasks_per_s": round(noop_rate, 1),
            "events_per_s": round(event_rate, 1),
            "events_vs_noop_ratio": round(ratio, 3),
            "batched_events_per_s": round(batched_rate, 1),
            "batched_events_vs_noop_ratio": round(batched_ratio, 3),
            "backlog_drain_per_s": {k: round(v, 1) for k, v in backlog.items()},
            "save": saves,
            "save_added_p50_ms": {k: round(v, 3) for k, v in added.items()},
            "broker_down": down,
            "goals": {"ratio_min": 0.6, "added_ms_max": 2.0},
            "goals_met": {
                "ratio": ratio >= 0.6,
                "batched_ratio": batched_ratio >= 0.6,
                "added_ms_in_transaction": added["in_transaction"] <= 2.0,
                "added_ms_bare_save": added["bare_save"] <= 2.0,
            },
        },
    )


if __name__ == "__main__":
    main()
