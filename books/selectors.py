"""Read paths used by views and template tags. Every list is a queryset that renders a
page in a constant number of queries (select_related + prefetch of ordered authors)."""

from __future__ import annotations

from django.db.models import Case, Count, IntegerField, Prefetch, Q, QuerySet, Value, When

from .models import Book, BookAuthor, BookPost, Genre, SimilarPost

AVAILABLE = BookPost.Status.AVAILABLE


def _credits() -> Prefetch:
    return Prefetch(
        "book__credits",
        queryset=BookAuthor.objects.select_related("author").order_by("position"),
    )


def posts_for_cards(qs: QuerySet[BookPost]) -> QuerySet[BookPost]:
    """What a list of post cards needs: book, owner and ordered authors."""
    return qs.select_related("book", "owner").prefetch_related(_credits())


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


def book_detail(*, pk: int) -> Book | None:
    return (
        Book.objects.prefetch_related(
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
            )
        )
        .order_by("-score", "-similar_id")
    )
    result = []
    for row in rows:
        row.similar.similarity = row.score
        result.append(row.similar)
    return result


def genres_with_counts() -> QuerySet[Genre]:
    """Every genre with its number of available posts."""
    return Genre.objects.annotate(
        post_count=Count("books__posts", filter=Q(books__posts__status=AVAILABLE))
    ).order_by("name")
