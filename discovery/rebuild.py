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
from django.db import transaction
from django.db.models import Min, Q
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
            Signal.objects.filter(active=True, kind=kind, public=public).update(
                trend_weight=taste.trend_weight(kind, public)
            )
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


def rebuild_baskets(*, batch_size: int = 200, progress: Progress | None = None) -> int:
    """Every member's basket (their latest DISCOVERY_MEMBER_CAP public positive books)."""
    with transaction.atomic():
        for model in (MemberBook, BookPair, BookStat):
            model.objects.all().delete()
    positive = Signal.objects.filter(active=True, public=True).filter(
        Q(kind__in=taste.POSITIVE_KINDS) | Q(kind=taste.K.REVIEW, rating__gte=4)
    )
    users = sorted(set(positive.values_list("user_id", flat=True)))
    cap = conf.member_cap()
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
