"""Running one delivery: claim it, run its consumer, record the outcome atomically."""

from __future__ import annotations

import functools
import json
import logging
import random
import time
import traceback
import uuid
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from .context import bound
from .models import Delivery, StoredEvent
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


# The outcome columns _save() writes.
_SAVED = ("status", "attempts", "last_error", "finished_at", "latency_ms", "lease_until")
# Every column _save() writes is read here, so a save never clobbers one with a default.
_D_COLUMNS = (
    "id",
    "consumer",
    "queue",
    "max_attempts",
    "status",
    "attempts",
    "last_error",
    "finished_at",
    "latency_ms",
    "lease_until",
)
_E_COLUMNS = (
    "seq",
    "id",
    "type",
    "version",
    "source",
    "occurred_at",
    "data",
    "correlation_id",
    "causation_id",
)


# The two statements every delivery runs are written once per database vendor from the
# models' metadata: the ORM's query compilation costs more CPU than the database work.
@functools.cache
def _lock_sql(vendor: str) -> str:
    """SELECT of a delivery and its event, locking the delivery row where supported."""
    q = connection.ops.quote_name
    d_cols = ", ".join(f"d.{q(Delivery._meta.get_field(c).column)}" for c in _D_COLUMNS)
    e_cols = ", ".join(f"e.{q(StoredEvent._meta.get_field(c).column)}" for c in _E_COLUMNS)
    fk = q(Delivery._meta.get_field("event").column)
    sql = (
        # Identifiers from model metadata, quoted; the id is a bound parameter.
        f"SELECT {d_cols}, {e_cols} FROM {q(Delivery._meta.db_table)} d "  # noqa: S608
        f"INNER JOIN {q(StoredEvent._meta.db_table)} e ON e.{q('seq')} = d.{fk} "
        f"WHERE d.{q('id')} = %s"
    )
    if connection.features.has_select_for_update_skip_locked:
        sql += " FOR UPDATE OF d SKIP LOCKED"
    return sql


@functools.cache
def _save_sql(vendor: str) -> str:
    """UPDATE of the outcome columns of one delivery."""
    q = connection.ops.quote_name
    sets = ", ".join(f"{q(Delivery._meta.get_field(f).column)} = %s" for f in _SAVED)
    # Identifiers from model metadata, quoted; values are bound parameters.
    return f"UPDATE {q(Delivery._meta.db_table)} SET {sets} WHERE {q('id')} = %s"  # noqa: S608


def _locked(delivery_id: int) -> Delivery | None:
    """The delivery row with its event, locked for this transaction.

    None if there is no such row or another worker holds its lock (on PostgreSQL).
    """
    with connection.cursor() as cursor:
        cursor.execute(_lock_sql(connection.vendor), [delivery_id])
        row = cursor.fetchone()
    if row is None:
        return None
    d = dict(zip(_D_COLUMNS, row[: len(_D_COLUMNS)], strict=True))
    e = dict(zip(_E_COLUMNS, row[len(_D_COLUMNS) :], strict=True))
    event = StoredEvent(
        seq=e["seq"],
        id=e["id"] if isinstance(e["id"], uuid.UUID) else uuid.UUID(str(e["id"])),
        type=e["type"],
        version=e["version"],
        source=e["source"],
        occurred_at=_aware(e["occurred_at"]),
        data=json.loads(e["data"]) if isinstance(e["data"], str | bytes) else e["data"],
        correlation_id=e["correlation_id"],
        causation_id=e["causation_id"],
    )
    d["finished_at"] = _aware(d["finished_at"])
    d["lease_until"] = _aware(d["lease_until"])
    return Delivery(event=event, **d)


def _aware(value):
    """A datetime as the ORM would give it (SQLite hands back naive UTC, or text)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if timezone.is_naive(value):
        value = timezone.make_aware(value, UTC)
    return value


# A delivery row can be locked for a moment by something other than a worker running it
# (a relay or replay updating it in the same instant). Before answering "busy" (and
# dropping the message, leaving the delivery to the relay a lease later), look again
# after these pauses: about 0.75 s in all. A real duplicate of a running delivery costs
# that much worker time; a lost delivery would cost a whole lease.
BUSY_RETRY_PAUSES = (0.05, 0.1, 0.2, 0.4)


def _save(delivery: Delivery) -> None:
    """A plain UPDATE of the outcome columns (no model signals, no query compilation)."""
    adapt = connection.ops.adapt_datetimefield_value
    values = [
        adapt(v) if isinstance(v, datetime) else v
        for v in (getattr(delivery, name) for name in _SAVED)
    ]
    with connection.cursor() as cursor:
        cursor.execute(_save_sql(connection.vendor), [*values, delivery.pk])


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
            if consumer is None or delivery.event.type not in consumer.event_types:
                why = (
                    "consumer is not registered here"
                    if consumer is None
                    else f"consumer no longer takes {delivery.event.type}"
                )
                outcome = _finish(delivery, dead=True, error=why)
                _save(delivery)
                return outcome
            event = delivery.event
            with bound(correlation_id=event.correlation_id, causation_id=str(event.id)):
                payload = load_event(
                    event.type, event.version, event.data, target=consumer.class_for(event.type)
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
