from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import F
from django.urls import reverse

from reactions.models import BookRating, PostLike, Review
from reactions.ratings import book_rating_refresh

from .factories import PostLikeFactory, ReviewFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("model", "query"),
    [
        ("postlike", "?q=reader&post__status__exact=available"),
        ("review", "?q=Book&rating__exact=4"),
        ("bookrating", "?q=Book&count=1"),
    ],
)
def test_admin_lists_search_and_filter(staff_client, model, query):
    like, review = PostLikeFactory(), ReviewFactory(rating=4)
    book_rating_refresh(review.book_id)
    url = reverse(f"admin:reactions_{model}_changelist")
    response = staff_client.get(url + query)
    assert response.status_code == 200
    expected = {"postlike": like.user.username, "review": review.book.title}
    expected["bookrating"] = review.book.title
    assert expected[model] in response.content.decode()


def test_admin_deleting_a_review_publishes_removed(staff_client):
    from bookshare.eventbus.models import StoredEvent

    review = ReviewFactory()
    url = reverse("admin:reactions_review_delete", args=[review.pk])
    assert staff_client.post(url, {"post": "yes"}).status_code == 302
    assert StoredEvent.objects.filter(type="ReviewRemoved").count() == 1


def test_admin_recompute_action_fixes_a_wrong_rating(staff_client):
    review = ReviewFactory(rating=2)
    BookRating.objects.create(book=review.book, count=9, total=45, average=5)
    staff_client.post(
        reverse("admin:reactions_bookrating_changelist"),
        {"action": "recompute_selected", "_selected_action": [review.book_id]},
    )
    rating = BookRating.objects.get(book=review.book)
    assert (rating.count, rating.average) == (1, 2)


def test_ratings_rebuild_command_recomputes_every_book():
    review = ReviewFactory(rating=3)
    out = StringIO()
    call_command("ratings", "rebuild", stdout=out)
    assert "1 book rating(s) recomputed" in out.getvalue()
    assert BookRating.objects.get(book=review.book).count == 1


def test_seed_demo_gives_members_likes_reviews_and_ratings_idempotently():
    call_command("seed_demo", stdout=StringIO())
    counts = (Review.objects.count(), PostLike.objects.count())
    assert counts[0] >= 30 and counts[1] >= 30
    assert not PostLike.objects.filter(post__owner=F("user")).exists()  # not their own posts
    reviewed = set(Review.objects.values_list("book_id", flat=True))
    assert set(BookRating.objects.filter(count__gt=0).values_list("book_id", flat=True)) == (
        reviewed
    )
    call_command("seed_demo", stdout=StringIO())
    assert (Review.objects.count(), PostLike.objects.count()) == counts
