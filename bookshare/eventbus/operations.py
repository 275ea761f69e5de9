"""Operator-side work on deliveries: relay, replay and cleanup."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from .models import Delivery, ExternalCall, StoredEvent
from .publisher import dispatch, send_to_broker
from .registry import get_consumer

log = logging.getLogger(__name__)


def relay_once(*, limit: int | None = None) -> int:
    """Send again the unfinished deliveries whose lease has run out. Returns how many.

    A lease that ran out means the delivery's message is lost, *or* still waiting in a
    queue longer than a lease (a worker down, a large import). Sending it again in the
    second case would multiply the backlog, round after round. So the relay asks the
    broker how many messages each queue holds, and re-sends a queue's rows only when
    that queue has nothing waiting: then any message not yet done is really lost (the
    broker restarted empty, a worker died holding it). Rows never sent ("pending") are
    always sent. A queue the broker cannot report on (None) is treated as empty.

    Rows are claimed, and marked as sent, inside one transaction before anything goes to
    the broker, so no row is locked after its message is out (a fast worker would find it
    locked and take it for a duplicate). On PostgreSQL the claim uses SELECT ... FOR
    UPDATE SKIP LOCKED, so two relays running at once never send the same delivery in
    the same round. What cannot be sent is put back to "pending", due at once.
    """
    from .stats import queue_depths

    limit = limit or settings.EVENTBUS_RELAY_BATCH
    now = timezone.now()
    waiting = [queue for queue, depth in queue_depths().items() if depth]
    with transaction.atomic():
        qs = Delivery.objects.filter(status__in=Delivery.UNFINISHED, lease_until__lte=now)
        if waiting:
            qs = qs.filter(Q(status=Delivery.Status.PENDING) | ~Q(queue__in=waiting))
        qs = qs.order_by("lease_until")
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True)
        claimed = list(qs.values_list("pk", "queue", "status")[:limit])
        if not claimed:
            return 0
        pks = [pk for pk, _, _ in claimed]
        lease = now + timedelta(seconds=settings.EVENTBUS_LEASE_SECONDS)
        Delivery.objects.filter(pk__in=pks).update(lease_until=lease, resends=F("resends") + 1)
        Delivery.objects.filter(
            pk__in=pks, status__in=(Delivery.Status.PENDING, Delivery.Status.RUNNING)
        ).update(status=Delivery.Status.QUEUED)
    items = [(pk, queue) for pk, queue, _ in claimed]
    sent = set(send_to_broker(items))
    unsent = [pk for pk in pks if pk not in sent]
    if unsent:
        # Broker still down: mark them unsent and due, for the next round.
        Delivery.objects.filter(pk__in=unsent, status__in=Delivery.UNFINISHED).update(
            status=Delivery.Status.PENDING, lease_until=now, resends=F("resends") - 1
        )
    log.info("relay: %d due, %d sent", len(claimed), len(sent))
    return len(sent)


def replay(deliveries: QuerySet[Delivery]) -> int:
    """Run these deliveries again from a fresh attempt count. Returns how many."""
    now = timezone.now()
    with transaction.atomic():
        items = list(deliveries.values_list("pk", "queue"))
        Delivery.objects.filter(pk__in=[pk for pk, _ in items]).update(
            status=Delivery.Status.QUEUED,
            attempts=0,
            finished_at=None,
            latency_ms=None,
            lease_until=now + timedelta(seconds=settings.EVENTBUS_LEASE_SECONDS),
        )
        # Max attempts follow the consumer's current policy, if it changed meanwhile.
        transaction.on_commit(lambda: dispatch(items), robust=True)
    return len(items)


def replay_for_consumer(
    consumer_name: str,
    *,
    event_type: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> int:
    """Re-run one consumer over past events, creating deliveries it never had.

    Useful after a bug fix or for a consumer added after the events were published.
    """
    consumer = get_consumer(consumer_name)
    if consumer is None:
        raise ValueError(f"no consumer named {consumer_name!r}")
    if event_type and event_type not in consumer.event_types:
        raise ValueError(
            f"{consumer_name} consumes {', '.join(consumer.event_types)}, not {event_type}"
        )
    events = StoredEvent.objects.filter(
        type__in=[event_type] if event_type else consumer.event_types
    )
    if since:
        events = events.filter(occurred_at__gte=since)
    if until:
        events = events.filter(occurred_at__lt=until)
    now = timezone.now()
    with transaction.atomic():
        missing = events.exclude(
            Exists(Delivery.objects.filter(event=OuterRef("pk"), consumer=consumer_name))
        )
        Delivery.objects.bulk_create(
            [
                Delivery(
                    event_id=seq,
                    consumer=consumer_name,
                    queue=consumer.queue,
                    max_attempts=consumer.max_attempts,
                    status=Delivery.Status.QUEUED,
                    created_at=now,
                )
                for seq in missing.values_list("seq", flat=True).iterator()
            ],
            batch_size=1000,
        )
        return replay(Delivery.objects.filter(consumer=consumer_name, event__in=events))


def cleanup(
    *, older_than_days: int | None = None, dead_days: int | None = None, batch: int = 1000
) -> int:
    """Delete what is past its retention. Returns how many events were deleted.

    Dead deliveries that died more than EVENTBUS_DEAD_RETENTION_DAYS ago go first (replay
    them before then); then every event older than EVENTBUS_RETENTION_DAYS whose
    remaining deliveries are all done (or that has none left), with its deliveries; and
    completed external-call records as old as that.
    """
    days = settings.EVENTBUS_RETENTION_DAYS if older_than_days is None else older_than_days
    dead_days = settings.EVENTBUS_DEAD_RETENTION_DAYS if dead_days is None else dead_days
    now = timezone.now()
    cutoff = now - timedelta(days=days)
    dead_cutoff = now - timedelta(days=dead_days)
    while True:
        ids = list(
            Delivery.objects.filter(
                status=Delivery.Status.DEAD, finished_at__lt=dead_cutoff
            ).values_list("pk", flat=True)[:batch]
        )
        if not ids:
            break
        Delivery.objects.filter(pk__in=ids, status=Delivery.Status.DEAD).delete()
    ExternalCall.objects.filter(completed_at__lt=cutoff).delete()
    unfinished = Delivery.objects.filter(event=OuterRef("pk")).filter(
        ~Q(status=Delivery.Status.DONE)
    )
    deleted = 0
    while True:
        seqs = list(
            StoredEvent.objects.filter(occurred_at__lt=cutoff)
            .exclude(Exists(unfinished))
            .values_list("seq", flat=True)[:batch]
        )
        if not seqs:
            return deleted
        with transaction.atomic():
            Delivery.objects.filter(event_id__in=seqs).delete()
            StoredEvent.objects.filter(seq__in=seqs).delete()
        deleted += len(seqs)
