"""Members' own actions in discovery."""

from __future__ import annotations

from django.db import transaction

from books.models import Book, Genre

from .models import NotInterested, Recommendation


@transaction.atomic
def genre_join(*, user, genre: Genre) -> bool:
    """Join a genre community (add it to favourite genres). The m2m signal publishes
    GenreJoined. Returns False if already a member (nothing published)."""
    if user.favourite_genres.filter(pk=genre.pk).exists():
        return False
    user.favourite_genres.add(genre)
    return True


@transaction.atomic
def genre_leave(*, user, genre: Genre) -> bool:
    """Leave a genre community; GenreLeft is published. False if not a member."""
    if not user.favourite_genres.filter(pk=genre.pk).exists():
        return False
    user.favourite_genres.remove(genre)
    return True


@transaction.atomic
def book_not_interested(*, user, book: Book) -> None:
    """Remember it, and take it off the member's stored recommendations now."""
    NotInterested.objects.get_or_create(user=user, book=book)
    Recommendation.objects.filter(user=user, book=book).delete()
