"""The consumer registry: `@consumer(EventA, EventB, queue=...)` in each app's consumers.py.

Apps' `consumers` modules are imported when the event bus app is ready, so the web
process (which creates delivery rows) and the workers (which run them) know the same
consumers. Each consumer gets its own delivery row per event, queue and retry policy.

Queues and the worker groups that serve them are declared in settings
(`EVENTBUS_QUEUES`, `EVENTBUS_WORKERS`); nothing here hard-codes a queue name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings

from .schema import Event


def queue_names() -> tuple[str, ...]:
    """Every declared queue, most urgent first."""
    return tuple(settings.EVENTBUS_QUEUES)


def queue_options(queue: str) -> dict:
    """A queue's declared options (time limits), or KeyError for an unknown queue."""
    return settings.EVENTBUS_QUEUES[queue]


def urgent_queues() -> frozenset[str]:
    """Queues declared `urgent` (a person is waiting): their deliveries are sent by the
    committing thread even when the rest go through the background sender."""
    return frozenset(q for q, options in settings.EVENTBUS_QUEUES.items() if options.get("urgent"))


def worker_groups() -> dict[str, dict]:
    return settings.EVENTBUS_WORKERS


def worker_queues(group: str) -> list[str]:
    """The queues one worker group serves, as declared."""
    try:
        return list(settings.EVENTBUS_WORKERS[group]["queues"])
    except KeyError:
        known = ", ".join(settings.EVENTBUS_WORKERS)
        raise KeyError(f"unknown worker group {group!r}; declared: {known}") from None


@dataclass(frozen=True)
class Consumer:
    name: str
    event_classes: tuple[type[Event], ...]
    queue: str
    func: Callable
    max_attempts: int
    # False: run outside the delivery's transaction (for SMTP/HTTP; see idempotency.py).
    atomic: bool = True
    # > 1: a worker may run up to this many of its deliveries in one transaction (see
    # delivery.py, "Batches"). 1: one delivery per task.
    batch_size: int = 1

    @property
    def event_types(self) -> tuple[str, ...]:
        return tuple(c.event_type for c in self.event_classes)

    def class_for(self, event_type: str) -> type[Event]:
        """The event class this consumer was written for, for a stored event's type."""
        for cls in self.event_classes:
            if cls.event_type == event_type:
                return cls
        raise KeyError(f"{self.name} does not consume {event_type}")


_CONSUMERS: dict[str, Consumer] = {}
_BY_TYPE: dict[str, list[Consumer]] = {}


def consumer(
    *event_classes: type[Event],
    queue: str,
    name: str | None = None,
    max_attempts: int | None = None,
    atomic: bool = True,
    batch_size: int = 1,
) -> Callable:
    """Subscribe the decorated `func(event, envelope)` to one or more event classes.

    One consumer (one name, one delivery per event) may take several event types, e.g.
    `@consumer(BookPostCreated, BookPostUpdated, BookPostRemoved, queue="search")`; it
    tells them apart by `isinstance` or `envelope["type"]`.

    The function runs inside the transaction that marks its delivery done, so its
    database writes happen exactly once per delivery. It must not hand work to anything
    outside the database that cannot be repeated, except through its own idempotency key.

    `batch_size=N` (opt-in, at most EVENTBUS_MAX_BATCH_SIZE) lets a worker run up to N
    waiting deliveries of this consumer in one transaction: each still gets its own
    call, attempt and outcome, but a failing one makes the others run again one by one,
    so the function must be safe to call again after a rollback (ordinary consumers
    are). Only for atomic consumers.
    """
    if not event_classes:
        raise TypeError("@consumer needs at least one event class")
    for cls in event_classes:
        if not (isinstance(cls, type) and issubclass(cls, Event)):
            raise TypeError(f"@consumer takes Event classes, not {cls!r}")
    types = [c.event_type for c in event_classes]
    if len(set(types)) != len(types):
        raise TypeError(f"@consumer given the same event type twice: {types}")
    if queue not in settings.EVENTBUS_QUEUES:
        raise ValueError(
            f"unknown queue {queue!r}; declare it in settings.EVENTBUS_QUEUES "
            f"(declared: {', '.join(settings.EVENTBUS_QUEUES)})"
        )

    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, not {batch_size!r}")
    if batch_size > settings.EVENTBUS_MAX_BATCH_SIZE:
        raise ValueError(
            f"batch_size {batch_size} is above EVENTBUS_MAX_BATCH_SIZE "
            f"({settings.EVENTBUS_MAX_BATCH_SIZE})"
        )
    if batch_size > 1 and not atomic:
        raise ValueError("batch_size > 1 needs an atomic consumer (atomic=False runs one by one)")

    def decorate(func: Callable) -> Callable:
        key = name or f"{func.__module__}.{func.__qualname__}"
        existing = _CONSUMERS.get(key)
        if existing is not None and existing.func.__qualname__ != func.__qualname__:
            raise ValueError(f"consumer name {key!r} is taken")
        _register(
            Consumer(
                name=key,
                event_classes=tuple(event_classes),
                queue=queue,
                func=func,
                max_attempts=max_attempts or settings.EVENTBUS_MAX_ATTEMPTS,
                atomic=atomic,
                batch_size=batch_size,
            )
        )
        return func

    return decorate


def _register(c: Consumer) -> None:
    _CONSUMERS[c.name] = c
    _BY_TYPE.clear()  # rebuilt on next lookup


def consumers_for(event_type: str) -> list[Consumer]:
    if not _BY_TYPE and _CONSUMERS:
        for c in sorted(_CONSUMERS.values(), key=lambda c: c.name):
            for t in c.event_types:
                _BY_TYPE.setdefault(t, []).append(c)
    return _BY_TYPE.get(event_type, [])


def get_consumer(name: str) -> Consumer | None:
    return _CONSUMERS.get(name)


def all_consumers() -> list[Consumer]:
    return sorted(_CONSUMERS.values(), key=lambda c: c.name)
