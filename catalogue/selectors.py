"""Read paths for the book page: details, external links, the price table and the public
lists a book is on."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import (
    Case,
    IntegerField,
    QuerySet,
    Value,
    When,
)
from django.urls import reverse

from books.models import Book, BookPost
from lists.models import ListItem, ListKind, ReadingList

from . import providers
from .models import BookDetails, PriceComparison, PriceQuote
from .services import latest_comparison


def book_details(*, book: Book) -> BookDetails | None:
    if Book.catalogue_details.is_cached(book):  # loaded by books.selectors.book_detail
        try:
            return book.catalogue_details
        except BookDetails.DoesNotExist:
            return None
    return BookDetails.objects.filter(book=book).first()


def _latest_comparison(book: Book) -> PriceComparison | None:
    if hasattr(book, "latest_comparison_id"):  # set by books.selectors.book_detail
        if book.latest_comparison_id is None:
            return None
        return PriceComparison.objects.filter(pk=book.latest_comparison_id).first()
    return latest_comparison(book=book)


def is_placeholder(*, book: Book) -> bool:
    """A book known only by its ISBN so far (see books.services.book_create_from_isbn)."""
    return bool(book.isbn13) and book.title == f"ISBN {book.isbn13}"


def external_links(*, book: Book) -> list[tuple[str, str]]:
    """(label, URL) for the book elsewhere, built from its ISBN."""
    isbn = book.isbn13
    if not isbn:
        return []
    links = [
        ("Open Library", f"https://openlibrary.org/isbn/{isbn}"),
        ("Google Books", f"https://books.google.com/books?vid=ISBN{isbn}"),
        ("WorldCat", f"https://search.worldcat.org/search?q=bn:{isbn}"),
        ("Bookshop.org", f"https://bookshop.org/book/{isbn}"),
    ]
    if settings.LIBRARY_SEARCH_URL and "{isbn}" in settings.LIBRARY_SEARCH_URL:
        links.append(("Your local library", settings.LIBRARY_SEARCH_URL.replace("{isbn}", isbn)))
    return links


@dataclass
class Row:
    """One line of the price table."""

    kind: str  # "free", "borrow", "price", "none"
    source: str
    what: str
    url: str = ""
    amount: Decimal | None = None
    currency: str = ""
    note: str = ""


def _quote_row(quote: PriceQuote) -> Row:
    label = providers.label(quote.provider)
    if quote.kind == PriceQuote.Kind.PRICE:
        return Row(
            kind="price",
            source=label,
            what=quote.get_condition_display(),
            url=quote.url,
            amount=quote.amount,
            currency=quote.currency,
        )
    if quote.kind == PriceQuote.Kind.BORROW:
        return Row(
            kind="borrow",
            source=label,
            what="Borrow (e-book loan)",
            url=quote.url,
            note="waiting list" if quote.reason == "waitlist" else "available",
        )
    reason = providers.REASONS.get(quote.reason, providers.REASONS["unavailable"])
    return Row(kind="none", source=label, what="—", note=f"{label} {reason}.")


def price_table(*, book: Book) -> dict:
    """Free copies on BookShare first, then loans, then prices cheapest first within a
    currency, then providers without an offer (with a reason safe to show)."""
    comparison = _latest_comparison(book)
    rows: list[Row] = []
    free = getattr(book, "available_copies", None)  # annotated by books.selectors.book_detail
    if free is None:
        free = BookPost.objects.filter(book=book, status=BookPost.Status.AVAILABLE).count()
    if free:
        rows.append(
            Row(
                kind="free",
                source=settings.SITE_NAME,
                what=f"{free} cop{'y' if free == 1 else 'ies'} shared by members",
                url=reverse("books:book_detail", kwargs={"pk": book.pk}) + "#copies",
                amount=Decimal("0"),
                note="free to give away, lend or swap",
            )
        )
    if comparison is not None:
        quote_rows = [_quote_row(q) for q in comparison.quotes.all()]
        rows += [r for r in quote_rows if r.kind == "borrow"]
        rows += sorted(
            (r for r in quote_rows if r.kind == "price"),
            key=lambda r: (r.currency, r.amount or 0, r.source),
        )
        rows += [r for r in quote_rows if r.kind == "none"]
    return {
        "comparison": comparison,
        "rows": rows,
        "checking": comparison is not None and comparison.waiting,
        "can_compare": bool(book.isbn13) and providers.any_enabled(),
    }


# -- "On lists": the public reading lists a book is on -------------------------------------
ON_LISTS_SHOWN = 5  # on the book page; the rest are on /books/<id>/lists/


def public_list_items(*, book: Book) -> QuerySet[ListItem]:
    """The book's items on PUBLIC lists (a private list is never shown, not even to its
    owner here), with list and owner: members' own lists first, then built-in ones,
    each most recently added first."""
    return (
        ListItem.objects.filter(book=book, list__is_public=True)
        .select_related("list__owner")
        .only(
            "id",
            "added_at",
            "list__id",
            "list__name",
            "list__kind",
            "list__owner__id",
            "list__owner__username",
        )
        .annotate(
            custom_first=Case(
                When(list__kind=ListKind.CUSTOM, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("custom_first", "-added_at", "-id")
    )


@dataclass
class ListLink:
    name: str
    url: str
    owner: str
    owner_url: str


@dataclass
class OnLists:
    total: int
    lists: list[ListLink]

    @property
    def more(self) -> int:
        return self.total - len(self.lists)


def _on_lists_sql() -> str:
    quote = connection.ops.quote_name
    item, rl, user = (quote(m._meta.db_table) for m in (ListItem, ReadingList, get_user_model()))
    # Only table names from the models' metadata are formatted in; values are parameters.
    return f"""
        SELECT rl.id, rl.name, u.username, COUNT(*) OVER () AS total
        FROM {item} li
        JOIN {rl} rl ON rl.id = li.list_id
        JOIN {user} u ON u.id = rl.owner_id
        WHERE li.book_id = %s AND rl.is_public = %s
        ORDER BY CASE WHEN rl.kind = %s THEN 0 ELSE 1 END, li.added_at DESC, li.id DESC
        LIMIT %s"""  # noqa: S608


def public_lists_with_book(*, book: Book, limit: int = ON_LISTS_SHOWN) -> OnLists:
    """How many public lists the book is on, and the first `limit` of them (the order
    of public_list_items): ONE query, the total a window count over the same rows taken
    before the LIMIT. Plain SQL: the book page is hot and the ORM's compilation of this
    query cost more than running it."""
    with connection.cursor() as cursor:
        cursor.execute(_on_lists_sql(), [book.pk, True, ListKind.CUSTOM, limit])
        rows = cursor.fetchall()
    links = [
        ListLink(
            name=name,
            url=reverse("lists:detail", args=[pk]),
            owner=username,
            owner_url=reverse("accounts:profile", args=[username]),
        )
        for pk, name, username, _ in rows
    ]
    return OnLists(total=rows[0][3] if rows else 0, lists=links)
