"""Write paths for books and posts. Business rules live here; views and admin call them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from bookshare.eventbus import publish

from .isbn import to_isbn13
from .models import Author, Book, BookAuthor, BookPost, Genre
from .text import normalize, squash_spaces

MAX_AUTHORS = 10


def split_author_names(value: str) -> list[str]:
    """'A. Writer; B. Other' or one name a line → clean, distinct names in order."""
    names: list[str] = []
    seen: set[str] = set()
    for chunk in (value or "").replace("\n", ";").split(";"):
        name = squash_spaces(chunk)[:200]
        key = normalize(name)
        if key and key not in seen:
            seen.add(key)
            names.append(name)
    return names


def book_match_key(*, title: str, first_author: str) -> str:
    return f"{normalize(title)[:250]}|{normalize(first_author)[:140]}"


def author_get_or_create(*, name: str) -> Author:
    name = squash_spaces(name)[:200]
    key = normalize(name)
    if not key:
        raise ValidationError("An author needs a name.")
    author = Author.objects.filter(name_key=key).first()
    if author is not None:
        return author
    try:
        with transaction.atomic():
            return Author.objects.create(name=name)
    except IntegrityError:  # created meanwhile by someone else
        return Author.objects.get(name_key=key)


def book_find(*, isbn13: str | None = None, title: str = "", first_author: str = "") -> Book | None:
    """The known book with this ISBN, or with the same title and first author (ignoring
    case, accents and punctuation)."""
    if isbn13:
        book = Book.objects.filter(isbn13=isbn13).first()
        if book is not None:
            return book
    if title and first_author:
        key = book_match_key(title=title, first_author=first_author)
        return Book.objects.filter(match_key=key).order_by("id").first()
    return None


@transaction.atomic
def book_create(
    *,
    title: str,
    authors: Sequence[str],
    isbn13: str | None = None,
    subtitle: str = "",
    publisher: str = "",
    year: int | None = None,
    language: str = "en",
    description: str = "",
    cover_url: str = "",
    cover=None,
    genres: Iterable[Genre] = (),
    request_details: bool = True,
) -> Book:
    title = squash_spaces(title)[:300]
    authors = [a for a in authors if normalize(a)][:MAX_AUTHORS]
    if not title:
        raise ValidationError("A book needs a title.")
    if not authors:
        raise ValidationError("A book needs at least one author.")
    if isbn13:
        isbn13 = to_isbn13(isbn13)
    book = Book(
        title=title,
        subtitle=squash_spaces(subtitle)[:300],
        isbn13=isbn13 or None,
        publisher=squash_spaces(publisher)[:200],
        year=year,
        language=language,
        description=(description or "").strip()[:5000],
        cover_url=cover_url or "",
        match_key=book_match_key(title=title, first_author=authors[0]),
    )
    if cover:
        book.cover = cover
    book.save()
    BookAuthor.objects.bulk_create(
        [
            BookAuthor(book=book, author=author_get_or_create(name=name), position=i)
            for i, name in enumerate(authors)
        ]
    )
    genres = list(genres)
    if genres:
        book.genres.set(genres)
    if request_details:
        _request_details(book)
    return book


def books_create_many(*, specs: Sequence[dict]) -> list[Book]:
    """`book_create` for many books at once (the library import): the authors are found
    or made in a few statements, the books and their credits inserted in one statement
    each, and each book publishes its BookDetailsRequested as `book_create` does.

    Each spec holds `title`, `authors` and optionally `isbn13`, `publisher`, `year`; the
    caller has checked that there is a title and an author and that no two specs (nor a
    known book) share an ISBN. Runs in the caller's transaction: a clash with a book or
    author made meanwhile raises IntegrityError, for the caller to fall back on
    `book_create`. Returns the books in the order of `specs`.
    """
    books: list[Book] = []
    names: list[list[str]] = []
    for spec in specs:
        title = squash_spaces(spec["title"])[:300]
        authors = [squash_spaces(a)[:200] for a in spec["authors"] if normalize(a)][:MAX_AUTHORS]
        if not title or not authors:
            raise ValidationError("A book needs a title and at least one author.")
        isbn13 = to_isbn13(spec["isbn13"]) if spec.get("isbn13") else None
        books.append(
            Book(
                title=title,
                isbn13=isbn13,
                publisher=squash_spaces(spec.get("publisher") or "")[:200],
                year=spec.get("year"),
                match_key=book_match_key(title=title, first_author=authors[0]),
            )
        )
        names.append(authors)
    if not books:
        return []
    wanted: dict[str, str] = {}
    for name in (n for ns in names for n in ns):
        wanted.setdefault(normalize(name)[:200], name)  # the first spelling names the author
    by_key = {a.name_key: a for a in Author.objects.filter(name_key__in=list(wanted))}
    missing = [Author(name=n, name_key=k) for k, n in wanted.items() if k not in by_key]
    if missing:
        Author.objects.bulk_create(missing, ignore_conflicts=True)
        by_key.update(
            {
                a.name_key: a
                for a in Author.objects.filter(name_key__in=[a.name_key for a in missing])
            }
        )
    with transaction.atomic(savepoint=False):
        Book.objects.bulk_create(books)
        credits = []
        for book, authors in zip(books, names, strict=True):
            seen = set()
            for name in authors:
                author = by_key[normalize(name)[:200]]
                if author.pk not in seen:
                    seen.add(author.pk)
                    credits.append(BookAuthor(book=book, author=author, position=len(seen) - 1))
        BookAuthor.objects.bulk_create(credits)
        for book in books:
            _request_details(book)
    return books


def _request_details(book: Book) -> None:
    """Outside catalogues fill in what a new book lacks, and a cover URL given by a member
    is fetched once by a worker, checked and stored (never shown as a link): the
    `catalogue` app's BookDetailsRequested consumer does both in the background."""
    from catalogue.events import BookDetailsRequested

    if book.isbn13 or (book.cover_url and not book.cover):
        publish(BookDetailsRequested(book_id=book.pk, isbn13=book.isbn13 or ""))


@transaction.atomic
def book_create_from_isbn(*, isbn13: str) -> Book:
    """A book known only by its ISBN: created with the ISBN as its title, then filled in
    from outside catalogues in the background (BookDetailsRequested)."""
    book = Book(
        title=f"ISBN {isbn13}",
        isbn13=isbn13,
        match_key="",  # matches nothing by title until its details arrive
    )
    book.save()
    _request_details(book)
    return book


@transaction.atomic
def book_get_or_create(
    *,
    isbn: str | None = None,
    title: str = "",
    authors: Sequence[str] = (),
    **details,
) -> tuple[Book, bool]:
    """Reuse a known book (by ISBN, else by title + first author) or create it.

    `isbn` may be an ISBN-10 or ISBN-13; it is validated and stored as ISBN-13. A known
    book is never changed by a post: books are shared by every member, so a post with a
    known title and author and an ISBN that book does not have is another edition (a new
    book). An ISBN alone creates a book whose details arrive in the background. Raises
    ValidationError with a message for the member when there is not enough to go on.
    """
    isbn13 = to_isbn13(isbn) if isbn else None
    authors = list(authors)
    if isbn13:
        book = book_find(isbn13=isbn13)
    else:
        book = book_find(title=title, first_author=authors[0] if authors else "")
    if book is not None:
        return book, False
    if isbn13 and not title and not authors:
        return book_create_from_isbn(isbn13=isbn13), True
    if not title or not authors:
        raise ValidationError("Enter an ISBN, or the book's title and author.")
    return book_create(title=title, authors=authors, isbn13=isbn13, **details), True


@transaction.atomic
@transaction.atomic
def book_edited(*, book: Book, republish: bool) -> None:
    """After an edit outside the posting form (the admin): keep the book's match key in
    step with its title and first author, and with `republish`, publish BookPostUpdated
    for each of its posts so the index and suggestions follow the edit."""
    first = book.credits.order_by("position").select_related("author").first()
    if first is not None:
        key = book_match_key(title=book.title, first_author=first.author.name)
        if key != book.match_key:
            Book.objects.filter(pk=book.pk).update(match_key=key)
            book.match_key = key
    if republish:
        for post in book.posts.all():
            post.save(update_fields=["updated_at"])


def post_create(
    *,
    owner,
    book: Book,
    offer: str = BookPost.Offer.GIVE,
    condition: str = BookPost.Condition.GOOD,
    location: str = "",
    note: str = "",
) -> BookPost:
    """A member offers a copy of `book`. Publishes BookPostCreated (from post_save)."""
    if not owner.is_verified:
        raise ValidationError("Please confirm your email address before sharing books.")
    post = BookPost(
        owner=owner,
        book=book,
        offer=offer,
        condition=condition,
        location=squash_spaces(location)[:120],
        note=(note or "").strip()[:2000],
    )
    post.full_clean()
    post.save()
    return post


@transaction.atomic
def post_share(
    *,
    owner,
    isbn: str | None = None,
    title: str = "",
    authors: Sequence[str] = (),
    book_details: dict | None = None,
    offer: str = BookPost.Offer.GIVE,
    condition: str = BookPost.Condition.GOOD,
    location: str = "",
    note: str = "",
) -> BookPost:
    """The `/posts/new/` write path: find or create the book and post it, in one transaction."""
    book, _ = book_get_or_create(isbn=isbn, title=title, authors=authors, **(book_details or {}))
    return post_create(
        owner=owner, book=book, offer=offer, condition=condition, location=location, note=note
    )


POST_EDITABLE = ("offer", "condition", "location", "note", "status")


@transaction.atomic
def post_update(*, post: BookPost, **changes) -> BookPost:
    """Change a post's offer details or status. Publishes BookPostUpdated when anything
    changed."""
    unknown = set(changes) - set(POST_EDITABLE)
    if unknown:
        raise ValueError(f"cannot change {sorted(unknown)}")
    changed = [name for name, value in changes.items() if getattr(post, name) != value]
    if not changed:
        return post
    for name in changed:
        setattr(post, name, changes[name])
    post.full_clean()
    post.save(update_fields=[*changed, "updated_at"])
    return post


@transaction.atomic
def post_remove(*, post: BookPost) -> None:
    """The owner withdraws the post: it is deleted and BookPostRemoved is published.
    (A copy that was given away is marked "gone" with post_update instead.)"""
    post.delete()
