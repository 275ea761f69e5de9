import pytest

from exchanges.tests.factories import RequestMessageFactory
from notifications.tests.factories import NotificationFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path",
    [
        "exchanges/copyrequest",
        "exchanges/requestmessage",
        "notifications/notification",
        "notifications/preference",
        "notifications/emailsent",
        "notifications/digestsent",
    ],
)
def test_admin_lists_and_change_pages(staff_client, path):
    message = RequestMessageFactory()
    note = NotificationFactory()
    assert staff_client.get(f"/admin/{path}/").status_code == 200
    assert staff_client.get(f"/admin/{path}/?q=x").status_code == 200
    pk = {
        "exchanges/copyrequest": message.request_id,
        "exchanges/requestmessage": message.pk,
        "notifications/notification": note.pk,
    }.get(path)
    if pk:
        assert staff_client.get(f"/admin/{path}/{pk}/change/").status_code == 200
