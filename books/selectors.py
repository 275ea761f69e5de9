"""Read paths used by views and template tags. Every list is a queryset that renders a
page in a constant number of queries (select_related + prefetch of ordered authors)."""

from __future__ import annotations

import uuid

from django.db import connection
from django.db.models import (
    Case,
    Count,
    IntegerField,
    Prefetch,
    QuerySet,
    Value,
    When,
)

from bookshare.core import cache

from .models import Author, Book, BookAuthor, BookPost, Genre, SimilarPost

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


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _book_page_extras_sql() -> str:
    from catalogue.models import PriceComparison

    post, comparison = _table(BookPost), _table(PriceComparison)
    # Only table names from the models' metadata are formatted in; values are parameters.
    return f"""
        SELECT
          (SELECT COUNT(*) FROM {post} WHERE book_id = %s),
          (SELECT COUNT(*) FROM {post} WHERE book_id = %s AND status = %s),
          (SELECT id FROM {comparison} WHERE book_id = %s
           ORDER BY created_at DESC, id DESC LIMIT 1)"""  # noqa: S608


def _credits_sql(n: int, *, genres: bool) -> str:
    credit, author = _table(BookAuthor), _table(Author)
    genre, book_genre = _table(Genre), _table(Book.genres.through)
    marks = ", ".join(["%s"] * n)
    sql = f"""
        SELECT 0, c.book_id, c.position, c.id, a.id, a.name, ''
        FROM {credit} c JOIN {author} a ON a.id = c.author_id
        WHERE c.book_id IN ({marks})"""  # noqa: S608
    if genres:
        sql += f"""
        UNION ALL
        SELECT 1, bg.book_id, 0, 0, g.id, g.name, g.slug
        FROM {book_genre} bg JOIN {genre} g ON g.id = bg.genre_id
        WHERE bg.book_id IN ({marks})"""  # noqa: S608
    return sql + "\n        ORDER BY 1, 2, 3, 6"


def attach_credits(books, *, genres: bool = False) -> None:
    """Set `credit_list` (credits in order, each with its author) and, with `genres`,
    `genre_list` (by name) on each of `books`, in ONE plain query: what prefetches of
    `credits` with their authors and of `genres` give, for a fraction of their cost (the
    ORM's prefetch machinery costs about five times the query it runs). For hot pages;
    `_book_head.html`, `book_cover`, `author_names` and the list page read these."""
    by_id = {book.pk: book for book in books if book is not None}
    for book in by_id.values():
        book.credit_list = []
        if genres:
            book.genre_list = []
    if not by_id:
        return
    ids = list(by_id)
    with connection.cursor() as cursor:
        cursor.execute(_credits_sql(len(ids), genres=genres), ids * (2 if genres else 1))
        rows = cursor.fetchall()
    for kind, book_id, position, credit_id, ref_id, name, slug in rows:
        book = by_id[book_id]
        if kind == 0:
            credit = BookAuthor(id=credit_id, book=book, position=position)
            credit.author = Author(id=ref_id, name=name)
            book.credit_list.append(credit)
        else:
            book.genre_list.append(Genre(id=ref_id, name=name, slug=slug))


def book_detail(*, pk: int) -> Book | None:
    """The book page's book with what its panels read from it, in three queries:
      1. the book with its catalogue details;
      2. its post counts (`posts_total`, `available_copies`: the copies table's paginator
         and the price table's "free copies" row) and the id of its latest price
         comparison (`latest_comparison_id`, so a book never compared costs no
         comparison query);
      3. its authors in credit order and its genres (`attach_credits`).
    2 and 3 are plain SQL: this page is the site's hottest, and the ORM's compiling of
    three subqueries and two prefetches cost several times what running them does
    (docs/books.md)."""
    book = Book.objects.select_related("catalogue_details").filter(pk=pk).first()
    if book is None:
        return None
    with connection.cursor() as cursor:
        cursor.execute(_book_page_extras_sql(), [pk, pk, AVAILABLE, pk])
        book.posts_total, book.available_copies, book.latest_comparison_id = cursor.fetchone()
    attach_credits([book], genres=True)
    return book


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
