"""Read paths for likes and reviews: each a fixed number of queries, whatever the size."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import Count, Q, QuerySet

from .models import BookRating, PostLike, Review


def post_like_state(*, post, user) -> dict:
    """The post's like count and whether `user` likes it: one query, answered from the
    (post, user) unique index."""
    if user is not None and user.is_authenticated:
        agg = PostLike.objects.filter(post_id=post.pk).aggregate(
            count=Count("pk"), mine=Count("pk", filter=Q(user_id=user.pk))
        )
        return {"count": agg["count"], "liked": bool(agg["mine"])}
    return {"count": PostLike.objects.filter(post_id=post.pk).count(), "liked": False}


def like_counts(*, post_ids) -> dict[int, int]:
    """Likes per post for a page of cards: one grouped count over the (post, user) unique
    index, so it is always the number of PostLike rows (right after any like or unlike).
    Posts without likes are left out (0)."""
    ids = {int(i) for i in post_ids if i is not None}
    if not ids:
        return {}
    return dict(
        PostLike.objects.filter(post_id__in=ids)
        .order_by()
        .values("post_id")
        .annotate(n=Count("*"))
        .values_list("post_id", "n")
    )


@dataclass(frozen=True)
class ReviewsHead:
    """What the book page's reviews panel needs before its page of reviews."""

    rating: BookRating | None  # the stored aggregate; None before the first rating
    own: Review | None  # the viewer's review of the book
    any_reviews: bool  # whether the book has a review at all (read from the reviews)


def reviews_head(*, book, user) -> ReviewsHead:
    """The book's stored `BookRating`, `review_of()` and whether it has any review, in
    ONE plain query: the book page is the site's hottest, compiling these as ORM queries
    cost more than running them, and most books have no review, so the page of reviews
    (the panel's costliest query) is then not read at all."""
    quote = connection.ops.quote_name
    ratings, reviews = quote(BookRating._meta.db_table), quote(Review._meta.db_table)
    user_id = user.pk if user is not None and user.is_authenticated else None
    # Only table names from the models' metadata are formatted in; values are parameters.
    sql = f"""
        SELECT br.count, br.total, br.average, r.id, r.user_id, r.rating, r.text,
          EXISTS (SELECT 1 FROM {reviews} WHERE book_id = b.book_id)
        FROM (SELECT CAST(%s AS BIGINT) AS book_id) b
        LEFT JOIN {ratings} br ON br.book_id = b.book_id
        LEFT JOIN {reviews} r ON r.book_id = b.book_id AND r.user_id = %s"""  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [book.pk, user_id])
        count, total, average, review_id, review_user, stars, text, any_ = cursor.fetchone()
    rating = own = None
    if count is not None:
        if average is not None and not isinstance(average, Decimal):  # SQLite: a float
            average = Decimal(str(average)).quantize(Decimal("0.01"))
        rating = BookRating.from_db(
            connection.alias,
            ["book_id", "count", "total", "average"],
            [book.pk, count, total, average],
        )
    if review_id is not None:
        own = Review.from_db(
            connection.alias,
            ["id", "book_id", "user_id", "rating", "text"],
            [review_id, book.pk, review_user, stars, text],
        )
    return ReviewsHead(rating=rating, own=own, any_reviews=bool(any_))


def reviews_for_book(*, book) -> QuerySet[Review]:
    return (
        Review.objects.filter(book_id=book.pk).select_related("user").order_by("-created_at", "-id")
    )


def review_of(*, user, book) -> Review | None:
    if user is None or not user.is_authenticated:
        return None
    return Review.objects.filter(user_id=user.pk, book_id=book.pk).first()
