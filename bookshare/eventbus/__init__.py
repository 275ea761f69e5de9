"""The event backbone: durable domain events fanned out to Celery consumers.

Public API::

    from bookshare.eventbus import Event, event, publish, consumer, upcaster
    from bookshare.eventbus import AtomicSaveMixin, TransactionRequired
"""

from .atomic import AtomicSaveMixin, TransactionRequired
from .registry import consumer
from .schema import Event, EventSchemaError, event, upcaster


def publish(event_obj, **kwargs):
    from .publisher import publish as _publish

    return _publish(event_obj, **kwargs)


__all__ = [
    "AtomicSaveMixin",
    "Event",
    "EventSchemaError",
    "TransactionRequired",
    "consumer",
    "event",
    "publish",
    "upcaster",
]
