"""The consumer registry: `@consumer(EventClass, queue=...)` in each app's consumers.py.

Apps' `consumers` modules are imported when the event bus app is ready, so the web
process (which creates delivery rows) and the workers (which run them) know the same
consumers. Each consumer gets its own delivery row, queue and retry policy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings

from .schema import Event

# Queues, most urgent first. `email` has its own worker in every deployment.
QUEUES = ("email", "notifications", "search", "suggestions", "prices", "default", "control")


@dataclass(frozen=True)
class Consumer:
    name: str
    event_class: type[Event]
    queue: str
    func: Callable
    max_attempts: int

    @property
    def event_type(self) -> str:
        return self.event_class.event_type


_CONSUMERS: dict[str, Consumer] = {}


def consumer(
    event_class: type[Event],
    *,
    queue: str,
    name: str | None = None,
    max_attempts: int | None = None,
) -> Callable:
    """Subscribe the decorated `func(event, envelope)` to `event_class`.

    The function runs inside the transaction that marks its delivery done, so its
    database writes happen exactly once per delivery. It must not hand work to anything
    outside the database that cannot be repeated, except through its own idempotency key.
    """
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r}; choose one of {QUEUES}")

    def decorate(func: Callable) -> Callable:
        key = name or f"{func.__module__}.{func.__qualname__}"
        existing = _CONSUMERS.get(key)
        if existing is not None and existing.func.__qualname__ != func.__qualname__:
            raise ValueError(f"consumer name {key!r} is taken")
        _CONSUMERS[key] = Consumer(
            name=key,
            event_class=event_class,
            queue=queue,
            func=func,
            max_attempts=max_attempts or settings.EVENTBUS_MAX_ATTEMPTS,
        )
        return func

    return decorate


def consumers_for(event_type: str) -> list[Consumer]:
    return sorted(
        (c for c in _CONSUMERS.values() if c.event_type == event_type), key=lambda c: c.name
    )


def get_consumer(name: str) -> Consumer | None:
    return _CONSUMERS.get(name)


def all_consumers() -> list[Consumer]:
    return sorted(_CONSUMERS.values(), key=lambda c: c.name)
