"""Effectively-once calls to other servers (SMTP, HTTP) from consumers.

A consumer declared `@consumer(..., atomic=False)` runs outside the delivery's
transaction, so a slow mail server or API holds no database lock. Its envelope carries
`envelope["delivery"]["key"]`: the idempotency key of that delivery, the same for every
attempt, relay and replay of it. The consumer does its database work in short
transactions of its own (idempotent: keyed by the event or the delivery) and makes each
outside call through `call_once`:

    @consumer(OrderPlaced, queue="mail", atomic=False)
    def mail_receipt(event, envelope):
        key = envelope["delivery"]["key"]
        call_once(f"{key}:receipt", send_receipt, event.order_id)

`call_once(key, func, ...)` records the key (its own committed write) before calling
`func`, and marks it completed (with `func`'s JSON-able result) after. A later attempt
with the same key finds it completed and returns the stored result without calling
again. If an attempt died between the call and the record, the next one calls again
with the same key: pass the key on (an `Idempotency-Key` HTTP header, an email's
Message-ID) so the other server can recognise the repeat.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from .atomic import TransactionRequired
from .models import ExternalCall


def in_transaction() -> bool:
    """True inside a real transaction (not counting the one a test case wraps itself in)."""
    return any(not getattr(block, "_from_testcase", False) for block in connection.atomic_blocks)


def begin(key: str) -> ExternalCall:
    """Record that the call `key` is about to be made; committed before returning."""
    if in_transaction():
        raise TransactionRequired(
            f"call_once({key!r}) inside a transaction: the call would hold its locks for "
            "as long as the other server takes; declare the consumer atomic=False and "
            "keep the database work in short transactions of its own"
        )
    with transaction.atomic():
        call, created = ExternalCall.objects.select_for_update().get_or_create(
            key=key, defaults={"tries": 1}
        )
        if not created and not call.completed:
            ExternalCall.objects.filter(pk=call.pk).update(
                tries=F("tries") + 1, started_at=timezone.now()
            )
            call.tries += 1
    return call


def complete(key: str, result: Any = None) -> None:
    """Record that the call `key` was made, with its (JSON-able) result."""
    with transaction.atomic():
        ExternalCall.objects.filter(key=key, completed_at__isnull=True).update(
            completed_at=timezone.now(), result=result
        )


def completed(key: str) -> bool:
    return ExternalCall.objects.filter(key=key, completed_at__isnull=False).exists()


def call_once(key: str, func: Callable[..., Any], *args, **kwargs) -> Any:
    """Call `func(*args, **kwargs)` unless a call with this key has completed before.

    Returns `func`'s result, or the result stored by the earlier call. Raises what
    `func` raises (the key stays begun, not completed, so a retry calls again).
    """
    call = begin(key)
    if call.completed:
        return call.result
    result = func(*args, **kwargs)
    complete(key, result)
    return result
