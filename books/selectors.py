"""Read paths used by views and template tags. Every list is a queryset that renders a
page in a constant number of queries (select_related + prefetch of ordered authors)."""

from __future__ import annotations

import uuid

from django.db.models import (
    Case,
    Count,
    IntegerField,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from bookshare.core import cache

from .models import Book, BookAuthor, BookPost, Genre, SimilarPost

AVAILABLE = BookPost.Status.AVAILABLE


def _credits() -> Prefetch:
    return Prefetch(
        "book__credits",
        queryset=BookAuthor.objects.select_related("author").order_by("position"),
    )


def posts_for_cards(qs: QuerySet[BookPost]) -> QuerySet[BookPost]:
    """What a list of post cards needs: book, owner and ordered authors."""
    return qs.select_related("book", "owner").prefetch_related(_credits(), "book__genres")


def posts_latest() -> QuerySet[BookPost]:
    return posts_for_cards(BookPost.objects.filter(status=AVAILABLE)).order_by("-created_at", "-id")


def posts_for_genre(*, genre: Genre) -> QuerySet[BookPost]:
    return posts_for_cards(BookPost.objects.filter(status=AVAILABLE, book__genres=genre)).order_by(
        "-created_at", "-id"
    )


def posts_for_book(*, book: Book) -> QuerySet[BookPost]:
    """Every post of the book, available first."""
    return (
        BookPost.objects.filter(book=book)
        .select_related("owner")
        .annotate(
            status_order=Case(
                When(status=AVAILABLE, then=Value(0)),
                When(status=BookPost.Status.RESERVED, then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            )
        )
        .order_by("status_order", "-created_at", "-id")
    )


def posts_for_member(*, member) -> QuerySet[BookPost]:
    return posts_for_cards(BookPost.objects.filter(owner=member)).order_by("-created_at", "-id")


def post_detail(*, pk: int) -> BookPost | None:
    return (
        BookPost.objects.select_related("book", "owner")
        .prefetch_related(_credits(), "book__genres")
        .filter(pk=pk)
        .first()
    )


def _post_count(**filters) -> Coalesce:
    """The number of the outer book's posts (matching `filters`), as a subquery."""
    posts = (
        BookPost.objects.filter(book=OuterRef("pk"), **filters)
        .order_by()
        .values("book")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Coalesce(Subquery(posts), 0)


def book_detail(*, pk: int) -> Book | None:
    """The book page's book with what its panels read from it, in three queries: the book
    with its catalogue details, the id of its latest price comparison (so a book never
    compared costs no comparison query) and its post counts (`posts_total`,
    `available_copies`: the copies table's paginator and the price table's "free copies"
    row), then its ordered authors and its genres."""
    from catalogue.selectors import with_catalogue

    return (
        with_catalogue(Book.objects.all())
        .annotate(posts_total=_post_count(), available_copies=_post_count(status=AVAILABLE))
        .prefetch_related(
            Prefetch("credits", queryset=BookAuthor.objects.select_related("author")), "genres"
        )
        .filter(pk=pk)
        .first()
    )


def similar_posts(*, post: BookPost) -> list[BookPost]:
    """The stored list, best first, without posts that stopped being available since."""
    rows = (
        SimilarPost.objects.filter(post=post, similar__status=AVAILABLE)
        .select_related("similar__book", "similar__owner")
        .prefetch_related(
            Prefetch(
                "similar__book__credits",
                queryset=BookAuthor.objects.select_related("author").order_by("position"),
            ),
            "similar__book__genres",
        )
        .order_by("-score", "-similar_id")
    )
    return [row.similar for row in rows]


GENRE_COUNTS_CACHE_KEY = "books:genre-post-counts:v2"
GENRE_COUNTS_SECONDS = 60


def genre_post_counts() -> dict[int, int]:
    """Available posts per genre id. Counting means reading every post, so the result is
    cached for a minute (home, genre and no-results pages ask for it on every view) and
    forgotten when a post comes, goes or changes status (signals.py), so a member who
    just shared a book sees it counted. With the cache down, counted from the database
    every time (bookshare/core/cache.py)."""
    return genre_post_counts_and_generation()[0]


def genre_post_counts_and_generation() -> tuple[dict[int, int], str]:
    """The counts, and a token that changes whenever they are counted again (so after any
    post change): the genre page keys its cached cards by it."""
    entry = cache.get(GENRE_COUNTS_CACHE_KEY)
    if not isinstance(entry, dict) or "counts" not in entry:
        # From the available posts to their books' genres (an index probe per post),
        # not from every genre through every book: the posts are far fewer than books.
        counts = dict(
            Book.genres.through.objects.filter(book__posts__status=AVAILABLE)
            .values("genre_id")
            .annotate(n=Count("pk"))
            .order_by()
            .values_list("genre_id", "n")
        )
        entry = {"counts": counts, "generation": uuid.uuid4().hex}
        cache.set(GENRE_COUNTS_CACHE_KEY, entry, GENRE_COUNTS_SECONDS)
    return entry["counts"], entry["generation"]


def forget_genre_post_counts() -> None:
    cache.delete(GENRE_COUNTS_CACHE_KEY)


def genres_with_counts() -> list[Genre]:
    """Every genre with its number of available posts (`post_count`)."""
    counts = genre_post_counts()
    genres = list(Genre.objects.order_by("name"))
    for genre in genres:
        genre.post_count = counts.get(genre.pk, 0)
    return genres


def popular_genres(limit: int = 8) -> list[Genre]:
    """Genres with the most available posts."""
    ranked = [g for g in genres_with_counts() if g.post_count]
    return sorted(ranked, key=lambda g: (-g.post_count, g.name))[:limit]
