"""Durable record of every published event and of each consumer's delivery of it."""

import uuid

from django.db import models
from django.utils import timezone


class StoredEvent(models.Model):
    """One published domain event: the envelope, stored in the publisher's transaction."""

    seq = models.BigAutoField(primary_key=True)
    id = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    type = models.CharField(max_length=100, db_index=True)
    version = models.PositiveSmallIntegerField()
    source = models.CharField(max_length=100)
    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    data = models.JSONField()
    correlation_id = models.CharField(max_length=64, db_index=True)
    causation_id = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["-seq"]
        verbose_name = "event"

    def __str__(self) -> str:
        return f"{self.type} v{self.version} {self.id}"

    @property
    def metadata(self) -> dict:
        return {"correlation_id": self.correlation_id, "causation_id": self.causation_id or None}

    def envelope(self) -> dict:
        return {
            "id": str(self.id),
            "type": self.type,
            "version": self.version,
            "source": self.source,
            "occurred_at": self.occurred_at.isoformat(),
            "data": self.data,
            "metadata": self.metadata,
        }


class Delivery(models.Model):
    """One consumer's handling of one event. The unit of retry, relay and replay."""

    class Status(models.TextChoices):
        PENDING = "pending", "pending"  # sending to the broker failed; the relay will send it
        QUEUED = "queued", "queued"  # handed to the broker (sent after commit)
        RUNNING = "running", "running"  # an attempt was claimed (counted) by a worker
        RETRYING = "retrying", "retrying"  # failed; a retry is scheduled
        DONE = "done", "done"
        DEAD = "dead", "dead"  # failed its last attempt; replay to try again

    UNFINISHED = (Status.PENDING, Status.QUEUED, Status.RUNNING, Status.RETRYING)

    # Indexed by the (event, consumer) unique constraint, whose leading column it is.
    event = models.ForeignKey(
        StoredEvent, on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )
    consumer = models.CharField(max_length=200)
    queue = models.CharField(max_length=50)
    # Few indexes on purpose: every status change rewrites each of them.
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0, help_text="times the consumer ran")
    max_attempts = models.PositiveIntegerField()
    resends = models.PositiveIntegerField(default=0, help_text="times sent again by the relay")
    # The relay sends the delivery again once this passes and it is still unfinished.
    lease_until = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    # From the event's occurred_at to done, for latency percentiles without a join.
    latency_ms = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["event", "consumer"], name="delivery_once_per_consumer")
        ]
        indexes = [
            models.Index(
                fields=["lease_until"],
                name="delivery_unfinished_lease",
                condition=models.Q(status__in=["pending", "queued", "running", "retrying"]),
            ),
            models.Index(fields=["consumer", "status"], name="delivery_consumer_status"),
        ]

    def __str__(self) -> str:
        return f"{self.consumer} ← {self.event_id} ({self.status})"


class ExternalCall(models.Model):
    """A call to another server (SMTP, HTTP) made by a consumer, by idempotency key.

    Written, and committed, before the call is made; marked completed after it. See
    bookshare/eventbus/idempotency.py.
    """

    key = models.CharField(max_length=255, unique=True)
    tries = models.PositiveIntegerField(default=0, help_text="times the call was begun")
    started_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    result = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.key} ({'completed' if self.completed_at else f'{self.tries} tries'})"

    @property
    def completed(self) -> bool:
        return self.completed_at is not None
