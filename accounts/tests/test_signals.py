import pytest
from django.core import serializers
from django.db import transaction

from accounts.models import User
from bookshare.eventbus.models import Delivery, StoredEvent

from .factories import UserFactory

pytestmark = pytest.mark.django_db


def registered_events():
    return StoredEvent.objects.filter(type="UserRegistered")


def test_creating_a_member_publishes_user_registered_with_its_payload():
    user = UserFactory()
    event = registered_events().get()
    assert event.data == {"user_id": user.pk, "email": user.email, "username": user.username}
    assert event.source == "accounts"


def test_later_saves_of_the_member_publish_nothing_more():
    user = UserFactory()
    user.bio = "Reads on the bus."
    user.save()
    user.save(update_fields=["bio"])
    assert registered_events().count() == 1


def test_raw_fixture_saves_publish_nothing():
    data = serializers.serialize(
        "json", [User(pk=4242, username="fixture", email="fixture@example.org")]
    )
    for obj in serializers.deserialize("json", data):
        obj.save()
    assert User.objects.filter(pk=4242).exists()
    assert not registered_events().exists()


def test_the_event_has_one_delivery_on_the_email_queue():
    UserFactory()
    delivery = Delivery.objects.get(event__type="UserRegistered", queue="email")
    assert delivery.consumer == "accounts.send_verification_code"


def test_a_rolled_back_registration_leaves_no_event():
    with pytest.raises(RuntimeError), transaction.atomic():
        UserFactory()
        raise RuntimeError("boom")
    assert not registered_events().exists()
