"""The book page's catalogue panel and the price request's rules (no worker needed)."""

import pytest
from django.urls import reverse

from books.services import book_get_or_create
from books.tests.factories import BookFactory, UserFactory
from catalogue import services
from catalogue.models import JobStatus, PriceComparison, PriceQuote

from .conftest import HOBBIT

pytestmark = pytest.mark.django_db


def test_a_book_known_only_by_its_isbn_says_its_details_are_coming(client):
    book, _ = book_get_or_create(isbn=HOBBIT)
    page = client.get(book.get_absolute_url()).content.decode()
    assert "Details from book catalogues are on their way" in page


def test_external_links_and_a_local_library_from_a_template(client, settings):
    settings.LIBRARY_SEARCH_URL = "https://library.example/search?isbn={isbn}"
    book = BookFactory(isbn13=HOBBIT)
    page = client.get(book.get_absolute_url()).content.decode()
    for url in (
        f"https://openlibrary.org/isbn/{HOBBIT}",
        f"https://books.google.com/books?vid=ISBN{HOBBIT}",
        f"https://search.worldcat.org/search?q=bn:{HOBBIT}",
        f"https://bookshop.org/book/{HOBBIT}",
        f"https://library.example/search?isbn={HOBBIT}",
    ):
        assert url in page


def test_a_book_without_isbn_has_no_links_and_no_price_button(client, member, fake):
    book = BookFactory()
    page = client.get(book.get_absolute_url()).content.decode()
    assert "Elsewhere" not in page and "Compare prices" not in page


def test_compare_prices_needs_a_signed_in_member(client, fake):
    book = BookFactory(isbn13=HOBBIT)
    page = client.get(book.get_absolute_url()).content.decode()
    assert "to compare prices" in page
    response = client.post(reverse("catalogue:prices", args=[book.pk]))
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert not PriceComparison.objects.exists()


def test_one_running_comparison_per_book_and_stale_quotes_are_refreshed(fake, settings):
    book = BookFactory(isbn13=HOBBIT)
    first, started = services.comparison_request(book=book, member=UserFactory())
    again, started_again = services.comparison_request(book=book, member=UserFactory())
    assert started and not started_again and again == first
    PriceComparison.objects.filter(pk=first.pk).update(status=JobStatus.DONE)
    first.refresh_from_db()
    from django.utils import timezone

    PriceComparison.objects.filter(pk=first.pk).update(finished_at=timezone.now())
    reused, started = services.comparison_request(book=book, member=UserFactory())
    assert reused == first and not started
    settings.PRICES_MAX_AGE_HOURS = 0
    fresh, started = services.comparison_request(book=book, member=UserFactory())
    assert started and fresh != first


def test_a_member_asking_too_often_is_told_to_wait(fake, settings):
    from django.core.exceptions import ValidationError

    settings.PRICES_REQUESTS_PER_HOUR = 2
    settings.PRICES_MAX_AGE_HOURS = 0
    member = UserFactory()
    for book in (BookFactory(isbn13=HOBBIT), BookFactory(isbn13="9780441013593")):
        services.comparison_request(book=book, member=member)
    with pytest.raises(ValidationError, match="many price comparisons"):
        services.comparison_request(book=BookFactory(isbn13="9780060850524"), member=member)


def test_prices_are_sorted_cheapest_first_within_a_currency(client, fake):
    from decimal import Decimal

    from django.utils import timezone

    book = BookFactory(isbn13=HOBBIT)
    comparison = PriceComparison.objects.create(
        book=book, status=JobStatus.DONE, finished_at=timezone.now()
    )
    for provider, amount, currency in (
        ("isbndb", "12.00", "USD"),
        ("googlebooks", "3.00", "USD"),
        ("shop", "5.00", "GBP"),
    ):
        PriceQuote.objects.create(
            comparison=comparison,
            provider=provider,
            kind="price",
            condition="new",
            amount=Decimal(amount),
            currency=currency,
            fetched_at=timezone.now(),
        )
    page = client.get(book.get_absolute_url()).content.decode()
    order = [page.index(s) for s in ("5.00 GBP", "3.00 USD", "12.00 USD")]
    assert order == sorted(order)


def test_htmx_compare_prices_shows_why_not_in_the_swapped_section(client, member, fake, settings):
    settings.PRICES_REQUESTS_PER_HOUR = 0
    book = BookFactory(isbn13=HOBBIT)
    response = client.post(
        reverse("catalogue:prices", args=[book.pk]), headers={"HX-Request": "true"}
    )
    body = response.content.decode()
    assert response.status_code == 200 and body.startswith('<section id="prices"')
    assert "many price comparisons this hour" in body
    assert not PriceComparison.objects.exists()


def test_htmx_compare_prices_starts_polling(client, member, fake):
    book = BookFactory(isbn13=HOBBIT)
    body = client.post(
        reverse("catalogue:prices", args=[book.pk]), headers={"HX-Request": "true"}
    ).content.decode()
    assert "Checking prices…" in body and 'hx-trigger="every 2s"' in body
    assert PriceComparison.objects.filter(book=book, requested_by=member).count() == 1
