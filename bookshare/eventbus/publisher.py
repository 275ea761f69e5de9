"""`publish(event)`: store the event and its deliveries now, send them after commit."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .context import current_causation_id, current_correlation_id, new_id
from .models import Delivery, StoredEvent
from .registry import consumers_for
from .schema import Event, EventSchemaError

log = logging.getLogger(__name__)


def publish(event: Event, *, occurred_at=None) -> StoredEvent:
    """Record `event` and one delivery per subscribed consumer in the current transaction.

    After the transaction commits, each delivery is sent to its consumer's queue. If the
    broker is down or slow, the request goes on after about EVENTBUS_BROKER_TIMEOUT and
    the relay sends the deliveries later. On rollback nothing is stored or sent.
    """
    if not isinstance(event, Event):
        raise EventSchemaError(f"publish() takes an Event, not {type(event).__name__}")
    # The payload was type-checked when the (frozen) event was constructed.
    now = timezone.now()
    lease = now + timedelta(seconds=settings.EVENTBUS_LEASE_SECONDS)
    with transaction.atomic():
        stored = StoredEvent.objects.create(
            id=new_id(),
            type=event.event_type,
            version=event.version,
            source=event.source,
            occurred_at=occurred_at or now,
            data=event.to_data(),
            correlation_id=current_correlation_id() or new_id(),
            causation_id=current_causation_id() or "",
        )
        # Rows start as "queued": the send after commit almost always succeeds, and
        # marking them here saves a write per event. A failed send turns them back to
        # "pending"; a process that dies between commit and send leaves them to the
        # relay once their lease runs out.
        deliveries = Delivery.objects.bulk_create(
            [
                Delivery(
                    event=stored,
                    consumer=c.name,
                    queue=c.queue,
                    max_attempts=c.max_attempts,
                    status=Delivery.Status.QUEUED,
                    created_at=now,
                    lease_until=lease,
                )
                for c in consumers_for(event.event_type)
            ]
        )
        if deliveries:
            items = [(d.pk, d.queue) for d in deliveries]
            transaction.on_commit(lambda: dispatch(items), robust=True)
    return stored


# -- sending to the broker -------------------------------------------------------------
_broker_down_until = 0.0
_broker_lock = threading.Lock()


def broker_cooling_down() -> bool:
    return time.monotonic() < _broker_down_until


def _note_broker_down() -> None:
    global _broker_down_until
    with _broker_lock:
        _broker_down_until = time.monotonic() + settings.EVENTBUS_BROKER_COOLDOWN


def reset_broker_cooldown() -> None:
    global _broker_down_until
    with _broker_lock:
        _broker_down_until = 0.0


def send_to_broker(items: Iterable[tuple[int, str]], *, countdown: float | None = None) -> list:
    """Send delivery ids to their queues over one connection; return the ids sent.

    Never raises for broker trouble: what was not sent stays for the relay. After a
    failure the broker is skipped for EVENTBUS_BROKER_COOLDOWN seconds, so a dead broker
    costs a request at most one timeout.
    """
    from .tasks import deliver

    items = list(items)
    if not items or broker_cooling_down():
        return []
    sent: list[int] = []
    app = deliver.app
    try:
        with app.producer_pool.acquire(
            block=True, timeout=settings.EVENTBUS_BROKER_TIMEOUT
        ) as producer:
            producer.connection.ensure_connection(
                max_retries=0, timeout=settings.EVENTBUS_BROKER_TIMEOUT
            )
            for delivery_id, queue in items:
                deliver.apply_async(
                    (delivery_id,),
                    queue=queue,
                    countdown=countdown,
                    producer=producer,
                    retry=False,
                )
                sent.append(delivery_id)
    except Exception as exc:
        _note_broker_down()
        log.warning(
            "broker unavailable (%s: %s); %d of %d deliveries left for the relay",
            type(exc).__name__,
            exc,
            len(items) - len(sent),
            len(items),
        )
    return sent


def dispatch(items: list[tuple[int, str]]) -> list[int]:
    """Send fresh (or replayed) deliveries; what could not be sent goes to the relay."""
    sent = send_to_broker(items)
    if len(sent) < len(items):
        unsent = [pk for pk, _ in items if pk not in set(sent)]
        # Mark them unsent, due at once: the next relay round picks them up.
        Delivery.objects.filter(pk__in=unsent, status=Delivery.Status.QUEUED).update(
            status=Delivery.Status.PENDING, lease_until=timezone.now()
        )
    return sent
