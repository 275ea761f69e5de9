"""Writes for likes and reviews. Keyword-only, atomic; the events come from the model
signals (signals.py), so every path that writes a row publishes the same facts.

Signatures other apps rely on (the lists app's Goodreads import calls review_submit):

    post_like(*, user, post) -> PostLike
    post_unlike(*, user, post) -> bool
    review_submit(*, user, book, rating: int, text: str = "", created_at=None) -> Review
    review_update(*, review, rating: int | None = None, text: str | None = None) -> Review
    review_remove(*, review) -> None
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from .models import RATING_MAX, RATING_MIN, PostLike, Review

REVIEW_TEXT_MAX = 20_000


# -- likes ------------------------------------------------------------------------------


@transaction.atomic
def post_like(*, user, post) -> PostLike:
    """Like `post` as `user`; liking again returns the existing like (no second event)."""
    existing = PostLike.objects.filter(post=post, user=user).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            like = PostLike(post=post, user=user)
            like.save()
    except IntegrityError:
        # A second click that raced the first: the first one's like stands.
        return PostLike.objects.get(post=post, user=user)
    return like


@transaction.atomic
def post_unlike(*, user, post) -> bool:
    """Take back `user`'s like of `post`. Returns whether there was one to remove."""
    like = PostLike.objects.select_for_update().filter(post=post, user=user).first()
    if like is None:
        return False
    like.post = post  # the signal reads the post's book and owner from here
    like.delete()
    return True


# -- reviews ----------------------------------------------------------------------------


def clean_rating(rating) -> int:
    """1–5 as an int; accepts "4" and 4.0, refuses 0, 6, 4.5, True and words."""
    error = ValidationError("Choose a rating from 1 to 5 stars.", code="rating")
    if isinstance(rating, bool) or (isinstance(rating, float) and not rating.is_integer()):
        raise error
    try:
        value = int(rating.strip()) if isinstance(rating, str) else int(rating)
    except (TypeError, ValueError):
        raise error from None
    if not RATING_MIN <= value <= RATING_MAX:
        raise error
    return value


def clean_text(text: str | None) -> str:
    """Plain text as stored: Windows and old-Mac line ends made \\n, NUL characters (which
    PostgreSQL refuses) dropped, trailing spaces per line and blank edges trimmed."""
    if not text:
        return ""
    text = str(text).replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    text = "\n".join(line.rstrip() for line in text.split("\n")).strip()
    if len(text) > REVIEW_TEXT_MAX:
        raise ValidationError(
            f"A review can be at most {REVIEW_TEXT_MAX:,} characters (this one has {len(text):,}).",
            code="text_length",
        )
    return text


@transaction.atomic
def review_submit(
    *, user, book, rating: int, text: str = "", created_at: datetime | None = None
) -> Review:
    """Create or update `user`'s one review of `book`.

    New: ReviewSubmitted. Changed rating or text: ReviewUpdated. The same rating and text
    again: nothing is written and no event is published (an import run twice changes
    nothing). `created_at` (e.g. an imported review's date) is used only on creation.
    Raises ValidationError for a rating outside 1–5 or an over-long text.
    """
    rating = clean_rating(rating)
    text = clean_text(text)
    review = Review.objects.select_for_update().filter(user=user, book=book).first()
    if review is None:
        fields = {"user": user, "book": book, "rating": rating, "text": text}
        if created_at is not None:
            fields["created_at"] = created_at
        try:
            with transaction.atomic():
                review = Review(**fields)
                review.save()
                return review
        except IntegrityError:
            # Submitted twice at once: update the review the other request made.
            review = Review.objects.select_for_update().get(user=user, book=book)
    return _apply(review, rating=rating, text=text)


@transaction.atomic
def review_update(*, review: Review, rating: int | None = None, text: str | None = None) -> Review:
    """Change a review's rating and/or text; ReviewUpdated when something changed."""
    new_rating = review.rating if rating is None else clean_rating(rating)
    new_text = review.text if text is None else clean_text(text)
    return _apply(review, rating=new_rating, text=new_text)


def _apply(review: Review, *, rating: int, text: str) -> Review:
    if review.rating == rating and review.text == text:
        return review
    review.rating, review.text = rating, text
    review.save(update_fields=["rating", "text", "updated_at"])
    return review


@transaction.atomic
def review_remove(*, review: Review) -> None:
    """Delete the review (ReviewRemoved). Removing one already gone does nothing."""
    if Review.objects.filter(pk=review.pk).exists():
        review.delete()


def reviews_submit_many(*, user, reviews) -> dict[int, bool]:
    """`review_submit` for many books of one member at once (the library import): one
    query reads the member's reviews of these books, the new ones are inserted in one
    statement, each publishing its ReviewSubmitted like a single save does; a changed
    review is saved as usual (ReviewUpdated), an unchanged one is left alone.

    `reviews` is a sequence of (book, rating, text, created_at), one per book, with the
    rating and text already cleaned (`clean_rating`, `clean_text`). Runs inside the
    caller's transaction (an IntegrityError there, e.g. a review made meanwhile, is the
    caller's to handle). Returns {book id: changed}.
    """
    from bookshare.eventbus import publish

    from .events import ReviewSubmitted

    reviews = list(reviews)
    if not reviews:
        return {}
    book_ids = [book.pk for book, *_ in reviews]
    existing = {
        r.book_id: r
        for r in Review.objects.select_for_update().filter(user=user, book_id__in=book_ids)
    }
    changed: dict[int, bool] = {}
    new: list[Review] = []
    for book, rating, text, created_at in reviews:
        review = existing.get(book.pk)
        if review is not None:
            changed[book.pk] = (review.rating, review.text) != (rating, text)
            _apply(review, rating=rating, text=text)
            continue
        fields = {"user": user, "book": book, "rating": rating, "text": text}
        if created_at is not None:
            fields["created_at"] = created_at
        new.append(Review(**fields))
        changed[book.pk] = True
    if new:
        with transaction.atomic(savepoint=False):
            Review.objects.bulk_create(new)
            for review in new:
                publish(
                    ReviewSubmitted(
                        review_id=review.pk,
                        book_id=review.book_id,
                        user_id=review.user_id,
                        rating=review.rating,
                    )
                )
    return changed
