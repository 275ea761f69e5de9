import pytest
from prometheus_client.parser import text_string_to_metric_families

from accounts.tests.factories import VerifiedUserFactory
from bookshare.eventbus.delivery import run_delivery
from bookshare.eventbus.tests.factories import DeliveryFactory

pytestmark = pytest.mark.django_db


def samples(response) -> dict:
    """{(sample name, frozenset(labels)): value} from a scrape."""
    text = response.content.decode()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_anonymous_scrapers_are_asked_for_a_token(client):
    response = client.get("/metrics")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_signed_in_members_who_are_not_staff_are_refused(client):
    client.force_login(VerifiedUserFactory())
    assert client.get("/metrics").status_code == 403


def test_the_token_opens_it_only_when_set_and_only_when_right(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 401
    settings.METRICS_TOKEN = "s3cret-token"
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Basic s3cret-token").status_code == 401
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")


def test_staff_scrape_shows_published_done_failed_dead_latency_and_queues(
    staff_client, monkeypatch
):
    from bookshare.eventbus.tests.testapp.models import FailPlan

    monkeypatch.setattr("bookshare.eventbus.stats.queue_depths", lambda: {"default": 7})
    ok = DeliveryFactory(event__data={"key": "a"})
    run_delivery(ok.pk)
    FailPlan.objects.create(key="f", always=True)
    broken = DeliveryFactory(
        consumer="test.flaky",
        event__type="test.FlakyHappened",
        event__data={"key": "f"},
        max_attempts=1,
    )
    run_delivery(broken.pk)
    DeliveryFactory(event__data={"key": "waiting"})  # not run
    got = samples(staff_client.get("/metrics"))
    ping = frozenset({"type": "test.Pinged", "consumer": "test.ping"}.items())
    flaky = frozenset({"type": "test.FlakyHappened", "consumer": "test.flaky"}.items())
    assert (
        got[("bookshare_events_published_total", frozenset({"type": "test.Pinged"}.items()))] == 2
    )
    assert got[("bookshare_deliveries_done_total", ping)] == 1
    assert got[("bookshare_deliveries_unfinished", ping)] == 1
    assert got[("bookshare_deliveries_dead", flaky)] == 1
    assert got[("bookshare_deliveries_failed_total", flaky)] == 1
    assert got[("bookshare_delivery_oldest_pending_seconds", ping)] >= 0
    latency = frozenset({"consumer": "test.ping"}.items())
    assert got[("bookshare_delivery_latency_seconds_count", latency)] == 1
    inf = frozenset({"consumer": "test.ping", "le": "+Inf"}.items())
    assert got[("bookshare_delivery_latency_seconds_bucket", inf)] == 1
    assert got[("bookshare_queue_depth", frozenset({"queue": "default"}.items()))] == 7


def test_the_ops_page_charts_the_last_hour_without_scripts(staff_client, monkeypatch):
    monkeypatch.setattr("bookshare.eventbus.stats.queue_depths", lambda: {"default": 0})
    for key in ("a", "b", "c"):
        run_delivery(DeliveryFactory(event__data={"key": key}).pk)
    response = staff_client.get("/ops/events/")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('<svg viewBox="0 0 240 80"') == 4
    assert ": 3 deliveries</title>" in html  # the newest column of "Deliveries done"
    from bookshare.eventbus.models import StoredEvent

    assert f": {StoredEvent.objects.count()} events</title>" in html  # with the staff sign-up
    assert "<script" not in html.split("<h1>Event bus</h1>")[1]


def test_the_ops_page_is_for_staff_only(client):
    client.force_login(VerifiedUserFactory())
    assert client.get("/ops/events/").status_code == 302
