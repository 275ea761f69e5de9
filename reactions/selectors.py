"""Read paths for likes and reviews: each a fixed number of queries, whatever the size."""

from __future__ import annotations

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


def book_rating(*, book) -> BookRating | None:
    return BookRating.objects.filter(book_id=book.pk).first()


def reviews_for_book(*, book) -> QuerySet[Review]:
    return (
        Review.objects.filter(book_id=book.pk).select_related("user").order_by("-created_at", "-id")
    )


def review_of(*, user, book) -> Review | None:
    if user is None or not user.is_authenticated:
        return None
    return Review.objects.filter(user_id=user.pk, book_id=book.pk).first()
