"""Event bus throughput and overhead, on PostgreSQL + Redis, in one run.

(a) drain rate of a no-op Celery task, (b) end-to-end rate of events published and
delivered to a no-op consumer, with the same worker settings, one delivery per task and
to a consumer declared with batch_size=50; (c) time to save a model with and without
its event (including the after-commit send); (d) a save while the broker is down or
hung; (e) the worker side alone: a backlog of no-op tasks, of deliveries one per task
and of batched deliveries, drained. Goals: (b) >= 60% of (a); (c) adds <= 2 ms.

(b), (c) and (d) run in both send modes, in the same run: "sync" (the committing thread
sends its transaction's deliveries) and "background" (EVENTBUS_SEND_IN_BACKGROUND: a
per-process thread sends whatever has accumulated); (b) also reports the messages sent
per delivery.

    python bench/events.py [--n 3000] [--saves 1000] [--modes sync,background]
                           [--skip-backlog]
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


MODES = ("sync", "background", "nopause")
# "background" runs the background sender as configured (EVENTBUS_SEND_PAUSE_MS, default
# 5 ms of rest after each round); "nopause" the same sender with no rest, so each round
# takes only what arrived while the previous one was being sent.


class send_mode:  # noqa: N801 - used like a function
    """EVENTBUS_SEND_IN_BACKGROUND on ("background", "nopause") or off ("sync") in this
    process, and a count of the messages sent meanwhile (publisher._send_messages calls,
    any thread). On leaving, what the background sender still holds is flushed."""

    def __init__(self, mode: str):
        self.background = mode in ("background", "nopause")
        self.nopause = mode == "nopause"
        self.messages = 0

    def __enter__(self):
        from django.conf import settings

        from bookshare.eventbus import publisher, sender

        self.sender = sender.get_sender()
        self.start = (self.sender.rounds, self.sender.done)
        self.saved = (
            settings.EVENTBUS_SEND_IN_BACKGROUND,
            settings.EVENTBUS_SEND_PAUSE_MS,
            publisher._send_messages,
        )
        settings.EVENTBUS_SEND_IN_BACKGROUND = self.background
        if self.nopause:
            settings.EVENTBUS_SEND_PAUSE_MS = 0.0
        real = publisher._send_messages

        def counted(messages, **kwargs):
            self.messages += len(messages)
            return real(messages, **kwargs)

        publisher._send_messages = counted
        return self

    def __exit__(self, *exc):
        from django.conf import settings

        from bookshare.eventbus import publisher, sender

        sender.flush(30)
        (
            settings.EVENTBUS_SEND_IN_BACKGROUND,
            settings.EVENTBUS_SEND_PAUSE_MS,
            publisher._send_messages,
        ) = self.saved
        self.rounds = self.sender.rounds - self.start[0]
        self.items = self.sender.done - self.start[1]

    def per_round(self) -> float:
        """Deliveries the background sender took per wake-up (0: it did not run)."""
        return self.items / self.rounds if self.rounds else 0.0


def bench_events(n: int, worker_factory, *, batched: bool = False, mode: str = "sync") -> dict:
    """Events published one per transaction (as requests do) while a worker delivers
    them; the rate from the first publish to the last delivery done. `batched`: to the
    consumer declared with batch_size=50 instead of the one-delivery-per-task one.
    `mode`: sent by the committing thread ("sync") or the background sender."""
    from django.db import transaction

    from bookshare.eventbus import publish
    from bookshare.eventbus.models import Delivery
    from bookshare.eventbus.tests.testapp.events import Nooped, NoopedInBatches

    event_class = NoopedInBatches if batched else Nooped
    with worker_factory("default"), send_mode(mode) as counted:
        first = Delivery.objects.order_by("-id").values_list("id", flat=True).first() or 0
        started = time.perf_counter()
        for i in range(n):
            with transaction.atomic():  # one transaction per event, as a request's write
                publish(event_class(n=i))
        published = time.perf_counter() - started
        while Delivery.objects.filter(id__gt=first, status="done").count() < n:
            time.sleep(0.01)
        elapsed = time.perf_counter() - started
    return {
        "per_s": n / elapsed,
        "publish_per_s": n / published,
        "messages_per_delivery": counted.messages / n,
        "deliveries_per_round": counted.per_round(),
    }


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


def bench_saves(n: int, mode: str = "sync") -> dict:
    """Widget saves with and without the post_save adapter that publishes WidgetCreated.

    "in_transaction": the save inside transaction.atomic(), as services write (the event
    shares the save's commit). "bare_save": a save outside any transaction; the model
    (AtomicSaveMixin) opens one for the row and its event. "sync" includes the send to
    Redis after commit; "background" only the hand-off to the sender thread (which sends
    meanwhile, on the same cores).
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
    for kind, atomic in (("in_transaction", True), ("bare_save", False)):
        timed("warmup", atomic)
        with send_mode(mode):
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
        results[kind] = {"with_event": summary_ms(with_event), "without_event": summary_ms(without)}
    return results


def bench_broker_down(mode: str = "sync") -> dict:
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
        with use_broker(f"redis://127.0.0.1:{port}/0"), send_mode(mode):
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
    parser.add_argument(
        "--modes",
        default="sync,background",
        help="send modes for (b), (c) and (d), comma-separated: sync (the committing "
        "thread sends), background (EVENTBUS_SEND_IN_BACKGROUND with its configured "
        "EVENTBUS_SEND_PAUSE_MS), nopause (the same with no rest between rounds)",
    )
    parser.add_argument("--skip-backlog", action="store_true", help="leave out (e)")
    args = parser.parse_args()
    modes = [m for m in args.modes.split(",") if m]
    assert set(modes) <= set(MODES), f"modes: {MODES}"

    setup_django(db_name="bookshare_bench_events", redis_db=6)
    from bookshare.testing.worker import Worker, purge_broker

    purge_broker()

    def worker_factory(queues):
        return Worker(queues=queues, concurrency=2, name="bench")

    progress(f"(a) draining {args.n} no-op tasks …")
    noop_rate = bench_noop(args.n, worker_factory)
    events: dict[str, dict] = {}
    for batched in (False, True):
        for mode in modes:
            kind = "batched" if batched else "one_per_task"
            progress(f"(b) {args.n} events, {kind}, sent {mode} …")
            events[f"{kind}/{mode}"] = bench_events(
                args.n, worker_factory, batched=batched, mode=mode
            )
    backlog = {}
    if not args.skip_backlog:
        progress(f"(e) {args.n} waiting messages of each kind drained by a worker …")
        backlog = {kind: bench_backlog(args.n, worker_factory, kind) for kind in BACKLOG_KINDS}
    saves, down = {}, {}
    for mode in modes:
        progress(f"(c) {args.saves} saves with and {args.saves} without the event, {mode} …")
        saves[mode] = bench_saves(args.saves, mode)
        progress(f"(d) saves with the broker down and hung, {mode} …")
        down[mode] = bench_broker_down(mode)

    for result in events.values():
        result["ratio"] = result["per_s"] / noop_rate
    added = {
        mode: {
            kind: s["with_event"]["p50_ms"] - s["without_event"]["p50_ms"]
            for kind, s in by_kind.items()
        }
        for mode, by_kind in saves.items()
    }
    rows = [("(a) no-op task drain", f"{noop_rate:.0f}/s", "baseline")]
    for key, r in events.items():
        kind, mode = key.split("/")
        label = "batch_size=50" if kind == "batched" else "one delivery per task"
        rows.append(
            (
                f"(b) {label}, sent {mode}",
                f"{r['per_s']:.0f}/s",
                f"{r['ratio']:.0%} of (a) (goal >= 60%); "
                f"{r['messages_per_delivery']:.2f} messages/delivery; "
                + (
                    f"{r['deliveries_per_round']:.2f} deliveries per sender round; "
                    if r["deliveries_per_round"]
                    else ""
                )
                + f"published {r['publish_per_s']:.0f}/s",
            )
        )
    for mode, by_kind in saves.items():
        for kind, s in by_kind.items():
            w, wo = s["with_event"], s["without_event"]
            rows.append(
                (
                    f"(c) {kind}, {mode}: save without / with event p50",
                    f"{wo['p50_ms']:.2f} / {w['p50_ms']:.2f} ms",
                    f"+{added[mode][kind]:.2f} ms at p50 (goal <= 2 ms); "
                    f"p95 {wo['p95_ms']:.2f} / {w['p95_ms']:.2f} ms",
                )
            )
    for kind, rate in backlog.items():
        rows.append(
            (
                f"(e) backlog drain: {kind}",
                f"{rate:.0f}/s",
                "baseline" if kind == "noop" else f"{rate / backlog['noop']:.0%} of noop drain",
            )
        )
    for mode, by_label in down.items():
        for label, d in by_label.items():
            rows.append(
                (
                    f"(d) broker {label}, {mode}: first save / later p95",
                    f"{d['first_save_ms']:.0f} / {d['later_saves']['p95_ms']:.2f} ms",
                    "first bounded by EVENTBUS_BROKER_TIMEOUT when sent sync",
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
            "events": {key: {k: round(v, 3) for k, v in r.items()} for key, r in events.items()},
            "backlog_drain_per_s": {k: round(v, 1) for k, v in backlog.items()},
            "save": saves,
            "save_added_p50_ms": {
                mode: {k: round(v, 3) for k, v in by_kind.items()}
                for mode, by_kind in added.items()
            },
            "broker_down": down,
            "goals": {"ratio_min": 0.6, "added_ms_max": 2.0},
            "goals_met": {
                **{f"ratio {key}": r["ratio"] >= 0.6 for key, r in events.items()},
                **{
                    f"added_ms {kind}/{mode}": v <= 2.0
                    for mode, by_kind in added.items()
                    for kind, v in by_kind.items()
                },
            },
        },
    )


if __name__ == "__main__":
    main()
