import factory

from books.tests.factories import BookFactory, BookPostFactory, UserFactory
from reactions.models import PostLike, Review


class PostLikeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PostLike

    post = factory.SubFactory(BookPostFactory)
    user = factory.SubFactory(UserFactory)


class ReviewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Review

    book = factory.SubFactory(BookFactory)
    user = factory.SubFactory(UserFactory)
    rating = 4
    text = "Good company on a long train ride."


__all__ = ["BookFactory", "BookPostFactory", "PostLikeFactory", "ReviewFactory", "UserFactory"]
