"""Writing the search index: one upsert per post from its current state.

Called by the `search` queue consumers, by `manage.py search reindex` and by the demo
seed. Idempotent: indexing a post twice gives the same entry; a post that no longer
exists loses its entry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.db import transaction
from django.db.models import Prefetch

from books.models import BookAuthor, BookPost, SearchEntry, SearchTerm
from books.text import content_words, normalize
from bookshare.core.batching import pk_batches

ENTRY_FIELDS = [
    "book_id",
    "owner_id",
    "owner_name",
    "title",
    "subtitle",
    "title_key",
    "authors",
    "genres",
    "genre_slugs",
    "description",
    "note",
    "location",
    "isbn13",
    "language",
    "offer",
    "condition",
    "status",
    "year",
    "cover",
    "created_at",
    "indexed_at",
]


def posts_for_indexing(ids: Iterable[int]):
    return (
        BookPost.objects.filter(pk__in=list(ids))
        .select_related("book", "owner")
        .prefetch_related(
            Prefetch(
                "book__credits",
                queryset=BookAuthor.objects.select_related("author").order_by("position"),
            ),
            "book__genres",
        )
    )


def entry_for(post: BookPost) -> SearchEntry:
    book = post.book
    genres = sorted(book.genres.all(), key=lambda g: g.name)
    return SearchEntry(
        post_id=post.pk,
        book_id=book.pk,
        owner_id=post.owner_id,
        owner_name=post.owner.get_username()[:150],
        title=book.title,
        subtitle=book.subtitle,
        title_key=normalize(book.title)[:300],
        authors=", ".join(a.name for a in book.ordered_authors())[:1000],
        genres=", ".join(g.name for g in genres)[:1000],
        genre_slugs=("|" + "|".join(g.slug for g in genres) + "|" if genres else "")[:1000],
        description=book.description,
        note=post.note,
        location=post.location,
        isbn13=book.isbn13 or "",
        language=book.language,
        offer=post.offer,
        condition=post.condition,
        status=post.status,
        year=book.year,
        cover=book.cover_src[:500],
        created_at=post.created_at,
    )


def vocabulary_of(entry: SearchEntry) -> set[str]:
    # Places too, so a town ("Bath") is a known word and never "corrected" away.
    text = " ".join(
        [
            entry.title,
            entry.subtitle,
            entry.authors,
            entry.genres,
            entry.description,
            entry.location,
        ]
    )
    return set(content_words(text))


def terms_add(words: Iterable[str]) -> None:
    words = sorted({w for w in words if 3 <= len(w) <= 40})
    if words:
        SearchTerm.objects.bulk_create(
            [SearchTerm(word=w) for w in words], ignore_conflicts=True, batch_size=500
        )


@transaction.atomic
def index_posts(ids: Iterable[int]) -> tuple[int, int]:
    """Bring the index entries of these posts up to date. Returns (indexed, removed)."""
    ids = {int(i) for i in ids}
    if not ids:
        return 0, 0
    # By post id: two transactions indexing overlapping posts (a worker's batch, a
    # reindex) lock the entries in the same order and cannot deadlock on them.
    entries = sorted((entry_for(post) for post in posts_for_indexing(ids)), key=lambda e: e.post_id)
    if entries:
        SearchEntry.objects.bulk_create(
            entries,
            update_conflicts=True,
            unique_fields=["post_id"],
            update_fields=ENTRY_FIELDS,
            batch_size=200,
        )
        vocabulary: set[str] = set()
        for entry in entries:
            vocabulary |= vocabulary_of(entry)
        terms_add(vocabulary)
    gone = ids - {e.post_id for e in entries}
    removed = SearchEntry.objects.filter(post_id__in=gone).delete()[0] if gone else 0
    return len(entries), removed


def reindex(
    *, batch_size: int = 500, progress: Callable[[int, int], None] | None = None
) -> tuple[int, int]:
    """Rebuild the whole index in batches of posts, each its own short transaction, so
    the site keeps reading (and writing) throughout. Returns (indexed, removed)."""
    total = BookPost.objects.count()
    done = indexed = removed = 0
    last = 0
    if progress:
        progress(0, total)
    for ids in pk_batches(BookPost.objects.all(), batch_size=batch_size):
        with transaction.atomic():
            n, r = index_posts(ids)
            # Entries for posts that vanished between the previous batch and this one.
            r += (
                SearchEntry.objects.filter(post_id__gt=last, post_id__lt=ids[-1])
                .exclude(post_id__in=ids)
                .delete()[0]
            )
        indexed, removed, done, last = indexed + n, removed + r, done + len(ids), ids[-1]
        if progress:
            progress(min(done, total), total)
    removed += SearchEntry.objects.filter(post_id__gt=last).delete()[0]
    return indexed, removed
