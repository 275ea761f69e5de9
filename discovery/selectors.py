"""Read paths for discovery's pages: lookups of stored rows, a constant number of queries
whatever the data size."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db.models import Count, Prefetch, Sum
from django.utils import timezone

from books.models import Book, BookAuthor, BookPost, Genre

from . import taste, trending
from .models import GenreMember, Recommendation, Signal, Trending, TrendingDay, TrendingGenre


def _books(ids: list[int]) -> dict[int, Book]:
    credits = Prefetch(
        "credits", queryset=BookAuthor.objects.select_related("author").order_by("position")
    )
    return {b.pk: b for b in Book.objects.filter(pk__in=ids).prefetch_related(credits)}


def week_counts(book_ids: list[int], *, now: dt.datetime) -> dict[int, int]:
    since = (now - dt.timedelta(days=6)).date()
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
    now = now or timezone.now()
    if genre is None:
        qs = Trending.objects.all()
    else:
        qs = TrendingGenre.objects.filter(genre_id=genre.pk)
    rows = list(
        qs.filter(score__gt=trending.EPSILON)
        .order_by("-score", "book_id")
        .values_list("book_id", "score")[:limit]
    )
    ids = [b for b, _ in rows]
    books = _books(ids)
    weeks = week_counts(ids, now=now)
    t0 = trending.epoch_for_reading() or now
    out = []
    for book_id, score in rows:
        if book_id in books:
            out.append(
                Ranked(
                    books[book_id],
                    len(out) + 1,
                    trending.decayed(score, t0=t0, now=now),
                    weeks.get(book_id, 0),
                )
            )
    return out


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
    rows = list(
        Recommendation.objects.filter(user=user)
        .order_by("-score", "book_id")
        .values_list("book_id", "reason", "reason_book_id", "reason_genre_id")[: limit * 2]
    )
    if not rows:
        fill = taste.popular_fill(genre_ids=taste.joined_genre_ids(user.pk), limit=limit)
        excluded = taste.excluded_for(user.pk, {c.book_id for c in fill})
        rows = [
            (c.book_id, c.reason, None, c.reason_genre_id)
            for c in fill
            if c.book_id not in excluded
        ][: limit * 2]
    ids = {r[0] for r in rows} | {r[2] for r in rows if r[2]}
    books = _books(list(ids))
    genre_ids = {r[3] for r in rows if r[3]}
    genres = {g.pk: g for g in Genre.objects.filter(pk__in=genre_ids)} if genre_ids else {}
    posts: dict[int, BookPost] = {}
    for post in (
        BookPost.objects.filter(book_id__in=[r[0] for r in rows], status=BookPost.Status.AVAILABLE)
        .exclude(owner=user)
        .select_related("owner")
        .order_by("created_at", "id")
    ):
        posts.setdefault(post.book_id, post)
    items = [
        ForYou(
            book=books[book_id],
            reason=reason,
            reason_book=books.get(reason_book_id),
            reason_genre=genres.get(reason_genre_id),
            post=posts.get(book_id),
        )
        for book_id, reason, reason_book_id, reason_genre_id in rows
        if book_id in books
    ]
    # Stable sort: books someone can lend or give now come first, each group in score order.
    items.sort(key=lambda item: item.post is None)
    return items[:limit]


@dataclass
class Community:
    genre: Genre
    member_count: int
    is_member: bool
    trending: list[Ranked]
    new_members: list = field(default_factory=list)
    recent_reviews: list = field(default_factory=list)
    top_reviewers: list = field(default_factory=list)


def community(*, genre: Genre, user=None, now: dt.datetime | None = None) -> Community:
    now = now or timezone.now()
    User = get_user_model()
    through = User.favourite_genres.through
    member_count = through.objects.filter(genre_id=genre.pk).count()
    is_member = bool(
        user is not None
        and user.is_authenticated
        and through.objects.filter(genre_id=genre.pk, user_id=user.pk).exists()
    )
    new_members = [
        row.user
        for row in GenreMember.objects.filter(genre=genre)
        .select_related("user")
        .order_by("-joined_at", "-id")[:8]
    ]
    genre_books = Book.genres.through.objects.filter(genre_id=genre.pk).values("book_id")
    reviews = list(
        Signal.objects.filter(kind=Signal.Kind.REVIEW, active=True, book_id__in=genre_books)
        .order_by("-added_at", "-id")
        .values_list("user_id", "book_id", "rating", "added_at")[:8]
    )
    reviewers = list(
        Signal.objects.filter(
            kind=Signal.Kind.REVIEW,
            active=True,
            book_id__in=genre_books,
            added_at__gte=now - dt.timedelta(days=90),
        )
        .values("user_id")
        .annotate(n=Count("id"))
        .order_by("-n", "user_id")
        .values_list("user_id", "n")[:5]
    )
    user_ids = {r[0] for r in reviews} | {r[0] for r in reviewers}
    users = {u.pk: u for u in User.objects.filter(pk__in=user_ids)} if user_ids else {}
    titles = dict(
        Book.objects.filter(pk__in=[r[1] for r in reviews]).values_list("pk", "title")
    ) if reviews else {}  # fmt: skip
    return Community(
        genre=genre,
        member_count=member_count,
        is_member=is_member,
        trending=trending_books(genre=genre, limit=10, now=now),
        new_members=new_members,
        recent_reviews=[
            {"user": users[u], "book_id": b, "title": titles[b], "rating": r, "at": at}
            for u, b, r, at in reviews
            if u in users and b in titles
        ],
        top_reviewers=[{"user": users[u], "count": n} for u, n in reviewers if u in users],
    )
