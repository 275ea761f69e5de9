import factory

from books.tests.factories import BookPostFactory, UserFactory
from exchanges.models import CopyRequest, RequestMessage


class CopyRequestFactory(factory.django.DjangoModelFactory):
    """An open request on a fresh post. Other states: go through the services (they keep
    the post in step), see `advance` in test_views."""

    class Meta:
        model = CopyRequest

    post = factory.SubFactory(BookPostFactory)
    post_number = factory.LazyAttribute(lambda r: r.post.pk)
    book = factory.LazyAttribute(lambda r: r.post.book)
    owner = factory.LazyAttribute(lambda r: r.post.owner)
    requester = factory.SubFactory(UserFactory)
    offer = factory.LazyAttribute(lambda r: r.post.offer)
    message = "Could I have it, please?"


class RequestMessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RequestMessage

    request = factory.SubFactory(CopyRequestFactory)
    author = factory.LazyAttribute(lambda m: m.request.requester)
    body = "See you at the library at noon."
