import factory

from books.tests.factories import BookFactory, UserFactory  # noqa: F401 - re-exported
from lists.models import ListKind, ReadingList


class CustomListFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReadingList

    owner = factory.SubFactory(UserFactory)
    kind = ListKind.CUSTOM
    name = factory.Sequence(lambda n: f"Shelf {n}")
    is_public = True
