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
    return _from_row(row)


def _from_row(row) -> Delivery:
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

    First the attempt is claimed and counted in a transaction of its own, committed
    before the consumer starts: a consumer that kills its process (or a worker killed
    mid-consumer) has still used an attempt, and once `max_attempts` attempts have been
    claimed without an outcome the delivery is dead.

    Then, for an ordinary consumer, its writes and the delivery's new status commit in
    one transaction, so a repeated message (redelivery, relay, duplicate) finds it done
    and does nothing. A consumer declared with `atomic=False` runs outside any
    transaction (for SMTP or HTTP calls; see `bookshare.eventbus.idempotency`) and the
    outcome is recorded after it returns. If the consumer raises, its transaction rolls
    back and the failure is recorded in another. Returns what happened: "done", "retry",
    "dead", "skipped", "busy" (locked elsewhere), "running" (an attempt's lease runs)
    or "missing".
    """
    return _run_with_busy_retries(delivery_id)[delivery_id]


def run_deliveries(delivery_ids: list[int]) -> dict[int, str]:
    """Run several deliveries sent in one message (one transaction's deliveries of a
    batching consumer): each as `run_delivery` would, the given ones preferred as
    siblings of each other. Returns each one's outcome (and any sibling's)."""
    outcomes: dict[int, str] = {}
    for delivery_id in delivery_ids:
        if delivery_id not in outcomes:
            outcomes.update(_run_with_busy_retries(delivery_id, prefer=delivery_ids))
    return outcomes


def _run_with_busy_retries(delivery_id: int, prefer=()) -> dict[int, str]:
    outcomes = _run_delivery_once(delivery_id, prefer)
    for pause in BUSY_RETRY_PAUSES:
        if outcomes[delivery_id] != "busy":
            break
        time.sleep(pause)
        outcomes = _run_delivery_once(delivery_id, prefer)
    return outcomes


def _lease_for(queue: str, *, atomic: bool) -> timedelta:
    """How long a claimed attempt keeps the relay away.

    An ordinary consumer holds its delivery's row lock while it runs, so a message sent
    again meanwhile finds it busy and is dropped: the lease is enough. A consumer that
    runs outside the transaction holds no lock, so its attempt keeps the relay away
    until the queue's hard time limit, which it cannot outlive.
    """
    limit = 0 if atomic else settings.EVENTBUS_QUEUES.get(queue, {}).get("time_limit") or 0
    return timedelta(seconds=max(settings.EVENTBUS_LEASE_SECONDS, limit))


def _claim_update_sql(which: str) -> str:
    """UPDATE counting an attempt on the deliveries `which` selects (an SQL condition on
    d.id), returning each with its event: the common part of the two claim statements."""
    q = connection.ops.quote_name
    d_table, e_table = q(Delivery._meta.db_table), q(StoredEvent._meta.db_table)
    d_cols = ", ".join(f"d.{q(Delivery._meta.get_field(c).column)}" for c in _D_COLUMNS)
    e_cols = ", ".join(f"e.{q(StoredEvent._meta.get_field(c).column)}" for c in _E_COLUMNS)
    fk = q(Delivery._meta.get_field("event").column)
    return (
        # Identifiers from model metadata, quoted; values are bound parameters.
        f"UPDATE {d_table} d SET attempts = d.attempts + 1, status = %s, "  # noqa: S608
        f"lease_until = %s FROM {e_table} e WHERE d.id {which} "
        f"AND e.seq = d.{fk} RETURNING {d_cols}, {e_cols}"
    )


@functools.cache
def _claim_sql(vendor: str) -> str:
    """PostgreSQL: claim an attempt in one statement (autocommit), returning the row.

    Matches only a delivery that can simply be claimed now: unfinished, not running
    under a live lease, attempts left, not locked by anyone. Anything else (finished,
    running, out of attempts, locked, missing) returns no row and takes the slow path.
    """
    q = connection.ops.quote_name
    return _claim_update_sql(
        f"= (SELECT id FROM {q(Delivery._meta.db_table)} WHERE id = %s "  # noqa: S608
        "AND (status IN (%s, %s, %s) OR (status = %s AND lease_until <= %s)) "
        "AND attempts < max_attempts FOR UPDATE SKIP LOCKED)"
    )


def _claim_in_one_statement(delivery_id: int) -> Delivery | None:
    S = Delivery.Status
    now = timezone.now()
    lease = now + timedelta(seconds=settings.EVENTBUS_LEASE_SECONDS)
    params = [S.RUNNING.value, lease, delivery_id, S.PENDING.value, S.QUEUED.value]
    params += [S.RETRYING.value, S.RUNNING.value, now]
    with connection.cursor() as cursor:
        cursor.execute(_claim_sql(connection.vendor), params)
        row = cursor.fetchone()
    if row is None:
        return None
    delivery = _from_row(row)
    consumer = get_consumer(delivery.consumer)
    if consumer is not None and not consumer.atomic:
        longer = now + _lease_for(delivery.queue, atomic=False)
        if longer > lease:
            Delivery.objects.filter(pk=delivery.pk).update(lease_until=longer)
            delivery.lease_until = longer
    return delivery


def _claim(delivery_id: int, prefer=()) -> tuple[str | None, list[Delivery] | None]:
    """Count an attempt, committed on its own. Returns (outcome, None) when there is
    nothing to run, else (None, the claimed deliveries with their events): the one asked
    for first, then (batching consumers, PostgreSQL) siblings claimed with it."""
    if connection.vendor == "postgresql" and settings.EVENTBUS_SINGLE_STATEMENT_CLAIM:
        one = _claim_in_one_statement(delivery_id)
        if one is not None:
            consumer = get_consumer(one.consumer)
            if consumer is not None and one.event.type in consumer.event_types:
                claimed = [one]
                if (
                    settings.EVENTBUS_BATCHING
                    and consumer.batch_size > 1
                    and one.attempts == 1  # never attempted before: may lead a batch
                ):
                    claimed += _claim_siblings(one, consumer, prefer)
                return None, claimed
            # Unknown consumer: the slow path below marks it dead, with the reason.
        else:
            # Nothing claimable: most often a message for a delivery that is finished
            # (a sibling run in a batch, a duplicate) or running. One plain read in
            # autocommit answers that without a transaction, a lock or a WAL flush.
            outcome = _quick_answer(delivery_id)
            if outcome is not None:
                return outcome, None
    with transaction.atomic():
        delivery = _locked(delivery_id)
        if delivery is None:
            exists = Delivery.objects.filter(pk=delivery_id).exists()
            return ("busy" if exists else "missing"), None
        if delivery.status in (Delivery.Status.DONE, Delivery.Status.DEAD):
            return "skipped", None
        consumer = get_consumer(delivery.consumer)
        if consumer is None or delivery.event.type not in consumer.event_types:
            why = (
                "consumer is not registered here"
                if consumer is None
                else f"consumer no longer takes {delivery.event.type}"
            )
            outcome = _finish(delivery, dead=True, error=why)
            _save(delivery)
            return outcome, None
        now = timezone.now()
        if delivery.status == Delivery.Status.RUNNING and delivery.lease_until > now:
            # An attempt was claimed and its lease still runs: it is running elsewhere
            # (a duplicate message), or its process died and the broker put the message
            # back at once. Either way not now: the relay sends it again once the lease
            # is over, so a consumer that kills its process is retried a lease later.
            return "running", None
        if delivery.attempts >= delivery.max_attempts:
            # Every attempt was claimed and the last one never reported back: the process
            # running it died (killed, crashed, or past the queue's hard time limit).
            previous = f"\nearlier error:\n{delivery.last_error}" if delivery.last_error else ""
            error = (
                f"worker lost during attempt {delivery.attempts} of {delivery.max_attempts} "
                f"(the process died before the consumer finished){previous}"
            )
            log.error("delivery %s dead: %s", delivery.pk, error.splitlines()[0])
            outcome = _finish(delivery, dead=True, error=error[-4000:])
            _save(delivery)
            return outcome, None
        delivery.attempts += 1
        delivery.status = Delivery.Status.RUNNING
        delivery.lease_until = now + _lease_for(delivery.queue, atomic=consumer.atomic)
        _save(delivery)
    return None, [delivery]


@functools.cache
def _peek_sql(vendor: str) -> str:
    q = connection.ops.quote_name
    return (
        f"SELECT status, lease_until FROM {q(Delivery._meta.db_table)} "  # noqa: S608
        "WHERE id = %s"
    )


def _quick_answer(delivery_id: int) -> str | None:
    """ "missing", "skipped" (finished) or "running" (under a live lease) from one
    unlocked read; None when the locking slow path has to decide."""
    with connection.cursor() as cursor:
        cursor.execute(_peek_sql(connection.vendor), [delivery_id])
        row = cursor.fetchone()
    if row is None:
        return "missing"
    return _answer(*row)


def _answer(status: str, lease_until) -> str | None:
    if status in (Delivery.Status.DONE, Delivery.Status.DEAD):
        return "skipped"
    if status == Delivery.Status.RUNNING and _aware(lease_until) > timezone.now():
        return "running"
    return None


@functools.cache
def _siblings_sql(vendor: str) -> str:
    """PostgreSQL: claim up to N waiting siblings of a claimed delivery, in one
    autocommit statement that counts each one's attempt.

    Siblings are deliveries of the same consumer never attempted (attempts = 0: one
    that failed or whose worker died runs alone, so a poison delivery cannot take others
    down with it), waiting (queued or pending), of an event type the consumer takes;
    those sent in the same message first, then the oldest; rows locked by anyone are
    skipped. Only a batching consumer's fresh claim asks, so every other delivery pays
    for the short single-row claim alone.
    """
    q = connection.ops.quote_name
    d_table, e_table = q(Delivery._meta.db_table), q(StoredEvent._meta.db_table)
    fk = q(Delivery._meta.get_field("event").column)
    return _claim_update_sql(
        f"IN (SELECT sd.id FROM {d_table} sd JOIN {e_table} se "  # noqa: S608
        f"ON se.seq = sd.{fk} WHERE sd.consumer = %s AND sd.status IN (%s, %s) "
        "AND sd.attempts = 0 AND sd.id <> %s AND se.type = ANY(%s::text[]) "
        "ORDER BY sd.id = ANY(%s::bigint[]) DESC, sd.id LIMIT %s FOR UPDATE OF sd SKIP LOCKED)"
    )


def _claim_siblings(first: Delivery, consumer, prefer=()) -> list[Delivery]:
    """Claim up to batch_size - 1 waiting siblings of `first` (already claimed)."""
    S = Delivery.Status
    lease = first.lease_until
    params = [S.RUNNING.value, lease, first.consumer, S.QUEUED.value, S.PENDING.value]
    params += [first.pk, list(consumer.event_types), list(prefer), consumer.batch_size - 1]
    with connection.cursor() as cursor:
        cursor.execute(_siblings_sql(connection.vendor), params)
        rows = cursor.fetchall()
    return sorted((_from_row(row) for row in rows), key=lambda d: d.pk)


def _still_ours(delivery_id: int, attempt: int) -> str | None:
    """Lock the claimed delivery for recording its outcome. None if it is still this
    attempt's, else why not ("busy": locked elsewhere, "skipped": finished or taken
    over by a later attempt)."""
    # Locked for a moment by a relay or replay updating it: look again before giving up
    # (this attempt is claimed; dropping it would leave the delivery to the relay).
    for pause in (0, *BUSY_RETRY_PAUSES):
        time.sleep(pause)
        with connection.cursor() as cursor:
            cursor.execute(_relock_sql(connection.vendor), [delivery_id])
            row = cursor.fetchone()
        if row is not None:
            break
    else:
        return "busy"
    status, attempts = row
    if status in (Delivery.Status.DONE, Delivery.Status.DEAD) or attempts != attempt:
        return "skipped"
    return None


@functools.cache
def _relock_sql(vendor: str) -> str:
    q = connection.ops.quote_name
    sql = (
        f"SELECT {q('status')}, {q('attempts')} FROM "  # noqa: S608 - model metadata
        f"{q(Delivery._meta.db_table)} WHERE {q('id')} = %s"
    )
    if connection.features.has_select_for_update_skip_locked:
        sql += " FOR UPDATE SKIP LOCKED"
    return sql


class _NotOurs(Exception):
    def __init__(self, outcome: str):
        self.outcome = outcome


def _run_delivery_once(delivery_id: int, prefer=()) -> dict[int, str]:
    outcome, claimed = _claim(delivery_id, prefer)
    if claimed is None:
        return {delivery_id: outcome}
    if len(claimed) > 1:
        return _run_batch(claimed)
    return {delivery_id: _run_claimed(claimed[0])}


def _prepared(consumer, delivery: Delivery):
    """The consumer's event object and envelope for a claimed delivery."""
    event = delivery.event
    payload = load_event(
        event.type, event.version, event.data, target=consumer.class_for(event.type)
    )
    envelope = event.envelope()
    envelope["delivery"] = {
        "id": delivery.pk,
        "consumer": delivery.consumer,
        "attempt": delivery.attempts,
        "key": delivery_key(event.id, delivery.consumer),
    }
    return payload, envelope


def _run_claimed(delivery: Delivery) -> str:
    """Run one claimed attempt and record its outcome."""
    delivery_id, attempt = delivery.pk, delivery.attempts
    consumer = get_consumer(delivery.consumer)
    event = delivery.event
    try:
        with bound(correlation_id=event.correlation_id, causation_id=str(event.id)):
            payload, envelope = _prepared(consumer, delivery)
            if consumer.atomic:
                with transaction.atomic():
                    not_ours = _still_ours(delivery_id, attempt)
                    if not_ours:
                        return not_ours
                    consumer.func(payload, envelope)
                    outcome = _finish(delivery, dead=False, error=None)
                    _save(delivery)
                    return outcome
            consumer.func(payload, envelope)
            with transaction.atomic():
                not_ours = _still_ours(delivery_id, attempt)
                if not_ours:
                    return not_ours
                outcome = _finish(delivery, dead=False, error=None)
                _save(delivery)
                return outcome
    except Exception as exc:
        return _record_failure(delivery_id, attempt, exc)


class _BatchFailed(Exception):
    pass


def _run_batch(claimed: list[Delivery]) -> dict[int, str]:
    """Run claimed deliveries of one (atomic) consumer in one transaction.

    Their attempts are already counted. Each gets its own call; all are marked done with
    one UPDATE. If any call raises, the transaction (every member's writes) rolls back
    and each runs again alone, in its own transaction, under the attempt it already
    has, so only the failing one records a failure. Members another process took over
    meanwhile are left out (and then run alone). Returns each one's outcome.
    """
    consumer = get_consumer(claimed[0].consumer)
    by_id = {d.pk: d for d in claimed}
    try:
        with transaction.atomic():
            # In delivery order (the order the events happened), whichever member's
            # message arrived first: batches and other writers then take the rows
            # their consumers touch in the same order, which keeps lock cycles rare.
            ours = sorted(_lock_ours(claimed), key=lambda d: d.pk)
            for delivery in ours:
                event = delivery.event
                with bound(correlation_id=event.correlation_id, causation_id=str(event.id)):
                    payload, envelope = _prepared(consumer, delivery)
                    try:
                        consumer.func(payload, envelope)
                    except Exception as exc:
                        raise _BatchFailed(delivery.pk) from exc
            for delivery in ours:
                _finish(delivery, dead=False, error=None)
            _save_done(ours)
    except Exception as exc:
        log.info(
            "batch of %d %s deliveries rolled back (%s: %s); running them one by one",
            len(claimed),
            consumer.name,
            type(exc.__cause__ or exc).__name__,
            exc.__cause__ or exc,
        )
        return {d.pk: _run_claimed(d) for d in claimed}
    done = {d.pk for d in ours}
    outcomes = {pk: "done" for pk in done}
    for pk, delivery in by_id.items():
        if pk not in done:  # locked or changed meanwhile: alone, as any duplicate would
            outcomes[pk] = _run_claimed(delivery)
    return outcomes


def _lock_ours(claimed: list[Delivery]) -> list[Delivery]:
    """Lock the claimed rows still running under the attempts claimed; return those."""
    q = connection.ops.quote_name
    sql = (
        f"SELECT id, status, attempts FROM {q(Delivery._meta.db_table)} "  # noqa: S608
        "WHERE id = ANY(%s) FOR UPDATE SKIP LOCKED"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [[d.pk for d in claimed]])
        current = {pk: (status, attempts) for pk, status, attempts in cursor.fetchall()}
    return [d for d in claimed if current.get(d.pk) == (Delivery.Status.RUNNING.value, d.attempts)]


def _save_done(deliveries: list[Delivery]) -> None:
    """Mark finished deliveries done in one UPDATE (PostgreSQL)."""
    if not deliveries:
        return
    q = connection.ops.quote_name
    values = ", ".join(["(%s::bigint, %s::integer)"] * len(deliveries))
    sql = (
        f"UPDATE {q(Delivery._meta.db_table)} d SET status = %s, finished_at = %s, "  # noqa: S608
        f"latency_ms = v.latency FROM (VALUES {values}) AS v(id, latency) WHERE d.id = v.id"
    )
    params: list = [Delivery.Status.DONE.value, deliveries[0].finished_at]
    for d in deliveries:
        params += [d.pk, d.latency_ms]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def delivery_key(event_id, consumer_name: str) -> str:
    """The idempotency key of one consumer's delivery of one event: the same for every
    attempt, relay and replay of it, different for every other delivery."""
    return f"{event_id}:{consumer_name}"


def _record_failure(delivery_id: int, attempt: int, exc: Exception) -> str:
    error = "".join(traceback.format_exception(exc))[-4000:]
    with transaction.atomic():
        delivery = _locked(delivery_id)
        if (
            delivery is None
            or delivery.status in (Delivery.Status.DONE, Delivery.Status.DEAD)
            or delivery.attempts != attempt
        ):
            return "busy"  # a duplicate message got to it meanwhile
        with bound(correlation_id=delivery.event.correlation_id, causation_id=None):
            return _note_failure(delivery, exc, error)


def _note_failure(delivery: Delivery, exc: Exception, error: str) -> str:
    """Record a failed attempt (already counted when it was claimed)."""
    retry_in: float | None = None
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
