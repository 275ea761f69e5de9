"""`publish(event)`: store the event and its deliveries now, send them after commit."""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from .atomic import TransactionRequired
from .context import current_causation_id, current_correlation_id, new_id
from .models import Delivery, StoredEvent
from .registry import consumers_for
from .schema import Event, EventSchemaError

log = logging.getLogger(__name__)


def publish(event: Event, *, occurred_at=None) -> StoredEvent:
    """Record `event` and one delivery per subscribed consumer in the current transaction.

    After the transaction commits, each delivery is sent to its consumer's queue: by
    this process's background sender (EVENTBUS_SEND_IN_BACKGROUND, see sender.py), or by
    the committing thread itself. If the broker is down or slow, the request goes on
    (after about EVENTBUS_BROKER_TIMEOUT when sending itself) and the relay sends the
    deliveries later. On rollback nothing is stored or sent.

    It must run inside the transaction that writes the data the event describes
    (`transaction.atomic()`, a service decorated with it, or a model whose save is
    atomic): outside one, the data would commit before the event is stored, and a
    failing publish would leave data with no event. So it refuses, always.
    """
    if not isinstance(event, Event):
        raise EventSchemaError(f"publish() takes an Event, not {type(event).__name__}")
    if not connection.in_atomic_block:
        raise TransactionRequired(
            f"publish({event.event_type}) outside a transaction: wrap the write and the "
            "publish in transaction.atomic() (services do; models that publish from "
            "signals save atomically with bookshare.eventbus.AtomicSaveMixin)"
        )
    # The payload was type-checked when the (frozen) event was constructed.
    now = timezone.now()
    stored = StoredEvent(
        id=uuid.uuid4(),
        type=event.event_type,
        version=event.version,
        source=event.source,
        occurred_at=occurred_at or now,
        data=event.to_data(),
        correlation_id=current_correlation_id() or new_id(),
        causation_id=current_causation_id() or "",
    )
    consumers = consumers_for(event.event_type)
    # Rows start as "queued": the send after commit almost always succeeds, and marking
    # them here saves a write per event. A failed send turns them back to "pending"; a
    # process that dies between commit and send leaves them to the relay once their
    # lease runs out.
    lease = now + timedelta(seconds=settings.EVENTBUS_LEASE_SECONDS)
    # No savepoint: the event stands or falls with the caller's transaction (and a
    # savepoint would cost two more round trips per event).
    with transaction.atomic(savepoint=False):
        if connection.vendor == "postgresql":
            items = _insert_in_one_statement(stored, consumers, now=now, lease=lease)
        else:
            stored.save(force_insert=True)
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
                    for c in consumers
                ]
            )
            items = [(d.pk, d.queue, d.consumer) for d in deliveries]
        if items:
            _send_after_commit(items)
    return stored


def _send_after_commit(items: list[tuple[int, str, str]]) -> None:
    """Collect the deliveries published in this transaction (and savepoint) and send them
    all from one on_commit callback, so that a transaction publishing many events (a
    bulk import, a fan-out) can send a batching consumer's deliveries as one message.

    The buffer belongs to one registered callback: it is reused only while that callback
    is still pending with the same savepoints (Django replaces its list of callbacks on
    commit, rollback and savepoint rollback; then a new buffer and callback are made).
    """
    conn = transaction.get_connection()
    sids = tuple(conn.savepoint_ids)
    state = getattr(conn, "_eventbus_after_commit", None)
    if state is None or state[0] is not conn.run_on_commit or state[1] != sids:
        buffer: list[tuple[int, str, str]] = []
        transaction.on_commit(lambda: _after_commit(buffer), robust=True)
        state = (conn.run_on_commit, sids, buffer)
        conn._eventbus_after_commit = state
    state[2].extend(items)


def _after_commit(buffer: list[tuple[int, str, str]]) -> None:
    """Send one transaction's deliveries: now, or through this process's background
    sender (EVENTBUS_SEND_IN_BACKGROUND), except those of queues declared `urgent`,
    which this thread still sends itself, first: a sign-up code never waits behind a
    bulk send in progress."""
    if not settings.EVENTBUS_SEND_IN_BACKGROUND:
        _dispatch_grouped(buffer)
        return
    from . import sender
    from .registry import urgent_queues

    urgent = urgent_queues()
    now = [item for item in buffer if item[1] in urgent]
    later = [item for item in buffer if item[1] not in urgent]
    if now:
        _dispatch_grouped(now)
    if later and not sender.submit(later):
        _dispatch_grouped(later)  # no thread can run (interpreter exit): send here


def _dispatch_grouped(buffer: list[tuple[int, str, str]]) -> list[int]:
    """dispatch(), with a batching consumer's deliveries grouped into messages of at most
    its batch_size ids (PostgreSQL; elsewhere, and with EVENTBUS_BATCHING off, one
    message per delivery). The buffer may hold one transaction's deliveries (the
    synchronous send) or many transactions' (the background sender's round)."""
    from .registry import get_consumer

    grouping = settings.EVENTBUS_BATCHING and connection.vendor == "postgresql"
    messages: list[tuple[list[int], str]] = []
    groups: dict[tuple[str, str], list[int]] = {}
    for pk, queue, name in buffer:
        c = get_consumer(name) if grouping else None
        if c is not None and c.batch_size > 1:
            group = groups.setdefault((name, queue), [])
            if len(group) == c.batch_size:
                messages.append((group[:], queue))
                group.clear()
            group.append(pk)
        else:
            messages.append(([pk], queue))
    messages += [(pks, queue) for (_, queue), pks in groups.items() if pks]
    return dispatch([(pk, queue) for pk, queue, _ in buffer], messages=messages)


def _insert_in_one_statement(stored: StoredEvent, consumers, *, now, lease) -> list:
    """PostgreSQL: the event and its deliveries in one round trip (a data-modifying CTE).

    Returns [(delivery id, queue, consumer)]. Sets `stored.seq` and marks it saved.
    """
    q = connection.ops.quote_name
    e_table, d_table = q(StoredEvent._meta.db_table), q(Delivery._meta.db_table)
    e_cols = "id, type, version, source, occurred_at, data, correlation_id, causation_id"
    e_params = [
        stored.id,
        stored.type,
        stored.version,
        stored.source,
        stored.occurred_at,
        json.dumps(stored.data),
        stored.correlation_id,
        stored.causation_id,
    ]
    insert_event = (
        f"INSERT INTO {e_table} ({e_cols}) "  # noqa: S608 - identifiers from model metadata
        "VALUES (%s, %s, %s, %s, %s, %s::jsonb, %s, %s) RETURNING seq"
    )
    if not consumers:
        with connection.cursor() as cursor:
            cursor.execute(insert_event, e_params)
            stored.seq = cursor.fetchone()[0]
    else:
        values = ", ".join(["(%s, %s, %s)"] * len(consumers))
        sql = (
            f"WITH e AS ({insert_event}) "  # noqa: S608 - identifiers from model metadata
            f"INSERT INTO {d_table} (event_id, consumer, queue, max_attempts, status, "
            "attempts, resends, lease_until, last_error, created_at) "
            "SELECT e.seq, v.consumer, v.queue, v.max_attempts, %s, 0, 0, %s, '', %s "
            f"FROM e, (VALUES {values}) AS v(consumer, queue, max_attempts) "
            "RETURNING id, queue, event_id, consumer"
        )
        params = [*e_params, Delivery.Status.QUEUED.value, lease, now]
        for c in consumers:
            params += [c.name, c.queue, c.max_attempts]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        stored.seq = rows[0][2]
    stored._state.adding = False
    stored._state.db = connection.alias
    return [(row[0], row[1], row[3]) for row in rows] if consumers else []


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


def time_limits(queue: str) -> dict:
    """The queue's soft and hard time limits (settings.EVENTBUS_QUEUES), for apply_async.

    Every deliver message carries them (first sends, relay re-sends, retries), so the
    worker enforces them whatever its own defaults. Past the soft limit the consumer
    gets SoftTimeLimitExceeded: an ordinary failure, retried with backoff. Past the hard
    limit the pool process is replaced: a lost attempt, counted like a crash.
    """
    options = settings.EVENTBUS_QUEUES.get(queue) or {}
    return {name: options[name] for name in ("soft_time_limit", "time_limit") if options.get(name)}


def send_to_broker(items: Iterable[tuple[int, str]], *, countdown: float | None = None) -> list:
    """Send delivery ids to their queues over one connection; return the ids sent.

    Never raises for broker trouble: what was not sent stays for the relay. After a
    failure the broker is skipped for EVENTBUS_BROKER_COOLDOWN seconds, so a dead broker
    costs a request at most one timeout.
    """
    return _send_messages([([pk], queue) for pk, queue in items], countdown=countdown)


def _send_messages(messages: list[tuple[list[int], str]], *, countdown=None) -> list[int]:
    """Send messages of one delivery id (eventbus.deliver) or several (deliver_many)."""
    from .tasks import deliver, deliver_many

    total = sum(len(ids) for ids, _ in messages)
    if not messages or broker_cooling_down():
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
            for ids, queue in messages:
                task, args = (deliver, (ids[0],)) if len(ids) == 1 else (deliver_many, (ids,))
                task.apply_async(
                    args,
                    queue=queue,
                    countdown=countdown,
                    producer=producer,
                    retry=False,
                    **time_limits(queue),
                )
                sent.extend(ids)
    except Exception as exc:
        _note_broker_down()
        log.warning(
            "broker unavailable (%s: %s); %d of %d deliveries left for the relay",
            type(exc).__name__,
            exc,
            total - len(sent),
            total,
        )
    return sent


def dispatch(items: list[tuple[int, str]], *, messages=None) -> list[int]:
    """Send fresh (or replayed) deliveries; what could not be sent goes to the relay.

    `messages`: the same deliveries grouped as [(ids, queue)] (see _dispatch_grouped);
    by default one message each."""
    if messages is None or all(len(ids) == 1 for ids, _ in messages):
        sent = send_to_broker(items)
    else:
        sent = _send_messages(messages)
    if len(sent) < len(items):
        sent_ids = set(sent)
        unsent = [pk for pk, _ in items if pk not in sent_ids]
        # Mark them unsent, due at once: the next relay round picks them up.
        Delivery.objects.filter(pk__in=unsent, status=Delivery.Status.QUEUED).update(
            status=Delivery.Status.PENDING, lease_until=timezone.now()
        )
    return sent
