"""The BookRating read model: recomputed from the review rows, never incremented, so any
sequence of events, repeated or out of order, leaves it right."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import Count, Sum

from .models import BookRating, Review


def _average(total: int, count: int) -> Decimal | None:
    if not count:
        return None
    return (Decimal(total) / Decimal(count)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@transaction.atomic
def book_rating_refresh(book_id: int) -> BookRating | None:
    """Recompute one book's count and average from its reviews. Returns None (and keeps no
    row) when the book no longer exists.

    Concurrent refreshes of one book are serialised by locking its BookRating row (made
    first with INSERT … ON CONFLICT DO NOTHING), and the reviews are counted *after* the
    lock is held: the last refresh to run always sees every committed review.
    """
    from books.models import Book

    if not Book.objects.filter(pk=book_id).exists():
        BookRating.objects.filter(book_id=book_id).delete()
        return None
    BookRating.objects.bulk_create([BookRating(book_id=book_id)], ignore_conflicts=True)
    rating = BookRating.objects.select_for_update().get(book_id=book_id)
    agg = Review.objects.filter(book_id=book_id).aggregate(n=Count("id"), total=Sum("rating"))
    count, total = agg["n"] or 0, agg["total"] or 0
    average = _average(total, count)
    if (rating.count, rating.total, rating.average) != (count, total, average):
        rating.count, rating.total, rating.average = count, total, average
        rating.save(update_fields=["count", "total", "average", "updated_at"])
    return rating


def rebuild(book_ids: Iterable[int] | None = None) -> int:
    """Recompute the ratings of the given books (default: every book with a review or a
    stored rating). Returns how many books were refreshed."""
    if book_ids is None:
        ids = set(Review.objects.values_list("book_id", flat=True).distinct())
        ids |= set(BookRating.objects.values_list("book_id", flat=True))
    else:
        ids = set(book_ids)
    for book_id in sorted(ids):
        book_rating_refresh(book_id)
    return len(ids)
