import io

import pytest
from django.core.management import call_command

from exchanges.models import CopyRequest
from notifications.models import Notification

pytestmark = pytest.mark.django_db


def test_seed_demo_makes_requests_once():
    call_command("seed_demo", stdout=io.StringIO())
    states = sorted(CopyRequest.objects.values_list("state", flat=True))
    assert states == ["open", "received"]
    call_command("seed_demo", stdout=io.StringIO())
    assert CopyRequest.objects.count() == 2
    grouped = Notification.objects.get(kind="post_liked")
    assert grouped.actor_count == 2 and grouped.recipient.username == "ada"
