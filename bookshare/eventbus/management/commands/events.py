"""`python manage.py events relay|replay|stats|tail|cleanup` — operate the event bus."""

from __future__ import annotations

import json
import time
from datetime import datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from bookshare.eventbus.models import Delivery, StoredEvent
from bookshare.eventbus.operations import cleanup, relay_once, replay, replay_for_consumer
from bookshare.eventbus.registry import all_consumers
from bookshare.eventbus.stats import collect


def _when(value: str) -> datetime:
    parsed = parse_datetime(value)
    if parsed is None:
        day = parse_date(value)
        if day is None:
            raise CommandError(
                f"cannot read {value!r} as a time; use 2026-11-21 or 2026-11-21T14:00"
            )
        parsed = datetime(day.year, day.month, day.day)
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


class Command(BaseCommand):
    help = "Operate the event bus: relay, replay, stats, tail, cleanup."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

        relay = sub.add_parser("relay", help="send again deliveries whose lease ran out")
        relay.add_argument("--loop", action="store_true", help="keep relaying until Ctrl-C")
        relay.add_argument("--interval", type=float, default=5.0)

        rp = sub.add_parser("replay", help="run deliveries again")
        rp.add_argument("--dead", action="store_true", help="every dead delivery")
        rp.add_argument("--consumer", help="one consumer (over --type/--since/--until)")
        rp.add_argument("--type", dest="event_type", help="event type, e.g. BookPostCreated")
        rp.add_argument("--since", type=_when, help="events at or after this time")
        rp.add_argument("--until", type=_when, help="events before this time")
        rp.add_argument("--delivery", type=int, action="append", help="a delivery id")

        st = sub.add_parser("stats", help="counts, latency and queue depths")
        st.add_argument("--json", action="store_true", help="print JSON")

        tail = sub.add_parser("tail", help="follow new events as they are published")
        tail.add_argument("--type", dest="event_type")
        tail.add_argument("--limit", type=int, help="stop after this many events")
        tail.add_argument("--timeout", type=float, help="stop after this many seconds")
        tail.add_argument("--interval", type=float, default=0.5)

        cl = sub.add_parser("cleanup", help="delete finished events past the retention")
        cl.add_argument("--days", type=int, help="override EVENTBUS_RETENTION_DAYS")
        cl.add_argument("--dead-days", type=int, help="override EVENTBUS_DEAD_RETENTION_DAYS")

        sub.add_parser("consumers", help="list registered consumers")

    def handle(self, *args, action, **opts):
        getattr(self, f"do_{action}")(**opts)

    # -- actions ----------------------------------------------------------------------
    def do_relay(self, *, loop, interval, **_):
        if not loop:
            self.stdout.write(f"relayed {relay_once()} deliveries")
            return
        self.stdout.write(f"relaying every {interval}s; Ctrl-C to stop")
        try:
            while True:
                n = relay_once()
                if n:
                    self.stdout.write(f"{timezone.now():%H:%M:%S} relayed {n}")
                time.sleep(interval)
        except KeyboardInterrupt:
            self.stdout.write("stopped")

    def do_replay(self, *, dead, consumer, event_type, since, until, delivery, **_):
        if consumer:
            try:
                n = replay_for_consumer(consumer, event_type=event_type, since=since, until=until)
            except ValueError as exc:
                names = ", ".join(c.name for c in all_consumers())
                raise CommandError(f"{exc}. Registered consumers: {names}") from None
        elif dead or delivery or event_type:
            qs = Delivery.objects.all()
            if dead:
                qs = qs.filter(status=Delivery.Status.DEAD)
            if delivery:
                qs = qs.filter(pk__in=delivery)
            if event_type:
                qs = qs.filter(event__type=event_type)
            if since:
                qs = qs.filter(event__occurred_at__gte=since)
            if until:
                qs = qs.filter(event__occurred_at__lt=until)
            n = replay(qs)
        else:
            raise CommandError(
                "say what to replay: --dead, --delivery ID, --type TYPE, or --consumer NAME "
                "(with optional --type/--since/--until)"
            )
        self.stdout.write(self.style.SUCCESS(f"replaying {n} deliveries"))

    def do_stats(self, *, json: bool = False, **_):
        stats = collect()
        if json:
            self.stdout.write(_to_json(stats))
            return
        header = (
            f"{'event':<24} {'consumer':<44} {'pub':>6} {'done':>6} {'fail':>5} "
            f"{'dead':>5} {'pend':>5} {'p50ms':>6} {'p95ms':>6} {'oldest':>7}"
        )
        self.stdout.write(header)
        self.stdout.write("-" * len(header))
        for r in stats.rows:
            oldest = f"{r.oldest_pending_s:.0f}s" if r.oldest_pending_s is not None else "-"
            self.stdout.write(
                f"{r.event_type:<24} {r.consumer[-44:]:<44} {r.published:>6} {r.delivered:>6} "
                f"{r.failed:>5} {r.dead:>5} {r.pending:>5} {_n(r.p50_ms):>6} "
                f"{_n(r.p95_ms):>6} {oldest:>7}"
            )
        if not stats.rows:
            self.stdout.write("(no deliveries yet)")
        self.stdout.write("")
        self.stdout.write(
            "published (total / last hour): "
            + (
                ", ".join(
                    f"{t} {n}/{stats.published_last_hour.get(t, 0)}"
                    for t, n in sorted(stats.published_by_type.items())
                )
                or "none"
            )
        )
        depths = ", ".join(f"{q}={'?' if d is None else d}" for q, d in stats.queue_depths.items())
        self.stdout.write(f"queue depths: {depths}")
        oldest = stats.oldest_unsent_s
        self.stdout.write(
            "oldest unsent delivery: " + (f"{oldest:.1f}s" if oldest is not None else "none")
        )
        if stats.dead:
            age = (
                f"the oldest died {stats.oldest_dead_s / 86400:.1f} days ago"
                if stats.oldest_dead_s is not None
                else "age unknown"
            )
            self.stdout.write(
                f"dead deliveries: {stats.dead}, {age} "
                f"(deleted after {settings.EVENTBUS_DEAD_RETENTION_DAYS} days; replay first)"
            )
        else:
            self.stdout.write("dead deliveries: none")

    def do_tail(self, *, event_type, limit, timeout, interval, **_):
        last = StoredEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
        shown = 0
        started = time.monotonic()
        self.stdout.write("following new events; Ctrl-C to stop")
        try:
            while True:
                qs = StoredEvent.objects.filter(seq__gt=last).order_by("seq")
                if event_type:
                    qs = qs.filter(type=event_type)
                for ev in qs[:200]:
                    last = ev.seq
                    self.stdout.write(
                        f"{ev.occurred_at:%H:%M:%S} {ev.type} v{ev.version} {ev.id} "
                        f"corr={ev.correlation_id} {json.dumps(ev.data, sort_keys=True)}"
                    )
                    self.stdout.flush()
                    shown += 1
                    if limit and shown >= limit:
                        return
                if timeout and time.monotonic() - started > timeout:
                    return
                time.sleep(interval)
        except KeyboardInterrupt:
            return

    def do_cleanup(self, *, days, dead_days, **_):
        n = cleanup(older_than_days=days, dead_days=dead_days)
        self.stdout.write(f"deleted {n} finished events")

    def do_consumers(self, **_):
        for c in all_consumers():
            types = ",".join(c.event_types)
            self.stdout.write(f"{types:<24} {c.queue:<13} max {c.max_attempts}  {c.name}")


def _n(value):
    return "-" if value is None else value


def _to_json(stats) -> str:
    from dataclasses import asdict

    return json.dumps(asdict(stats), indent=2, default=str)
