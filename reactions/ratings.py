"""The BookRating read model: recomputed from the review rows, never incremented, so any
sequence of events, repeated or out of order, leaves it right."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection, transaction
from django.db.models import Count, Sum
from django.utils import timezone

from .models import BookRating, Review


def _average(total: int, count: int) -> Decimal | None:
    if not count:
        return None
    return (Decimal(total) / Decimal(count)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


# One statement that checks the book exists, makes its rating row if missing, and locks
# that row until the transaction ends (the no-op DO UPDATE takes the row lock). No row
# back means the book is gone. Works on PostgreSQL and SQLite (3.35+).
_CLAIM_SQL = (
    "INSERT INTO {rating} (book_id, count, total, average, updated_at) "
    "SELECT id, 0, 0, NULL, %s FROM {book} WHERE id = %s "
    "ON CONFLICT (book_id) DO UPDATE SET count = {rating}.count "
    "RETURNING count, total, average"
)


# After the claim holds the lock: recount the book's reviews (an index-only scan of
# review_book_rating) and write the row only if the count or the sum changed. A new
# statement, so under READ COMMITTED it sees every review committed before the lock was
# granted. PostgreSQL's round() on numeric rounds half away from zero (= ROUND_HALF_UP).
_RECOUNT_SQL_PG = (
    "UPDATE {rating} AS r SET count = s.n, total = s.t, "
    "average = CASE WHEN s.n > 0 THEN round(s.t::numeric / s.n, 2) END, updated_at = %s "
    "FROM (SELECT count(*) AS n, coalesce(sum(rating), 0) AS t FROM {review} "
    "WHERE book_id = %s) AS s "
    "WHERE r.book_id = %s AND (r.count, r.total) IS DISTINCT FROM (s.n, s.t) "
    "RETURNING r.count, r.total, r.average"
)


def book_rating_refresh(book_id: int) -> BookRating | None:
    """Recompute one book's count and average from its reviews. Returns None (and keeps no
    row) when the book no longer exists.

    Concurrent refreshes of one book are serialised by the lock on its BookRating row,
    and the reviews are counted *after* the lock is held (a new snapshot per statement
    under READ COMMITTED): the last refresh to run always sees every committed review.
    On PostgreSQL two statements (claim and lock; recount and update if changed), joined
    to the caller's transaction without a savepoint (the consumer's delivery); elsewhere
    three, through the ORM.
    """
    from books.models import Book

    now = timezone.now()
    rating_table = connection.ops.quote_name(BookRating._meta.db_table)
    claim_sql = _CLAIM_SQL.format(
        rating=rating_table, book=connection.ops.quote_name(Book._meta.db_table)
    )
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(claim_sql, [now, book_id])
        claimed = cursor.fetchone()
        if claimed is None:
            BookRating.objects.filter(book_id=book_id).delete()
            return None
        if connection.vendor == "postgresql":
            review_table = connection.ops.quote_name(Review._meta.db_table)
            cursor.execute(
                _RECOUNT_SQL_PG.format(rating=rating_table, review=review_table),
                [now, book_id, book_id],
            )
            updated = cursor.fetchone()
            count, total, average = updated or claimed
            rating = BookRating(book_id=book_id, count=count, total=total, average=average)
            if updated is not None:
                rating.updated_at = now
            return rating
    return _recount_orm(book_id, claimed, now)


def _recount_orm(book_id: int, claimed, now) -> BookRating:
    agg = Review.objects.filter(book_id=book_id).aggregate(n=Count("id"), total=Sum("rating"))
    count, total = agg["n"] or 0, agg["total"] or 0
    average = _average(total, count)
    stored_average = None if claimed[2] is None else Decimal(claimed[2]).quantize(Decimal("0.01"))
    rating = BookRating(book_id=book_id, count=count, total=total, average=average)
    if (claimed[0], claimed[1], stored_average) != (count, total, average):
        BookRating.objects.filter(book_id=book_id).update(
            count=count, total=total, average=average, updated_at=now
        )
        rating.updated_at = now
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
