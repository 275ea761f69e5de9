"""The correlation and causation ids of the work in progress, for events and logs.

A web request gets a correlation id from the middleware; a delivery task takes the
correlation id of the event it handles and makes that event the cause of whatever it
publishes. Logging records carry the current correlation id.
"""

from __future__ import annotations

import contextlib
import logging
import re
import uuid
from collections.abc import Iterator
from contextvars import ContextVar

correlation_id_var: ContextVar[str | None] = ContextVar("correlation_id", default=None)
causation_id_var: ContextVar[str | None] = ContextVar("causation_id", default=None)

_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")


def new_id() -> str:
    return str(uuid.uuid4())


def clean_incoming_id(value: str | None) -> str | None:
    """Accept a caller's request id only if it is short and plain (it goes into logs)."""
    if value and _SAFE_ID.match(value):
        return value
    return None


def current_correlation_id() -> str | None:
    return correlation_id_var.get()


def current_causation_id() -> str | None:
    return causation_id_var.get()


@contextlib.contextmanager
def bound(*, correlation_id: str | None, causation_id: str | None = None) -> Iterator[None]:
    tokens = (correlation_id_var.set(correlation_id), causation_id_var.set(causation_id))
    try:
        yield
    finally:
        correlation_id_var.reset(tokens[0])
        causation_id_var.reset(tokens[1])


class CorrelationIdLogFilter(logging.Filter):
    """Adds `correlation_id` to every record ("-" outside a request or delivery)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.correlation_id = correlation_id_var.get() or "-"
        return True


class QuietHousekeepingFilter(logging.Filter):
    """Drops the INFO lines Celery writes every few seconds for the relay's beat task.

    Relay rounds that send something still log (from the relay itself), as does any
    failure; only the routine "sending / received / succeeded" chatter goes.
    """

    MARKERS = ("eventbus.relay[", "(eventbus.relay)")

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.INFO:
            return True
        message = record.getMessage()
        return not any(marker in message for marker in self.MARKERS)
