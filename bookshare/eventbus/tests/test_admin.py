import pytest

from .factories import DeliveryFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?status__exact=dead",
        "?queue__exact=email",
        "?consumer=test.ping",
        "?event__type=test.Pinged",
        "?q=not-a-uuid",
        "?q=6f1c1a52-1b2a-4c1e-9d5e-2d3f4a5b6c7d",
        "?q=12",
    ],
)
def test_delivery_list_with_filters_and_search(staff_client, query):
    DeliveryFactory(status="dead")
    response = staff_client.get(f"/admin/eventbus/delivery/{query}")
    assert response.status_code == 200


def test_status_colours_come_from_a_stylesheet_not_inline_styles(staff_client):
    # The CSP allows no inline styles: a style="" attribute would render uncoloured.
    DeliveryFactory(status="dead")
    body = staff_client.get("/admin/eventbus/delivery/").content.decode()
    assert 'class="bus-status bus-status--dead"' in body
    assert "css/admin-eventbus.css" in body
    assert 'style="color' not in body


def test_search_by_correlation_id_finds_the_delivery(staff_client):
    d = DeliveryFactory(event__correlation_id="corr-find-me-123")
    DeliveryFactory()
    response = staff_client.get("/admin/eventbus/delivery/?q=corr-find-me-123")
    assert list(response.context["cl"].result_list) == [d]


def test_event_list_and_detail(staff_client):
    d = DeliveryFactory()
    assert staff_client.get("/admin/eventbus/storedevent/?q=bad uuid").status_code == 200
    assert staff_client.get(f"/admin/eventbus/storedevent/{d.event.pk}/change/").status_code == 200


def test_replay_action(staff_client, monkeypatch, django_capture_on_commit_callbacks):
    from bookshare.eventbus import publisher

    monkeypatch.setattr(publisher, "send_to_broker", lambda items, countdown=None: [])
    d = DeliveryFactory(status="dead", attempts=3)
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            "/admin/eventbus/delivery/",
            {"action": "replay_selected", "_selected_action": [d.pk]},
            follow=True,
        )
    assert response.status_code == 200
    d.refresh_from_db()
    assert (d.status, d.attempts) == ("pending", 0)  # the broker was "down": left to the relay


def test_stats_page_is_for_staff_only(staff_client):
    from django.test import Client

    DeliveryFactory(status="dead")
    assert Client().get("/ops/events/").status_code == 302
    response = staff_client.get("/ops/events/")
    assert response.status_code == 200
    assert b"test.ping" in response.content
