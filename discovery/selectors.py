"""Read paths for discovery's pages: lookups of stored rows, a constant number of queries
whatever the data size, and few of them: each page's time is mostly round trips, so what
belongs to one row (its book, its week count, a reviewer's name) comes with the row by a
join or a correlated subquery on an index rather than as a query of its own."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Count, OuterRef, Prefetch, Q, Subquery, Sum
from django.utils import timezone

from books.models import Book, BookAuthor, BookPost, Genre
from bookshare.core import cache

from . import taste, trending
from .models import (
    GenreMember,
    Recommendation,
    Signal,
    Trending,
    TrendingDay,
    TrendingEpoch,
    TrendingGenre,
)


def _credits(prefix: str = "") -> Prefetch:
    return Prefetch(
        f"{prefix}credits",
        queryset=BookAuthor.objects.select_related("author").order_by("position"),
    )


def _books(ids: list[int]) -> dict[int, Book]:
    """Books by id with their authors and genres (the card's cover placeholder colour)."""
    books = Book.objects.filter(pk__in=ids).prefetch_related(_credits(), "genres")
    return {b.pk: b for b in books}


def _week_since(now: dt.datetime) -> dt.date:
    return (now - dt.timedelta(days=6)).date()


def _week_count(now: dt.datetime) -> Subquery:
    """This week's signals of the row's book: a correlated sum over at most 7 rows of the
    (book_id, day) unique index."""
    return Subquery(
        TrendingDay.objects.filter(book_id=OuterRef("book_id"), day__gte=_week_since(now))
        .order_by()
        .values("book_id")
        .annotate(n=Sum("count"))
        .values("n")[:1]
    )


def _username(field: str) -> Subquery:
    return Subquery(get_user_model().objects.filter(pk=OuterRef(field)).values("username")[:1])


def week_counts(book_ids: list[int], *, now: dt.datetime) -> dict[int, int]:
    since = _week_since(now)
    return dict(
        TrendingDay.objects.filter(book_id__in=book_ids, day__gte=since)
        .values("book_id")
        .annotate(n=Sum("count"))
        .values_list("book_id", "n")
    )


@dataclass
class Ranked:
    book: Book
    rank: int
    score: float
    week: int


def trending_books(
    *, genre: Genre | None = None, limit: int = 50, now: dt.datetime | None = None
) -> list[Ranked]:
    """Two queries: the top rows with their books, week counts and the epoch (an index
    scan on the score, LIMIT), then the books' authors."""
    now = now or timezone.now()
    if genre is None:
        qs = Trending.objects.all()
    else:
        qs = TrendingGenre.objects.filter(genre_id=genre.pk)
    rows = list(
        qs.filter(score__gt=trending.EPSILON)
        .select_related("book")
        .prefetch_related(_credits("book__"))
        .annotate(
            week=_week_count(now),
            t0=Subquery(TrendingEpoch.objects.filter(pk=1).values("t0")[:1]),
        )
        .order_by("-score", "book_id")[:limit]
    )
    return [
        Ranked(
            row.book,
            rank,
            trending.decayed(row.score, t0=row.t0 or now, now=now),
            row.week or 0,
        )
        for rank, row in enumerate(rows, 1)
    ]


@dataclass
class ForYou:
    book: Book
    reason: str
    reason_book: Book | None = None
    reason_genre: Genre | None = None
    post: BookPost | None = None  # an available copy someone else offers


def for_you(*, user, limit: int = 20) -> list[ForYou]:
    """The member's stored recommendations, available copies first. A member with none
    stored yet gets trending books in their genres, then overall."""
    stored = list(
        Recommendation.objects.filter(user=user)
        .select_related("book", "reason_book", "reason_genre")
        .prefetch_related(_credits("book__"), "book__genres")
        .order_by("-score", "book_id")[: limit * 2]
    )
    if stored:
        items = [
            ForYou(
                book=r.book, reason=r.reason, reason_book=r.reason_book,
                reason_genre=r.reason_genre,
            )
            for r in stored
        ]  # fmt: skip
    else:
        fill = taste.popular_fill(genre_ids=taste.joined_genre_ids(user.pk), limit=limit)
        excluded = taste.excluded_for(user.pk, {c.book_id for c in fill})
        rows = [c for c in fill if c.book_id not in excluded][: limit * 2]
        books = _books([c.book_id for c in rows])
        genre_ids = {c.reason_genre_id for c in rows if c.reason_genre_id}
        genres = {g.pk: g for g in Genre.objects.filter(pk__in=genre_ids)} if genre_ids else {}
        items = [
            ForYou(book=books[c.book_id], reason=c.reason,
                   reason_genre=genres.get(c.reason_genre_id))
            for c in rows
            if c.book_id in books
        ]  # fmt: skip
    posts: dict[int, BookPost] = {}
    for post in (
        BookPost.objects.filter(
            book_id__in=[i.book.pk for i in items], status=BookPost.Status.AVAILABLE
        )
        .exclude(owner=user)
        .select_related("owner")
        .order_by("created_at", "id")
    ):
        posts.setdefault(post.book_id, post)
    for item in items:
        item.post = posts.get(item.book.pk)
    # Stable sort: books someone can lend or give now come first, each group in score order.
    items.sort(key=lambda item: item.post is None)
    return items[:limit]


# Top reviewers count every review of the genre in 90 days: the one part of the genre page
# whose cost grows with the data (tens of ms at 20,000 reviews), so it is kept in the cache
# for a minute per genre. A minute's delay in a 90-day count is not visible.
TOP_REVIEWERS_TTL = 60


def top_reviewers(*, genre: Genre, now: dt.datetime) -> list[tuple[str, int]]:
    """(username, reviews in the genre in 90 days) for the five most active reviewers."""
    key = f"discovery:top-reviewers:{genre.pk}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    top = (
        Signal.objects.filter(
            kind=Signal.Kind.REVIEW,
            active=True,
            book_id__in=Book.genres.through.objects.filter(genre_id=genre.pk).values("book_id"),
            added_at__gte=now - dt.timedelta(days=90),
        )
        .values("user_id")
        .annotate(n=Count("id"))
        .order_by("-n", "user_id")
        .values_list("user_id", "n")[:5]
    )
    # The five with their names: the grouped query as a derived table joined to users
    # (an annotation on the grouped query would be evaluated for every review).
    sql, params = top.query.sql_with_params()
    q = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            # The inner query is the ORM's (with its parameters); names are quoted metadata.
            f"SELECT u.{q('username')}, t.n FROM ({sql}) t "  # noqa: S608
            f"JOIN {q(get_user_model()._meta.db_table)} u ON u.{q('id')} = t.user_id "
            "ORDER BY t.n DESC, t.user_id",
            params,
        )
        rows = [(u, n) for u, n in cursor.fetchall()]
    cache.set(key, rows, TOP_REVIEWERS_TTL)
    return rows


@dataclass
class Community:
    genre: Genre
    member_count: int
    is_member: bool
    trending: list[Ranked]
    new_members: list = field(default_factory=list)
    recent_reviews: list = field(default_factory=list)
    top_reviewers: list = field(default_factory=list)


def genre_membership(*, genre: Genre, user=None) -> tuple[int, bool]:
    """(members, whether `user` is one): one query."""
    through = get_user_model().favourite_genres.through
    me = user.pk if user is not None and user.is_authenticated else None
    members = through.objects.filter(genre_id=genre.pk).aggregate(
        n=Count("pk"), mine=Count("pk", filter=Q(user_id=me))
    )
    return members["n"], bool(members["mine"])


def genre_columns(*, genre: Genre, now: dt.datetime | None = None) -> Community:
    """What the genre's community panel shows to everyone alike (no membership): who
    joined lately, recent reviews and top reviewers (each with the names it shows),
    trending (two). Five queries, four while top reviewers are cached."""
    now = now or timezone.now()
    new_members = list(
        GenreMember.objects.filter(genre=genre)
        .order_by("-joined_at", "-id")
        .values("user__username")[:8]
    )
    genre_books = Book.genres.through.objects.filter(genre_id=genre.pk).values("book_id")
    reviews = list(
        Signal.objects.filter(kind=Signal.Kind.REVIEW, active=True, book_id__in=genre_books)
        .order_by("-added_at", "-id")
        .annotate(
            username=_username("user_id"),
            title=Subquery(Book.objects.filter(pk=OuterRef("book_id")).values("title")[:1]),
        )
        .values_list("username", "book_id", "title", "rating", "added_at")[:8]
    )
    reviewers = top_reviewers(genre=genre, now=now)
    return Community(
        genre=genre,
        member_count=0,
        is_member=False,
        trending=trending_books(genre=genre, limit=10, now=now),
        new_members=[{"username": m["user__username"]} for m in new_members],
        recent_reviews=[
            {"user": {"username": u}, "book_id": b, "title": t, "rating": r, "at": at}
            for u, b, t, r, at in reviews
            if u is not None and t is not None
        ],
        top_reviewers=[{"user": {"username": u}, "count": n} for u, n in reviewers if u],
    )


def community(*, genre: Genre, user=None, now: dt.datetime | None = None) -> Community:
    """The whole panel: `genre_membership` and `genre_columns`."""
    c = genre_columns(genre=genre, now=now)
    c.member_count, c.is_member = genre_membership(genre=genre, user=user)
    return c


def genre_columns_key(genre_id: int) -> str:
    return f"discovery:genre-columns:{genre_id}"
