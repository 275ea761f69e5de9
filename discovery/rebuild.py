"""Repair: recompute every derived row from the Signal log (`manage.py discovery rebuild`).

The Signal log is discovery's record of the facts it was told (list items, likes,
reviews, posts, requests); everything else — trending, baskets, pairs, recommendations —
is derived from it here exactly as the consumers derive it one event at a time.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Min
from django.utils import timezone

from books.models import Book

from . import conf, taste, trending
from .models import (
    BookPair,
    BookStat,
    MemberBook,
    Recommendation,
    Signal,
    Trending,
    TrendingDay,
    TrendingEpoch,
    TrendingGenre,
)
from .sql import increment

Progress = Callable[[int, int], None]


@transaction.atomic
def rebuild_trending(*, now: dt.datetime | None = None) -> int:
    now = now or timezone.now()
    for model in (Trending, TrendingGenre, TrendingDay):
        model.objects.all().delete()
    TrendingEpoch.objects.update_or_create(pk=1, defaults={"t0": now})
    # Current weights onto the log: one UPDATE per (kind, visibility).
    Signal.objects.filter(active=False).exclude(trend_weight=0).update(trend_weight=0)
    for kind in Signal.Kind.values:
        for public in (True, False):
            weight = taste.trend_weight(kind, public)
            Signal.objects.filter(active=True, kind=kind, public=public).exclude(
                trend_weight=weight
            ).update(trend_weight=weight)
    if connection.vendor == "postgresql":
        return _trending_in_sql(now)
    scores: dict[int, float] = defaultdict(float)
    days: dict[tuple, int] = defaultdict(int)
    for book_id, weight, added_at in (
        Signal.objects.filter(active=True, trend_weight__gt=0)
        .values_list("book_id", "trend_weight", "added_at")
        .iterator(chunk_size=5000)
    ):
        scores[book_id] += weight * trending.factor(added_at, now)
        days[(book_id, added_at.date())] += 1
    Trending.objects.bulk_create(
        [Trending(book_id=b, score=s) for b, s in scores.items()], batch_size=1000
    )
    rows = Book.genres.through.objects.filter(book_id__in=list(scores)).values_list(
        "genre_id", "book_id"
    )
    TrendingGenre.objects.bulk_create(
        [TrendingGenre(genre_id=g, book_id=b, score=scores[b]) for g, b in rows], batch_size=1000
    )
    TrendingDay.objects.bulk_create(
        [TrendingDay(book_id=b, day=d, count=n) for (b, d), n in days.items()], batch_size=1000
    )
    return len(scores)


def _trending_in_sql(now: dt.datetime) -> int:
    """PostgreSQL: the same three tables from the log in three INSERT … SELECT statements
    (seconds for a million signals, instead of a pass in Python)."""
    q = connection.ops.quote_name
    signal, book, genre, day = (
        q(m._meta.db_table) for m in (Signal, Trending, TrendingGenre, TrendingDay)
    )  # fmt: skip
    book_genres = q(Book.genres.through._meta.db_table)
    live = "active AND trend_weight > 0"
    with connection.cursor() as cursor:
        # Table names from model metadata, quoted; values are parameters.
        cursor.execute(
            f"INSERT INTO {book} (book_id, score) SELECT book_id, "  # noqa: S608
            "sum(trend_weight * power(2.0, extract(epoch FROM (added_at - %s))::float8 / %s)) "
            f"FROM {signal} WHERE {live} GROUP BY book_id",
            [now, conf.half_life_seconds()],
        )
        count = cursor.rowcount
        cursor.execute(
            f"INSERT INTO {genre} (genre_id, book_id, score) "  # noqa: S608
            f"SELECT bg.genre_id, t.book_id, t.score FROM {book} t "
            f"JOIN {book_genres} bg ON bg.book_id = t.book_id"
        )
        cursor.execute(
            f"INSERT INTO {day} (book_id, day, count) "  # noqa: S608
            "SELECT book_id, (added_at AT TIME ZONE 'UTC')::date, count(*) "
            f"FROM {signal} WHERE {live} GROUP BY 1, 2"
        )
    return count


def rebuild_baskets(*, batch_size: int = 200, progress: Progress | None = None) -> int:
    """Every member's basket (their latest DISCOVERY_MEMBER_CAP public positive books),
    pairs and book counts. On PostgreSQL in three INSERT … SELECT statements (millions of
    pairs in seconds); elsewhere batch by batch in Python."""
    in_sql = connection.vendor == "postgresql"
    with transaction.atomic():
        for model in (MemberBook, BookPair, BookStat):
            model.objects.all().delete()
    positive = taste.positive_signals()
    cap = conf.member_cap()
    if in_sql:
        users = _baskets_in_sql(positive, cap)
        if progress:
            progress(users, users)
        return users
    users = sorted(set(positive.values_list("user_id", flat=True)))
    for start in range(0, len(users), batch_size):
        chunk = users[start : start + batch_size]
        per_user: dict[int, list[tuple]] = defaultdict(list)
        for user_id, book_id, since in (
            positive.filter(user_id__in=chunk)
            .values("user_id", "book_id")
            .annotate(since=Min("added_at"))
            .values_list("user_id", "book_id", "since")
        ):
            per_user[user_id].append((since, book_id))
        rows, pairs, stats = [], [], []
        for user_id, books in per_user.items():
            books.sort()
            basket = [b for _, b in books[-cap:]] if cap > 0 else []
            inside = set(basket)
            rows += [
                MemberBook(user_id=user_id, book_id=b, since=s, in_basket=b in inside)
                for s, b in books
            ]
            stats += [(b, 1) for b in basket]
            pairs += [(a, b, 1) for a in basket for b in basket if a != b]
        with transaction.atomic():
            MemberBook.objects.bulk_create(rows, batch_size=1000)
            increment(BookPair, ["book_id", "other_id"], "count", pairs)
            increment(BookStat, ["book_id"], "members", stats)
        if progress:
            progress(min(start + batch_size, len(users)), len(users))
    return len(users)


def _baskets_in_sql(positive, cap: int) -> int:
    """PostgreSQL: baskets, pairs and book counts in three INSERT … SELECT statements.
    A member's basket is their `cap` latest books by (first positive signal, book id), as
    in the batch loop; pairs are a self-join of each member's basket."""
    q = connection.ops.quote_name
    member, pair, stat = (
        q(m._meta.db_table) for m in (MemberBook, BookPair, BookStat)
    )  # fmt: skip
    firsts = positive.values("user_id", "book_id").annotate(since=Min("added_at")).order_by()
    sql, params = firsts.query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        # The inner query is the ORM's (with its parameters); names are quoted metadata.
        cursor.execute(
            f"INSERT INTO {member} (user_id, book_id, since, in_basket) "  # noqa: S608
            "SELECT user_id, book_id, since, row_number() OVER "
            "(PARTITION BY user_id ORDER BY since DESC, book_id DESC) <= %s "
            f"FROM ({sql}) f",
            [cap, *params],
        )
        cursor.execute(f"SELECT count(DISTINCT user_id) FROM {member}")  # noqa: S608
        users = cursor.fetchone()[0]
        # Table names from model metadata, quoted; no values.
        cursor.execute(
            f"INSERT INTO {pair} (book_id, other_id, count) "  # noqa: S608
            f"SELECT a.book_id, b.book_id, count(*) FROM {member} a JOIN {member} b "
            "ON b.user_id = a.user_id AND b.book_id <> a.book_id AND b.in_basket "
            "WHERE a.in_basket GROUP BY a.book_id, b.book_id"
        )
        cursor.execute(
            f"INSERT INTO {stat} (book_id, members) "  # noqa: S608
            f"SELECT book_id, count(*) FROM {member} WHERE in_basket GROUP BY book_id"
        )
    return users


def rebuild_recommendations(*, progress: Progress | None = None) -> int:
    User = get_user_model()
    with_signals = set(Signal.objects.values_list("user_id", flat=True).distinct())
    with_genres = set(
        User.favourite_genres.through.objects.values_list("user_id", flat=True).distinct()
    )
    users = sorted(with_signals | with_genres | set(
        Recommendation.objects.values_list("user_id", flat=True).distinct()
    ))  # fmt: skip
    existing = set(User.objects.filter(pk__in=users).values_list("pk", flat=True))
    for done, user_id in enumerate(users, 1):
        with transaction.atomic():
            if user_id in existing:
                taste.refresh(user_id)
            else:
                Recommendation.objects.filter(user_id=user_id).delete()
        if progress and (done % 50 == 0 or done == len(users)):
            progress(done, len(users))
    return len(users)


def rebuild_signals(*, progress: Progress | None = None) -> int:
    """Refill the Signal log from the tables that hold the facts: list items (lists),
    likes and reviews (reactions), posts (books). Copy requests, whose app is not on main
    yet, keep the rows their events left. Returns the number of signals written."""
    from books.models import BookPost
    from lists.models import ListItem
    from reactions.models import PostLike, Review

    def rows():
        for item in ListItem.objects.select_related("list").iterator(chunk_size=2000):
            yield Signal(
                key=f"item:{item.pk}", user_id=item.owner_id, book_id=item.book_id,
                kind=item.list.kind, public=item.list.is_public, added_at=item.added_at,
            )  # fmt: skip
        for like in PostLike.objects.select_related("post").iterator(chunk_size=2000):
            yield Signal(
                key=f"like:{like.user_id}:{like.post_id}", user_id=like.user_id,
                book_id=like.post.book_id, kind=taste.K.LIKE, added_at=like.created_at,
            )  # fmt: skip
        for review in Review.objects.iterator(chunk_size=2000):
            yield Signal(
                key=f"review:{review.pk}", user_id=review.user_id, book_id=review.book_id,
                kind=taste.K.REVIEW, rating=review.rating, added_at=review.created_at,
            )  # fmt: skip
        for post in BookPost.objects.iterator(chunk_size=2000):
            yield Signal(
                key=f"post:{post.pk}", user_id=post.owner_id, book_id=post.book_id,
                kind=taste.K.POST, added_at=post.created_at,
            )  # fmt: skip

    total = 0
    with transaction.atomic():
        Signal.objects.exclude(kind=taste.K.REQUEST).delete()
        batch: list[Signal] = []
        for signal in rows():
            signal.active, signal.changed_at = True, signal.added_at
            batch.append(signal)
            if len(batch) >= 2000:
                Signal.objects.bulk_create(batch)
                total += len(batch)
                batch = []
                if progress:
                    progress(total, total)
        Signal.objects.bulk_create(batch)
        total += len(batch)
    return total
