from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError

from reactions import services
from reactions.models import Review

from .factories import BookFactory, ReviewFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("bad", [0, 6, -1, 4.5, True, "five", None, ""])
def test_ratings_outside_one_to_five_are_refused_with_a_message(bad):
    with pytest.raises(ValidationError) as info:
        services.review_submit(user=UserFactory(), book=BookFactory(), rating=bad)
    assert "1 to 5" in info.value.messages[0]
    assert not Review.objects.exists()


@pytest.mark.parametrize(("given", "stored"), [(1, 1), (5, 5), ("3", 3), (2.0, 2)])
def test_ratings_one_to_five_are_stored_as_ints(given, stored):
    review = services.review_submit(user=UserFactory(), book=BookFactory(), rating=given)
    assert Review.objects.get(pk=review.pk).rating == stored


def test_text_keeps_line_breaks_and_loses_nul_and_edge_whitespace():
    review = services.review_submit(
        user=UserFactory(), book=BookFactory(), rating=4, text="  First line  \r\nSecond\x00\r\r"
    )
    assert review.text == "First line\nSecond"


def test_overlong_text_is_refused_and_nothing_is_written():
    with pytest.raises(ValidationError, match="at most"):
        services.review_submit(
            user=UserFactory(),
            book=BookFactory(),
            rating=4,
            text="x" * (services.REVIEW_TEXT_MAX + 1),
        )
    assert not Review.objects.exists()


def test_one_review_per_member_per_book_submit_updates_it():
    member, book = UserFactory(), BookFactory()
    first = services.review_submit(user=member, book=book, rating=2)
    second = services.review_submit(user=member, book=book, rating=5, text="Changed my mind.")
    assert first.pk == second.pk
    assert Review.objects.get().rating == 5
    assert Review.objects.get().text == "Changed my mind."


def test_created_at_is_kept_on_creation_only():
    member, book = UserFactory(), BookFactory()
    when = datetime(2019, 3, 4, 12, 0, tzinfo=UTC)
    services.review_submit(user=member, book=book, rating=3, created_at=when)
    services.review_submit(
        user=member, book=book, rating=4, created_at=datetime(2024, 1, 1, tzinfo=UTC)
    )
    assert Review.objects.get().created_at == when


def test_the_database_refuses_a_second_review_of_the_same_book():
    from django.db import IntegrityError, transaction

    review = ReviewFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Review.objects.create(book=review.book, user=review.user, rating=3)


def test_the_database_refuses_a_rating_outside_one_to_five():
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        ReviewFactory(rating=7)


def test_removing_a_review_twice_is_harmless():
    review = ReviewFactory()
    services.review_remove(review=review)
    services.review_remove(review=review)
    assert not Review.objects.exists()


def test_reviews_submit_many_creates_updates_and_leaves_alone_with_the_usual_events():
    from bookshare.eventbus.models import StoredEvent

    user = UserFactory()
    kept, changed, new = BookFactory(), BookFactory(), BookFactory()
    ReviewFactory(user=user, book=kept, rating=4, text="Same.")
    ReviewFactory(user=user, book=changed, rating=2, text="")
    before = set(StoredEvent.objects.values_list("pk", flat=True))
    when = datetime(2020, 5, 1, tzinfo=UTC)
    result = services.reviews_submit_many(
        user=user,
        reviews=[(kept, 4, "Same.", None), (changed, 5, "Better", None), (new, 3, "", when)],
    )
    assert result == {kept.pk: False, changed.pk: True, new.pk: True}
    made = Review.objects.get(user=user, book=new)
    assert (made.rating, made.created_at) == (3, when)
    assert Review.objects.get(user=user, book=changed).rating == 5
    events = StoredEvent.objects.exclude(pk__in=before)
    assert sorted((e.type, e.data["book_id"]) for e in events) == sorted(
        [("ReviewUpdated", changed.pk), ("ReviewSubmitted", new.pk)]
    )
    assert events.get(type="ReviewSubmitted").data["review_id"] == made.pk
