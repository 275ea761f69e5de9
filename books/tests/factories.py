import factory

from accounts.tests.factories import VerifiedUserFactory
from books.models import Author, Book, BookAuthor, BookPost, Genre
from books.services import book_match_key
from books.text import normalize


class UserFactory(VerifiedUserFactory):
    """A verified member, who may post; `UserFactory(unverified=True)` for one who may not."""

    class Params:
        unverified = factory.Trait(email_verified_at=None)


class GenreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Genre
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Genre {n}")
    slug = factory.LazyAttribute(lambda o: o.name.lower().replace(" ", "-"))


class AuthorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Author
        django_get_or_create = ("name_key",)

    name = factory.Sequence(lambda n: f"Author Number{n}")
    name_key = factory.LazyAttribute(lambda o: normalize(o.name))


class BookFactory(factory.django.DjangoModelFactory):
    """A book; `authors=["A. Name", ...]` (names) sets its ordered authors, `genres=[...]`
    its genres."""

    class Meta:
        model = Book
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Book Title {n}")
    description = "A story told for the tests."
    language = "en"
    match_key = ""

    @factory.post_generation
    def authors(obj, create, extracted, **kwargs):
        if not create:
            return
        names = extracted if extracted is not None else [f"Writer {obj.pk}"]
        for position, name in enumerate(names):
            author = Author.objects.filter(name_key=normalize(name)).first()
            if author is None:
                author = Author.objects.create(name=name)
            BookAuthor.objects.create(book=obj, author=author, position=position)
        if names:
            obj.match_key = book_match_key(title=obj.title, first_author=names[0])
            obj.save(update_fields=["match_key"])

    @factory.post_generation
    def genres(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.genres.set(extracted)


class BookPostFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BookPost

    book = factory.SubFactory(BookFactory)
    owner = factory.SubFactory(UserFactory)
    offer = BookPost.Offer.GIVE
    condition = BookPost.Condition.GOOD
    location = "Leeds"
