import uuid

import factory

from books.tests.factories import BookPostFactory, UserFactory
from notifications.models import Kind, Notification


class NotificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Notification

    recipient = factory.SubFactory(UserFactory)
    kind = Kind.COPY_REQUESTED
    event_id = factory.LazyFunction(uuid.uuid4)
    actor = factory.SubFactory(UserFactory)
    post = factory.SubFactory(BookPostFactory)
    title = factory.LazyAttribute(lambda n: n.post.book.title if n.post else "A book")
