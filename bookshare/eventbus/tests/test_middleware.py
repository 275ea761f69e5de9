import logging

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from bookshare.eventbus.context import CorrelationIdLogFilter, bound
from bookshare.eventbus.middleware import CorrelationIdMiddleware
from bookshare.eventbus.models import StoredEvent
from bookshare.eventbus.tests.testapp.models import Widget


def test_response_carries_a_fresh_request_id():
    response = CorrelationIdMiddleware(lambda r: HttpResponse())(RequestFactory().get("/"))
    assert len(response["X-Request-ID"]) == 36


def test_a_plain_incoming_request_id_is_kept():
    request = RequestFactory().get("/", HTTP_X_REQUEST_ID="abc-12345678")
    response = CorrelationIdMiddleware(lambda r: HttpResponse())(request)
    assert response["X-Request-ID"] == "abc-12345678"


@pytest.mark.parametrize("bad", ["x", "a" * 200, "evil\nheader-injection", "<script>x</script>"])
def test_an_odd_incoming_request_id_is_replaced(bad):
    request = RequestFactory().get("/", HTTP_X_REQUEST_ID=bad)
    response = CorrelationIdMiddleware(lambda r: HttpResponse())(request)
    assert response["X-Request-ID"] != bad


@pytest.mark.django_db
def test_events_published_by_a_request_carry_its_id():
    def view(request):
        Widget.objects.create(name="from a request")
        return HttpResponse()

    request = RequestFactory().get("/", HTTP_X_REQUEST_ID="req-abcdef12")
    CorrelationIdMiddleware(view)(request)
    assert StoredEvent.objects.get().correlation_id == "req-abcdef12"


def test_log_records_carry_the_correlation_id():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hi", None, None)
    with bound(correlation_id="corr-12345678"):
        CorrelationIdLogFilter().filter(record)
    assert record.correlation_id == "corr-12345678"


@pytest.mark.parametrize(
    ("message", "level", "kept"),
    [
        ("Task eventbus.relay[abc] succeeded in 0.01s: 0", logging.INFO, False),
        ("Scheduler: Sending due task eventbus-relay (eventbus.relay)", logging.INFO, False),
        ("Task eventbus.relay[abc] raised unexpected: OperationalError", logging.ERROR, True),
        ("Task eventbus.deliver[abc] succeeded in 0.01s: 'done'", logging.INFO, True),
    ],
)
def test_routine_relay_chatter_is_dropped_but_failures_and_deliveries_are_kept(
    message, level, kept
):
    from bookshare.eventbus.context import QuietHousekeepingFilter

    record = logging.LogRecord("celery", level, __file__, 1, message, None, None)
    assert QuietHousekeepingFilter().filter(record) is kept
