from bookshare.eventbus import Event, event, upcaster


@event
class Pinged(Event):
    event_type = "test.Pinged"
    version = 1
    source = "tests"

    key: str
    sleep: float = 0.0
    marker: str | None = None


@event
class FlakyHappened(Event):
    event_type = "test.FlakyHappened"
    source = "tests"

    key: str


@event
class FannedOut(Event):
    event_type = "test.FannedOut"
    source = "tests"

    key: str


@event
class WidgetCreated(Event):
    event_type = "test.WidgetCreated"
    source = "tests"

    widget_id: int
    name: str


@event
class RenamedV1(Event):
    event_type = "test.Renamed"
    version = 1
    source = "tests"

    name: str


@event
class RenamedV2(Event):
    event_type = "test.Renamed"
    version = 2
    source = "tests"

    first_name: str
    last_name: str


@upcaster("test.Renamed", from_version=1)
def _renamed_v1_to_v2(data: dict) -> dict:
    first, _, last = data.pop("name").partition(" ")
    return {"first_name": first, "last_name": last}


@event
class Nooped(Event):
    """For bench/events.py: a consumer that does nothing."""

    event_type = "test.Nooped"
    source = "tests"

    n: int


@event
class BackendProbed(Event):
    """Asks a consumer to record which database session served it."""

    event_type = "test.BackendProbed"
    source = "tests"

    n: int


@event
class DoorOpened(Event):
    event_type = "test.DoorOpened"
    key: str


@event
class DoorClosed(Event):
    event_type = "test.DoorClosed"
    key: str


@event
class Crashed(Event):
    """Asks a consumer to kill the process running it (a poison message)."""

    event_type = "test.Crashed"
    source = "tests"

    key: str
    log: str  # a file the consumer appends a line to each time it starts
    sleep: float = 0.0  # > 0: hang this long instead of killing itself


@event
class NoopedInBatches(Event):
    """For bench/events.py: the same no-op, for a consumer declared with batch_size."""

    event_type = "test.NoopedInBatches"
    source = "tests"

    n: int


@event
class Batched(Event):
    """For a consumer declared with batch_size: may fail (FailPlan) or kill its process."""

    event_type = "test.Batched"
    source = "tests"

    key: str
    crash_log: str | None = None  # set: note the start in this file, then SIGKILL itself
