"""The bell, the list (query counts at two sizes), marking read, preferences."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from books.tests.factories import UserFactory
from notifications.models import Kind, Notification

from .factories import NotificationFactory

pytestmark = pytest.mark.django_db


def test_bell_shows_unread_count_and_polls(client):
    member = UserFactory()
    NotificationFactory.create_batch(3, recipient=member)
    NotificationFactory(recipient=UserFactory())
    client.force_login(member)
    page = client.get("/").content.decode()
    assert 'aria-label="3 unread"' in page
    assert 'hx-trigger="every 30s"' in page and "vendor/htmx.min.js" in page
    bell = client.get("/notifications/bell/").content.decode()
    assert bell.strip().startswith('<li id="notification-bell"') and ">3<" in bell


def test_anonymous_sees_no_bell_and_list_needs_sign_in(client):
    assert b"notification-bell" not in client.get("/").content
    assert client.get("/notifications/").status_code == 302


def _queries(client, path):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_list_query_count_does_not_grow_with_notifications(client):
    member = UserFactory()
    NotificationFactory.create_batch(3, recipient=member)
    client.force_login(member)
    small = _queries(client, "/notifications/")
    NotificationFactory.create_batch(40, recipient=member, kind=Kind.POST_LIKED)
    large = _queries(client, "/notifications/")
    # session, member, total+unread in one aggregate, the page's rows (bell reuses the count)
    assert small == large == 4


def test_list_is_newest_first_paginated_and_only_mine(client):
    member = UserFactory()
    rows = NotificationFactory.create_batch(25, recipient=member)
    theirs = NotificationFactory(recipient=UserFactory())
    client.force_login(member)
    page = client.get("/notifications/").content.decode()
    assert rows[-1].title in page and rows[0].title not in page
    assert theirs.title not in page
    assert rows[0].title in client.get("/notifications/?page=2").content.decode()


def test_mark_one_and_all_read(client):
    member = UserFactory()
    first, second = NotificationFactory.create_batch(2, recipient=member)
    other = NotificationFactory()
    client.force_login(member)
    assert client.get(f"/notifications/{first.pk}/read/").status_code == 405
    response = client.post(f"/notifications/{first.pk}/read/", {"next": "https://evil.example/"})
    assert response["Location"] == "/notifications/"
    client.post(f"/notifications/{other.pk}/read/")  # not mine: nothing happens
    assert Notification.objects.get(pk=other.pk).read_at is None
    assert Notification.objects.get(pk=first.pk).read_at is not None
    client.post("/notifications/read-all/")
    assert not Notification.objects.filter(recipient=member, read_at=None).exists()


def test_preferences_form(client):
    member = UserFactory()
    client.force_login(member)
    page = client.get("/notifications/settings/").content.decode()
    assert 'value="immediate"' in page
    data = {kind: "site" for kind in Kind.values}
    data[Kind.POST_LIKED] = "digest"
    assert client.post("/notifications/settings/", data).status_code == 302
    assert member.notification_prefs.get(kind=Kind.POST_LIKED).delivery == "digest"
    data[Kind.POST_LIKED] = "carrier pigeon"
    assert client.post("/notifications/settings/", data).status_code == 200
