"""The rating aggregate: recomputed from the review rows, so any order and any repeats of
the events leave it right. Unit (deliveries run here, shuffled, twice) and flow (a real
Celery worker and broker)."""

import random
from decimal import Decimal

import pytest

from books.models import Book
from bookshare.eventbus.models import Delivery, StoredEvent
from bookshare.testing import wait_until
from reactions import services
from reactions.consumers import book_rating
from reactions.events import ReviewRemoved, ReviewSubmitted, ReviewUpdated
from reactions.models import BookRating, Review
from reactions.ratings import book_rating_refresh

from .factories import BookFactory, ReviewFactory, UserFactory

EVENT_CLASSES = {cls.event_type: cls for cls in (ReviewSubmitted, ReviewUpdated, ReviewRemoved)}


def truth(book) -> tuple[int, Decimal | None]:
    ratings = list(Review.objects.filter(book=book).values_list("rating", flat=True))
    if not ratings:
        return 0, None
    return len(ratings), (Decimal(sum(ratings)) / len(ratings)).quantize(Decimal("0.01"))


def stored(book) -> tuple[int, Decimal | None]:
    row = BookRating.objects.filter(book=book).first()
    return (row.count, row.average) if row else (0, None)


def busy_history(books, members, rng):
    """Creates, edits and removals across a few books, through the services."""
    for _ in range(40):
        book, member = rng.choice(books), rng.choice(members)
        review = Review.objects.filter(book=book, user=member).first()
        action = rng.random()
        if review is not None and action < 0.25:
            services.review_remove(review=review)
        elif review is not None and action < 0.6:
            services.review_update(review=review, rating=rng.randint(1, 5), text="edited")
        else:
            services.review_submit(user=member, book=book, rating=rng.randint(1, 5))


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_replaying_every_review_event_shuffled_and_twice_gives_the_true_average(seed):
    rng = random.Random(seed)
    books = [BookFactory() for _ in range(3)]
    members = [UserFactory() for _ in range(5)]
    busy_history(books, members, rng)
    stored_events = list(
        StoredEvent.objects.filter(type__in=EVENT_CLASSES).values_list("type", "data")
    )
    assert len(stored_events) >= 30
    assert {type_ for type_, _ in stored_events} == set(EVENT_CLASSES)
    assert not BookRating.objects.exists()  # nothing ran yet
    replay = stored_events * 2
    rng.shuffle(replay)
    for type_, data in replay:
        book_rating(EVENT_CLASSES[type_].from_data(data), {})
    for book in books:
        assert stored(book) == truth(book)


@pytest.mark.django_db
def test_running_the_deliveries_in_reverse_order_gives_the_true_average(settings):
    from bookshare.eventbus.delivery import run_delivery

    # One at a time, newest first: a batch would take the waiting ones oldest first.
    settings.EVENTBUS_BATCHING = False
    book = BookFactory()
    a, b = UserFactory(), UserFactory()
    services.review_submit(user=a, book=book, rating=5)
    review_b = services.review_submit(user=b, book=book, rating=1)
    services.review_update(review=review_b, rating=2)
    services.review_remove(review=Review.objects.get(user=a))
    pending = Delivery.objects.filter(consumer="reactions.book_rating").order_by("-id")
    for pk in pending.values_list("pk", flat=True):
        assert run_delivery(pk) == "done"
    assert stored(book) == (1, Decimal("2.00"))


@pytest.mark.django_db
def test_a_rating_of_a_book_with_no_reviews_left_is_zero_and_shows_nothing():
    review = ReviewFactory(rating=3)
    book_rating_refresh(review.book_id)
    services.review_remove(review=review)
    rating = book_rating_refresh(review.book_id)
    assert (rating.count, rating.average, rating.stars) == (0, None, "")


@pytest.mark.django_db
def test_an_event_for_a_book_deleted_meanwhile_leaves_no_rating():
    review = ReviewFactory(rating=3)
    book_rating_refresh(review.book_id)
    book_id = review.book_id
    Book.objects.filter(pk=book_id).delete()
    book_rating(ReviewRemoved(review_id=review.pk, book_id=book_id, user_id=1, rating=3), {})
    assert not BookRating.objects.filter(book_id=book_id).exists()


@pytest.mark.django_db
def test_average_is_rounded_to_two_places_and_stars_to_the_nearest_whole():
    book = BookFactory()
    for rating in (5, 4, 4):
        ReviewFactory(book=book, rating=rating)
    rating = book_rating_refresh(book.pk)
    assert (rating.count, rating.total, rating.average) == (3, 13, Decimal("4.33"))
    assert rating.stars == "★★★★☆"


@pytest.mark.flow
@pytest.mark.django_db(transaction=True)
def test_flow_the_average_follows_creates_edits_and_removals_through_a_real_worker(settled_bus):
    book = BookFactory()
    ada, ben, cy = UserFactory(), UserFactory(), UserFactory()
    services.review_submit(user=ada, book=book, rating=5, text="Loved it.")
    services.review_submit(user=ben, book=book, rating=2)
    wait_until(
        lambda: stored(book) == (2, Decimal("3.50")), timeout=60, message="average of 5 and 2"
    )

    services.review_submit(user=cy, book=book, rating=4)
    services.review_update(review=Review.objects.get(user=ben, book=book), rating=3)
    services.review_remove(review=Review.objects.get(user=ada, book=book))
    # Repeats of an old event change nothing: the consumer reads the rows.
    wait_until(
        lambda: stored(book) == (2, Decimal("3.50")) and truth(book) == (2, Decimal("3.50")),
        timeout=60,
        message="average of 4 and 3",
    )
    wait_until(
        lambda: (
            not Delivery.objects.filter(consumer="reactions.book_rating")
            .exclude(status="done")
            .exists()
        ),
        timeout=60,
        message="every rating delivery done",
    )
    assert stored(book) == truth(book) == (2, Decimal("3.50"))


@pytest.mark.django_db(transaction=True)
def test_postgresql_a_second_refresh_waits_for_the_first_and_counts_after_it():
    import threading

    from django.db import connection, transaction

    if connection.vendor != "postgresql":
        pytest.skip("row locks: PostgreSQL only (SQLite serialises writers)")
    book = BookFactory()
    ReviewFactory(book=book, rating=5)
    holding, release = threading.Event(), threading.Event()
    errors = []

    def first():
        try:
            with transaction.atomic():
                book_rating_refresh(book.pk)  # counts 1 review and keeps the row locked
                holding.set()
                release.wait(30)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    def second():
        try:
            book_rating_refresh(book.pk)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    t1 = threading.Thread(target=first)
    t1.start()
    assert holding.wait(30)
    ReviewFactory(book=book, rating=1)  # committed while the first refresh is open
    t2 = threading.Thread(target=second)
    t2.start()

    def someone_waits_on_a_lock():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            return cursor.fetchone()[0] > 0

    wait_until(someone_waits_on_a_lock, timeout=30, message="the second refresh to wait")
    release.set()
    t1.join(30)
    t2.join(30)
    assert errors == []
    assert stored(book) == truth(book) == (2, Decimal("3.00"))


@pytest.mark.django_db
def test_a_refresh_rounds_half_up_and_writes_only_when_something_changed(
    django_assert_max_num_queries,
):
    from django.db import connection, transaction

    book = BookFactory()
    for rating in [1] * 7 + [2]:  # 9 / 8 = 1.125
        ReviewFactory(book=book, rating=rating)
    with transaction.atomic():
        rating = book_rating_refresh(book.pk)
    assert (rating.count, rating.total, rating.average) == (8, 9, Decimal("1.13"))
    assert stored(book) == (8, Decimal("1.13"))
    # In the delivery's transaction: claim, then recount-and-update (PostgreSQL), no
    # savepoint; unchanged, nothing is written.
    statements = 2 if connection.vendor == "postgresql" else 3
    with transaction.atomic(), django_assert_max_num_queries(statements):
        again = book_rating_refresh(book.pk)
    assert (again.count, again.average) == (8, Decimal("1.13"))
    Review.objects.filter(book=book).delete()
    with transaction.atomic(), django_assert_max_num_queries(statements):
        book_rating_refresh(book.pk)
    assert stored(book) == (0, None)
