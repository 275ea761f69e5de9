"""Numbers for operators: per event type and consumer, and the broker's queues."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Min, Q
from django.utils import timezone

from .models import Delivery, StoredEvent
from .registry import queue_names

LATENCY_SAMPLE = 5000


@dataclass
class ConsumerStats:
    event_type: str
    consumer: str
    published: int = 0
    delivered: int = 0
    failed: int = 0  # deliveries that failed at least once
    dead: int = 0
    pending: int = 0
    delivered_last_hour: int = 0
    p50_ms: int | None = None
    p95_ms: int | None = None
    oldest_pending_s: float | None = None


@dataclass
class Stats:
    rows: list[ConsumerStats]
    published_by_type: dict[str, int]
    published_last_hour: dict[str, int]
    queue_depths: dict[str, int | None] = field(default_factory=dict)
    oldest_unsent_s: float | None = None
    dead: int = 0  # dead deliveries kept (until EVENTBUS_DEAD_RETENTION_DAYS)
    oldest_dead_s: float | None = None  # how long ago the oldest of them died


def percentile(sorted_values: list[int], q: float) -> int | None:
    if not sorted_values:
        return None
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]


def collect(*, with_queues: bool = True) -> Stats:
    now = timezone.now()
    hour_ago = now - timedelta(hours=1)
    published = dict(StoredEvent.objects.values_list("type").annotate(n=Count("seq")).order_by())
    published_hour = dict(
        StoredEvent.objects.filter(occurred_at__gte=hour_ago)
        .values_list("type")
        .annotate(n=Count("seq"))
        .order_by()
    )
    unfinished = Q(status__in=Delivery.UNFINISHED)
    grouped = (
        Delivery.objects.values("event__type", "consumer")
        .annotate(
            published=Count("id"),
            delivered=Count("id", filter=Q(status=Delivery.Status.DONE)),
            failed=Count("id", filter=Q(attempts__gt=1) | Q(status=Delivery.Status.DEAD)),
            dead=Count("id", filter=Q(status=Delivery.Status.DEAD)),
            pending=Count("id", filter=unfinished),
            delivered_last_hour=Count(
                "id", filter=Q(status=Delivery.Status.DONE, finished_at__gte=hour_ago)
            ),
            oldest_pending=Min("created_at", filter=unfinished),
        )
        .order_by("event__type", "consumer")
    )
    rows = []
    for g in grouped:
        latencies = sorted(
            Delivery.objects.filter(
                consumer=g["consumer"], status=Delivery.Status.DONE, latency_ms__isnull=False
            )
            .order_by("-finished_at")
            .values_list("latency_ms", flat=True)[:LATENCY_SAMPLE]
        )
        oldest = g["oldest_pending"]
        rows.append(
            ConsumerStats(
                event_type=g["event__type"],
                consumer=g["consumer"],
                published=g["published"],
                delivered=g["delivered"],
                failed=g["failed"],
                dead=g["dead"],
                pending=g["pending"],
                delivered_last_hour=g["delivered_last_hour"],
                p50_ms=percentile(latencies, 0.50),
                p95_ms=percentile(latencies, 0.95),
                oldest_pending_s=(now - oldest).total_seconds() if oldest else None,
            )
        )
    oldest_unsent = Delivery.objects.filter(status=Delivery.Status.PENDING).aggregate(
        m=Min("created_at")
    )["m"]
    dead = Delivery.objects.filter(status=Delivery.Status.DEAD).aggregate(
        n=Count("id"), first=Min("finished_at")
    )
    return Stats(
        dead=dead["n"],
        oldest_dead_s=(now - dead["first"]).total_seconds() if dead["first"] else None,
        rows=rows,
        published_by_type=published,
        published_last_hour=published_hour,
        queue_depths=queue_depths() if with_queues else {},
        oldest_unsent_s=(now - oldest_unsent).total_seconds() if oldest_unsent else None,
    )


def queue_depths() -> dict[str, int | None]:
    """Messages waiting in each queue (None where the broker cannot say or is down).

    Ready messages only: ones a worker holds unacknowledged (prefetched, running) are
    not counted, on any broker.
    """
    from bookshare.celery import app

    depths: dict[str, int | None] = {}
    if str(app.conf.broker_url or "").startswith("filesystem"):
        from pathlib import Path

        folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"])
        counts = dict.fromkeys(queue_names(), 0)
        if folder.is_dir():
            for path in folder.glob("*.msg"):
                # File names are "<time>_<uuid>.<queue>.msg".
                queue = path.name.rsplit(".", 2)[-2] if path.name.count(".") >= 2 else ""
                if queue in counts:
                    counts[queue] += 1
        return counts
    try:
        with app.connection_for_read() as conn:
            conn.ensure_connection(max_retries=1, timeout=settings.EVENTBUS_BROKER_TIMEOUT)
            for queue in queue_names():
                # A channel per queue: on AMQP, asking about a queue that does not exist
                # (yet) closes the channel it was asked on.
                channel = conn.channel()
                try:
                    depths[queue] = channel.queue_declare(queue=queue, passive=True).message_count
                except Exception:
                    depths[queue] = 0  # never declared: nothing waiting
                finally:
                    with contextlib.suppress(Exception):  # closed by the broker already
                        channel.close()
    except Exception:
        depths = dict.fromkeys(queue_names())
    return depths


# -- the last hour, for the staff page's charts ------------------------------------------
CHART_BUCKETS = 12  # five-minute columns over the last hour
CHART_SAMPLE = 20000  # newest finished deliveries read for the latency chart


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: float
    label: str  # e.g. "20:05–20:10: 12"


@dataclass
class Chart:
    title: str
    unit: str
    bars: list[Bar]
    maximum: float
    width: int = 240
    height: int = 80

    @property
    def total(self) -> float:
        return sum(b.value for b in self.bars)


def _chart(title: str, unit: str, values: list[float], starts: list) -> Chart:
    width, height, gap = 240, 80, 2
    top = max(values) if values and max(values) > 0 else 1
    step = width / len(values)
    bars = []
    for i, (value, start) in enumerate(zip(values, starts, strict=True)):
        h = round(height * value / top, 1) if value else 0
        end = start + timedelta(minutes=60 // CHART_BUCKETS)
        shown = f"{value:g}" if isinstance(value, float) else str(value)
        bars.append(
            Bar(
                x=round(i * step + gap / 2, 1),
                y=round(height - h, 1),
                width=round(step - gap, 1),
                height=h,
                value=value,
                label=f"{start:%H:%M}–{end:%H:%M}: {shown} {unit}",
            )
        )
    return Chart(title=title, unit=unit, bars=bars, maximum=max(values) if values else 0)


def last_hour_charts(now=None) -> list[Chart]:
    """Published events, deliveries done, failures and p95 latency per five minutes."""
    now = now or timezone.now()
    span = timedelta(minutes=60 // CHART_BUCKETS)
    start = now - span * CHART_BUCKETS
    starts = [start + span * i for i in range(CHART_BUCKETS)]

    def column(moment) -> int:
        return min(CHART_BUCKETS - 1, max(0, int((moment - start) / span)))

    published = [0] * CHART_BUCKETS
    for occurred in StoredEvent.objects.filter(occurred_at__gte=start).values_list(
        "occurred_at", flat=True
    )[:CHART_SAMPLE]:
        published[column(occurred)] += 1
    done = [0] * CHART_BUCKETS
    dead = [0] * CHART_BUCKETS
    latencies: list[list[int]] = [[] for _ in range(CHART_BUCKETS)]
    finished = (
        Delivery.objects.filter(finished_at__gte=start)
        .order_by("-finished_at")
        .values_list("finished_at", "status", "latency_ms")[:CHART_SAMPLE]
    )
    for finished_at, status, latency in finished:
        i = column(finished_at)
        if status == Delivery.Status.DEAD:
            dead[i] += 1
        else:
            done[i] += 1
            if latency is not None:
                latencies[i].append(latency)
    p95 = [percentile(sorted(v), 0.95) or 0 for v in latencies]
    return [
        _chart("Events published", "events", published, starts),
        _chart("Deliveries done", "deliveries", done, starts),
        _chart("Deliveries dead", "deliveries", dead, starts),
        _chart("Latency p95", "ms", p95, starts),
    ]
