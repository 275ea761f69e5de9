import pytest
from django.db import transaction

from bookshare.eventbus import EventSchemaError, publish
from bookshare.eventbus.context import bound
from bookshare.eventbus.models import Delivery, StoredEvent
from bookshare.eventbus.tests.testapp.events import FannedOut, Pinged
from bookshare.eventbus.tests.testapp.models import Widget

pytestmark = pytest.mark.django_db


def test_publish_stores_envelope_and_one_delivery_per_consumer():
    stored = publish(FannedOut(key="x"))
    assert stored.type == "test.FannedOut"
    assert stored.version == 1
    assert stored.source == "tests"
    assert stored.data == {"key": "x"}
    deliveries = {d.consumer: d.queue for d in Delivery.objects.filter(event=stored)}
    assert deliveries == {
        "test.fan.email": "email",
        "test.fan.search": "search",
        "test.fan.suggestions": "suggestions",
    }


def test_envelope_has_every_traceability_field():
    envelope = publish(Pinged(key="x")).envelope()
    assert set(envelope) == {"id", "type", "version", "source", "occurred_at", "data", "metadata"}
    assert set(envelope["metadata"]) == {"correlation_id", "causation_id"}


def test_correlation_and_causation_come_from_the_context():
    with bound(correlation_id="req-12345678", causation_id="cause-123"):
        stored = publish(Pinged(key="x"))
    assert stored.correlation_id == "req-12345678"
    assert stored.causation_id == "cause-123"


def test_without_context_a_fresh_correlation_id_is_made():
    a, b = publish(Pinged(key="a")), publish(Pinged(key="b"))
    assert a.correlation_id and b.correlation_id and a.correlation_id != b.correlation_id


def test_rollback_leaves_no_event_and_no_delivery():
    with pytest.raises(RuntimeError), transaction.atomic():
        Widget.objects.create(name="w")
        publish(Pinged(key="rolled-back"))
        raise RuntimeError("boom")
    assert not StoredEvent.objects.filter(data__key="rolled-back").exists()
    assert not Delivery.objects.exists()


def test_rollback_sends_nothing(django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        publish(Pinged(key="rolled-back"))
        raise RuntimeError("boom")
    assert callbacks == []


def test_commit_sends_each_delivery_to_the_broker(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        stored = publish(FannedOut(key="x"))
    assert len(callbacks) == 1
    assert set(Delivery.objects.filter(event=stored).values_list("status", flat=True)) == {"queued"}


def test_a_failed_send_leaves_the_deliveries_due_for_the_relay(
    django_capture_on_commit_callbacks, redis_server, settings
):
    from django.utils import timezone

    from bookshare.testing.worker import use_broker

    # The committing thread's send: in this (non-transactional) test the rows exist only
    # in the test's transaction, which the background sender's connection cannot see
    # (test_sender.py covers its marking them pending).
    settings.EVENTBUS_SEND_IN_BACKGROUND = False

    with use_broker(redis_server.url):
        redis_server.stop()
        with django_capture_on_commit_callbacks(execute=True):
            stored = publish(FannedOut(key="x"))
    rows = Delivery.objects.filter(event=stored)
    assert set(rows.values_list("status", flat=True)) == {"pending"}
    assert all(d.lease_until <= timezone.now() for d in rows)


@pytest.mark.django_db(transaction=True)
def test_publish_refuses_to_run_outside_a_transaction():
    from bookshare.eventbus import TransactionRequired

    with pytest.raises(TransactionRequired, match="transaction.atomic"):
        publish(Pinged(key="loose"))
    assert not StoredEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_bare_save_whose_publish_fails_leaves_neither_row_nor_event(monkeypatch):
    """AtomicSaveMixin: the row and its event commit together even with no caller's
    transaction, so a failing publish takes the row back too."""
    from bookshare.eventbus import publisher

    def broken(event_type):
        raise RuntimeError("the event store is unwell")

    monkeypatch.setattr(publisher, "consumers_for", broken)
    with pytest.raises(RuntimeError, match="unwell"):
        Widget.objects.create(name="orphan")
    assert not Widget.objects.filter(name="orphan").exists()
    assert not StoredEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_bare_save_commits_the_row_and_its_event_together():
    widget = Widget.objects.create(name="w")
    stored = StoredEvent.objects.get(type="test.WidgetCreated")
    assert stored.data["widget_id"] == widget.pk


def test_publish_rejects_a_non_event():
    with pytest.raises(EventSchemaError):
        publish({"type": "test.Pinged"})


def test_event_with_no_consumer_is_still_recorded():
    from bookshare.eventbus.tests.testapp.events import RenamedV1

    # RenamedV1's consumer subscribes to the type (any version): one delivery.
    stored = publish(RenamedV1(name="A B"))
    assert StoredEvent.objects.filter(pk=stored.pk).exists()
    assert stored.deliveries.count() == 1


def test_deliveries_start_queued_with_a_lease_and_nothing_else_set(settings):
    """Both insert paths (one SQL statement on PostgreSQL, the ORM elsewhere) agree."""
    from datetime import timedelta

    from django.utils import timezone

    settings.EVENTBUS_LEASE_SECONDS = 120
    before = timezone.now()
    stored = publish(FannedOut(key="x"))
    stored_again = StoredEvent.objects.get(pk=stored.pk)
    assert (stored_again.id, stored_again.data) == (stored.id, {"key": "x"})
    for d in Delivery.objects.filter(event=stored):
        assert (d.status, d.attempts, d.resends, d.last_error) == ("queued", 0, 0, "")
        assert (d.finished_at, d.latency_ms) == (None, None)
        assert d.max_attempts == settings.EVENTBUS_MAX_ATTEMPTS
        assert before <= d.created_at <= timezone.now()
        assert d.lease_until == d.created_at + timedelta(seconds=120)
