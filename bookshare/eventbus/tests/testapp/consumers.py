import os
import pathlib
import signal
import time

from bookshare.eventbus import consumer

from .events import (
    BackendProbed,
    Batched,
    Crashed,
    DoorClosed,
    DoorOpened,
    FannedOut,
    FlakyHappened,
    Nooped,
    NoopedInBatches,
    Pinged,
    RenamedV2,
    WidgetCreated,
)
from .models import Effect, FailPlan


@consumer(Pinged, queue="default", name="test.ping")
def on_ping(event: Pinged, envelope: dict) -> None:
    # The first run leaves a marker and sleeps (so a test can kill the worker mid-way);
    # a later run of the same delivery finds the marker and goes straight on.
    marker = pathlib.Path(event.marker) if event.marker else None
    if marker is None or not marker.exists():
        if marker is not None:
            marker.write_text("started")
        if event.sleep:
            time.sleep(event.sleep)
    Effect.objects.create(consumer="ping", key=event.key)


@consumer(FlakyHappened, queue="default", name="test.flaky", max_attempts=3)
def on_flaky(event: FlakyHappened, envelope: dict) -> None:
    Effect.objects.create(consumer="flaky-attempt", key=event.key)  # rolled back on failure
    plan = FailPlan.objects.filter(key=event.key).first()
    attempt = envelope["delivery"]["attempt"]
    if plan and (plan.always or attempt <= plan.failures_left):
        raise RuntimeError(f"planned failure {attempt} for {event.key}")
    Effect.objects.create(consumer="flaky", key=event.key)


@consumer(FannedOut, queue="search", name="test.fan.search")
def on_fan_search(event: FannedOut, envelope: dict) -> None:
    Effect.objects.create(consumer="fan.search", key=event.key)


@consumer(FannedOut, queue="suggestions", name="test.fan.suggestions")
def on_fan_suggestions(event: FannedOut, envelope: dict) -> None:
    Effect.objects.create(consumer="fan.suggestions", key=event.key)


@consumer(FannedOut, queue="email", name="test.fan.email")
def on_fan_email(event: FannedOut, envelope: dict) -> None:
    Effect.objects.create(consumer="fan.email", key=event.key)


@consumer(WidgetCreated, queue="default", name="test.widget")
def on_widget(event: WidgetCreated, envelope: dict) -> None:
    Effect.objects.create(consumer="widget", key=str(event.widget_id))


@consumer(RenamedV2, queue="default", name="test.renamed")
def on_renamed(event: RenamedV2, envelope: dict) -> None:
    Effect.objects.create(consumer="renamed", key=f"{event.first_name}|{event.last_name}")


@consumer(Nooped, queue="default", name="test.noop")
def on_noop(event: Nooped, envelope: dict) -> None:
    """Does nothing (the benchmark's consumer)."""


@consumer(BackendProbed, queue="default", name="test.backend_pid")
def on_backend_probed(event: BackendProbed, envelope: dict) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    Effect.objects.create(consumer="backend_pid", key=str(pid))


@consumer(DoorOpened, DoorClosed, queue="default", name="test.door")
def on_door(event: DoorOpened | DoorClosed, envelope: dict) -> None:
    """One consumer for two event types (one delivery per event, one name)."""
    verb = "opened" if isinstance(event, DoorOpened) else "closed"
    Effect.objects.create(consumer="door", key=f"{verb}:{event.key}:{envelope['type']}")


@consumer(Crashed, queue="default", name="test.crash", max_attempts=3)
def on_crash(event: Crashed, envelope: dict) -> None:
    """Notes that it started, then kills its own process (or hangs, for a test to kill)."""
    with open(event.log, "a") as log:
        log.write(f"attempt {envelope['delivery']['attempt']}\n")
    if event.sleep:
        time.sleep(event.sleep)
    else:
        os.kill(os.getpid(), signal.SIGKILL)
    Effect.objects.create(consumer="crash", key=event.key)


@consumer(NoopedInBatches, queue="default", name="test.noop.batched", batch_size=50)
def on_noop_in_batches(event: NoopedInBatches, envelope: dict) -> None:
    """Does nothing, in batches of up to 50 (the benchmark's batched consumer)."""


@consumer(Batched, queue="default", name="test.batch", batch_size=10, max_attempts=3)
def on_batched(event: Batched, envelope: dict) -> None:
    """Records its effect and the transaction it ran in (members of one batch share it);
    fails as its FailPlan says; kills its own process when given a crash log."""
    from django.db import connection

    if event.crash_log:
        with open(event.crash_log, "a") as log:
            log.write(f"attempt {envelope['delivery']['attempt']}\n")
        os.kill(os.getpid(), signal.SIGKILL)
    plan = FailPlan.objects.filter(key=event.key).first()
    attempt = envelope["delivery"]["attempt"]
    if plan and (plan.always or attempt <= plan.failures_left):
        raise RuntimeError(f"planned failure {attempt} for {event.key}")
    Effect.objects.create(consumer="batch", key=event.key)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT txid_current()")
            Effect.objects.create(consumer=f"batch.tx:{cursor.fetchone()[0]}", key=event.key)
