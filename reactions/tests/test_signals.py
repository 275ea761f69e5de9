"""Events per action: one fact per row change, none when nothing changed."""

import pytest

from books.services import post_remove
from bookshare.eventbus.models import Delivery, StoredEvent
from reactions import services
from reactions.models import Review

from .factories import BookFactory, BookPostFactory, PostLikeFactory, UserFactory

pytestmark = pytest.mark.django_db


def events(type_):
    return [e.data for e in StoredEvent.objects.filter(type=type_).order_by("seq")]


def test_liking_publishes_post_liked_with_its_facts():
    post = BookPostFactory()
    member = UserFactory()
    like = services.post_like(user=member, post=post)
    assert events("PostLiked") == [
        {
            "like_id": like.pk,
            "post_id": post.pk,
            "book_id": post.book_id,
            "user_id": member.pk,
            "post_owner_id": post.owner_id,
        }
    ]


def test_liking_twice_keeps_one_like_and_one_event():
    post, member = BookPostFactory(), UserFactory()
    first = services.post_like(user=member, post=post)
    second = services.post_like(user=member, post=post)
    assert first.pk == second.pk
    assert post.likes.count() == 1
    assert len(events("PostLiked")) == 1


def test_unliking_publishes_post_unliked_once():
    post, member = BookPostFactory(), UserFactory()
    services.post_like(user=member, post=post)
    assert services.post_unlike(user=member, post=post) is True
    assert services.post_unlike(user=member, post=post) is False
    assert events("PostUnliked") == [
        {
            "post_id": post.pk,
            "book_id": post.book_id,
            "user_id": member.pk,
            "post_owner_id": post.owner_id,
        }
    ]


def test_removing_a_post_unlikes_it_with_events():
    like = PostLikeFactory()
    post_remove(post=like.post)
    (data,) = events("PostUnliked")
    assert data["post_id"] == like.post_id and data["user_id"] == like.user_id


def test_review_submit_publishes_submitted_then_updated_then_removed():
    book, member = BookFactory(), UserFactory()
    review = services.review_submit(user=member, book=book, rating=3, text="Fine.")
    services.review_submit(user=member, book=book, rating=5, text="Fine.")
    services.review_update(review=Review.objects.get(pk=review.pk), text="Better the 2nd time.")
    services.review_remove(review=Review.objects.get(pk=review.pk))
    assert events("ReviewSubmitted") == [
        {"review_id": review.pk, "book_id": book.pk, "user_id": member.pk, "rating": 3}
    ]
    updated = events("ReviewUpdated")
    assert [(e["previous_rating"], e["rating"]) for e in updated] == [(3, 5), (5, 5)]
    assert events("ReviewRemoved") == [
        {"review_id": review.pk, "book_id": book.pk, "user_id": member.pk, "rating": 5}
    ]


def test_submitting_the_same_review_again_publishes_nothing():
    book, member = BookFactory(), UserFactory()
    services.review_submit(user=member, book=book, rating=4, text="Same\r\nwords ")
    services.review_submit(user=member, book=book, rating=4, text="Same\nwords")
    services.review_update(review=Review.objects.get(), rating=4)
    assert len(events("ReviewSubmitted")) == 1
    assert events("ReviewUpdated") == []


def test_review_events_go_to_the_rating_consumer_on_the_suggestions_queue():
    services.review_submit(user=UserFactory(), book=BookFactory(), rating=2)
    assert set(
        Delivery.objects.filter(event__type="ReviewSubmitted").values_list("consumer", "queue")
    ) == {("reactions.book_rating", "suggestions")}


def test_a_bare_save_outside_a_transaction_still_publishes():
    # AtomicSaveMixin: the admin or a shell saving a row gets its event too.
    review = Review(book=BookFactory(), user=UserFactory(), rating=1)
    review.save()
    assert len(events("ReviewSubmitted")) == 1
