"""Prometheus metrics for the event bus, read from the database and broker at scrape time.

A custom collector, not counters kept in memory: the numbers live in the delivery rows,
so every web and worker process agrees on them, whichever one answers the scrape, and
nothing is lost when a process restarts. (Counters read from rows go down when the
cleanup deletes old events; Prometheus treats that as a counter reset.)
"""

from __future__ import annotations

from django.db.models import Count, Min, Q, Sum
from django.utils import timezone
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)

from .models import Delivery, StoredEvent

# Delivery latency (publish to done) buckets, in seconds.
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800)


class EventBusCollector:
    """Yields the bus's metrics from a handful of aggregate queries."""

    def describe(self):
        return []  # computed at scrape time; nothing to describe up front

    def collect(self):
        published = CounterMetricFamily(
            "bookshare_events_published",
            "Events published (stored), by type",
            labels=["type"],
        )
        for type_, n in (
            StoredEvent.objects.values_list("type").annotate(n=Count("seq")).order_by("type")
        ):
            published.add_metric([type_], n)
        yield published

        done = CounterMetricFamily(
            "bookshare_deliveries_done", "Deliveries done", labels=["type", "consumer"]
        )
        failed = CounterMetricFamily(
            "bookshare_deliveries_failed",
            "Deliveries that failed at least once",
            labels=["type", "consumer"],
        )
        dead = GaugeMetricFamily(
            "bookshare_deliveries_dead",
            "Deliveries dead now (out of attempts; replay to retry)",
            labels=["type", "consumer"],
        )
        pending = GaugeMetricFamily(
            "bookshare_deliveries_unfinished",
            "Deliveries not finished yet (pending, queued, running, retrying)",
            labels=["type", "consumer"],
        )
        oldest = GaugeMetricFamily(
            "bookshare_delivery_oldest_pending_seconds",
            "Age of the oldest unfinished delivery",
            labels=["type", "consumer"],
        )
        unfinished = Q(status__in=Delivery.UNFINISHED)
        now = timezone.now()
        rows = (
            Delivery.objects.values_list("event__type", "consumer")
            .annotate(
                done=Count("id", filter=Q(status=Delivery.Status.DONE)),
                failed=Count("id", filter=Q(attempts__gt=1) | Q(status=Delivery.Status.DEAD)),
                dead=Count("id", filter=Q(status=Delivery.Status.DEAD)),
                pending=Count("id", filter=unfinished),
                oldest=Min("created_at", filter=unfinished),
            )
            .order_by("event__type", "consumer")
        )
        overall_oldest = None
        for type_, consumer, n_done, n_failed, n_dead, n_pending, first in rows:
            labels = [type_, consumer]
            done.add_metric(labels, n_done)
            failed.add_metric(labels, n_failed)
            dead.add_metric(labels, n_dead)
            pending.add_metric(labels, n_pending)
            age = (now - first).total_seconds() if first else 0.0
            oldest.add_metric(labels, age)
            overall_oldest = max(overall_oldest or 0.0, age)
        yield from (done, failed, dead, pending, oldest)
        any_oldest = GaugeMetricFamily(
            "bookshare_oldest_pending_seconds", "Age of the oldest unfinished delivery (any)"
        )
        any_oldest.add_metric([], overall_oldest or 0.0)
        yield any_oldest

        yield self._latency()
        yield self._queues()

    def _latency(self) -> HistogramMetricFamily:
        """Publish-to-done latency per consumer: cumulative bucket counts in one query."""
        aggregates = {
            f"le_{i}": Count("id", filter=Q(latency_ms__lte=int(bound * 1000)))
            for i, bound in enumerate(LATENCY_BUCKETS)
        }
        histogram = HistogramMetricFamily(
            "bookshare_delivery_latency_seconds",
            "From an event's publish to its delivery done",
            labels=["consumer"],
        )
        rows = (
            Delivery.objects.filter(status=Delivery.Status.DONE, latency_ms__isnull=False)
            .values("consumer")
            .annotate(n=Count("id"), total=Sum("latency_ms"), **aggregates)
            .order_by("consumer")
        )
        for row in rows:
            buckets = [(str(bound), row[f"le_{i}"]) for i, bound in enumerate(LATENCY_BUCKETS)]
            buckets.append(("+Inf", row["n"]))
            histogram.add_metric([row["consumer"]], buckets, sum_value=(row["total"] or 0) / 1000)
        return histogram

    def _queues(self) -> GaugeMetricFamily:
        from .stats import queue_depths

        depth = GaugeMetricFamily(
            "bookshare_queue_depth", "Messages waiting in a broker queue", labels=["queue"]
        )
        for queue, n in queue_depths().items():
            if n is not None:  # broker unreachable: no sample rather than a wrong one
                depth.add_metric([queue], n)
        return depth


def render() -> bytes:
    """The text exposition of the bus's metrics (one fresh registry per scrape)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(EventBusCollector())
    return generate_latest(registry)
