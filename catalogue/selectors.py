"""Read paths for the book page: details, external links and the price table."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.urls import reverse

from books.models import Book, BookPost

from . import providers
from .models import BookDetails, PriceComparison, PriceQuote
from .services import latest_comparison


def book_details(*, book: Book) -> BookDetails | None:
    return BookDetails.objects.filter(book=book).first()


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
    comparison: PriceComparison | None = latest_comparison(book=book)
    rows: list[Row] = []
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
        "can_compare": bool(book.isbn13) and bool(providers.enabled()),
    }
