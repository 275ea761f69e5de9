import factory
from django.utils import timezone

from bookshare.eventbus.models import Delivery, StoredEvent


class StoredEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StoredEvent

    type = "test.Pinged"
    version = 1
    source = "tests"
    data = factory.Sequence(lambda n: {"key": f"k{n}", "sleep": 0.0, "marker": None})
    correlation_id = factory.Faker("uuid4")
    occurred_at = factory.LazyFunction(timezone.now)


class DeliveryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Delivery

    event = factory.SubFactory(StoredEventFactory)
    consumer = "test.ping"
    queue = "default"
    max_attempts = 3
    status = Delivery.Status.QUEUED
