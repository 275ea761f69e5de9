"""Running one delivery: claim it, run its consumer, record the outcome atomically."""

from __future__ import annotations

import logging
import random
import time
import traceback
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from .context import bound
from .models import Delivery
from .registry import get_consumer
from .schema import load_event

log = logging.getLogger(__name__)


def backoff_seconds(attempt: int) -> float:
    """Exponential backoff with jitter, capped below the broker's visibility timeout."""
    cap = settings.EVENTBUS_BACKOFF_MAX
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout")
    if visibility:
        cap = min(cap, visibility * 0.9)
    ceiling = min(cap, settings.EVENTBUS_BACKOFF_BASE * (2 ** max(attempt - 1, 0)))
    return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not security


def _locked(delivery_id: int) -> Delivery | None:
    """The delivery row, locked for this transaction; None if another worker holds it."""
    qs = Delivery.objects.select_related("event")
    if connection.features.has_select_for_update_skip_locked:
        qs = qs.select_for_update(skip_locked=True, of=("self",))
    return qs.filter(pk=delivery_id).first()


# A delivery row can be locked for a moment by something other than a worker running it
# (a relay or replay updating it in the same instant). Before answering "busy" (and
# dropping the message, leaving the delivery to the relay a lease later), look again
# after these pauses: about 0.75 s in all. A real duplicate of a running delivery costs
# that much worker time; a lost delivery would cost a whole lease.
BUSY_RETRY_PAUSES = (0.05, 0.1, 0.2, 0.4)

_SAVED = ("status", "attempts", "last_error", "finished_at", "latency_ms", "lease_until")


def _save(delivery: Delivery) -> None:
    # A plain UPDATE: no model signals, no save() machinery on the hot path.
    Delivery.objects.filter(pk=delivery.pk).update(**{f: getattr(delivery, f) for f in _SAVED})


def run_delivery(delivery_id: int) -> str:
    """Run a delivery's consumer once, unless it is finished or running elsewhere.

    The consumer's writes and the delivery's new status commit in one transaction, so
    a repeated message (redelivery, relay, duplicate) finds it done and does nothing.
    If the consumer raises, that transaction rolls back (its writes with it) and the
    failure is recorded in a second one. Returns what happened: "done", "retry",
    "dead", "skipped", "busy" or "missing".
    """
    outcome = _run_delivery_once(delivery_id)
    for pause in BUSY_RETRY_PAUSES:
        if outcome != "busy":
            break
        time.sleep(pause)
        outcome = _run_delivery_once(delivery_id)
    return outcome


def _run_delivery_once(delivery_id: int) -> str:
    try:
        with transaction.atomic():
            delivery = _locked(delivery_id)
            if delivery is None:
                exists = Delivery.objects.filter(pk=delivery_id).exists()
                return "busy" if exists else "missing"
            if delivery.status in (Delivery.Status.DONE, Delivery.Status.DEAD):
                return "skipped"
            delivery.attempts += 1
            consumer = get_consumer(delivery.consumer)
            if consumer is None:
                outcome = _finish(delivery, dead=True, error="consumer is not registered here")
                _save(delivery)
                return outcome
            event = delivery.event
            with bound(correlation_id=event.correlation_id, causation_id=str(event.id)):
                payload = load_event(
                    event.type, event.version, event.data, target=consumer.event_class
                )
                envelope = event.envelope()
                envelope["delivery"] = {
                    "id": delivery.pk,
                    "consumer": delivery.consumer,
                    "attempt": delivery.attempts,
                }
                consumer.func(payload, envelope)
            outcome = _finish(delivery, dead=False, error=None)
            _save(delivery)
            return outcome
    except Exception as exc:
        return _record_failure(delivery_id, exc)


def _record_failure(delivery_id: int, exc: Exception) -> str:
    error = "".join(traceback.format_exception(exc))[-4000:]
    with transaction.atomic():
        delivery = _locked(delivery_id)
        if delivery is None or delivery.status in (Delivery.Status.DONE, Delivery.Status.DEAD):
            return "busy"  # a duplicate message got to it meanwhile
        with bound(correlation_id=delivery.event.correlation_id, causation_id=None):
            return _note_failure(delivery, exc, error)


def _note_failure(delivery: Delivery, exc: Exception, error: str) -> str:
    retry_in: float | None = None
    delivery.attempts += 1
    if delivery.attempts >= delivery.max_attempts:
        outcome = _finish(delivery, dead=True, error=error)
        log.error("delivery %s dead after %d attempts: %s", delivery.pk, delivery.attempts, exc)
    else:
        retry_in = backoff_seconds(delivery.attempts)
        delivery.status = Delivery.Status.RETRYING
        delivery.last_error = error
        delivery.lease_until = timezone.now() + timedelta(
            seconds=retry_in + settings.EVENTBUS_LEASE_SECONDS
        )
        outcome = "retry"
        log.warning(
            "delivery %s failed (attempt %d/%d), retrying in %.1fs: %s",
            delivery.pk,
            delivery.attempts,
            delivery.max_attempts,
            retry_in,
            exc,
        )
    _save(delivery)
    if retry_in is not None:
        item = [(delivery.pk, delivery.queue)]
        transaction.on_commit(lambda: _send_retry(item, retry_in), robust=True)
    return outcome


def _finish(delivery: Delivery, *, dead: bool, error: str | None) -> str:
    now = timezone.now()
    delivery.finished_at = now
    if error is not None:
        delivery.last_error = error
    if dead:
        delivery.status = Delivery.Status.DEAD
        return "dead"
    delivery.status = Delivery.Status.DONE
    delivery.latency_ms = max(0, int((now - delivery.event.occurred_at).total_seconds() * 1000))
    return "done"


def _send_retry(item, countdown: float) -> None:
    from .publisher import send_to_broker

    if not send_to_broker(item, countdown=countdown):
        log.warning("retry of delivery %s not sent; the relay will send it", item[0][0])
