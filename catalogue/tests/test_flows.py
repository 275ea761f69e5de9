"""The catalogue through a real Celery worker (the session `bus_worker`), whose provider
URLs point at the local stand-ins (see the root conftest)."""

import pytest
from django.db import transaction
from django.urls import reverse

from books.models import Book, BookPost
from books.services import book_create
from books.tests.factories import BookFactory, BookPostFactory
from bookshare.eventbus.models import Delivery
from bookshare.testing import publish_committed, wait_until
from catalogue.events import PriceComparisonRequested
from catalogue.models import BookDetails, JobStatus, PriceComparison, PriceQuote

from .conftest import HOBBIT

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("bus_worker")]


def done(comparison_id: int) -> bool:
    return PriceComparison.objects.filter(pk=comparison_id, status=JobStatus.DONE).exists()


def test_compare_prices_end_to_end(client, member, fake):
    fake.modes["isbndb"] = "500"  # one provider failing: its error text must not show
    book = BookFactory(title="The Hobbit", isbn13=HOBBIT, authors=["J.R.R. Tolkien"])
    BookPostFactory(book=book)
    url = reverse("catalogue:prices", args=[book.pk])

    response = client.post(url)
    assert response.status_code == 302
    comparison = PriceComparison.objects.get(book=book)
    page = client.get(book.get_absolute_url()).content.decode()
    assert "Checking prices…" in page and 'hx-trigger="every 2s"' in page

    wait_until(lambda: done(comparison.pk), timeout=60, message="prices stored")
    quotes = {q.provider: q for q in PriceQuote.objects.filter(comparison=comparison)}
    assert set(quotes) == {"openlibrary", "googlebooks", "isbndb"}
    assert quotes["googlebooks"].kind == "price" and str(quotes["googlebooks"].amount) == "9.99"
    assert quotes["openlibrary"].kind == "borrow"
    assert quotes["isbndb"].kind == "none" and quotes["isbndb"].reason == "unavailable"

    # While polling, htmx gets the table; once done it has no trigger, so polling stops.
    fragment = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "every 2s" not in fragment and "Checking prices" not in fragment
    page = client.get(book.get_absolute_url()).content.decode()
    order = [page.index(s) for s in ("shared by members", "Borrow (e-book loan)", "9.99 GBP")]
    assert order == sorted(order)  # free copies, then loans, then prices
    assert "ISBNdb is not answering at the moment" in page
    assert "db01.internal" not in page and "HTTP 500" not in page

    # Asking again within PRICES_MAX_AGE_HOURS reuses the stored quotes.
    client.post(url)
    assert PriceComparison.objects.filter(book=book).count() == 1


def test_a_repeated_price_comparison_request_stores_one_set_of_quotes(fake, db):
    book = BookFactory(title="The Hobbit", isbn13=HOBBIT, authors=["J.R.R. Tolkien"])
    comparison = PriceComparison.objects.create(book=book)
    event = PriceComparisonRequested(comparison_id=comparison.pk, book_id=book.pk, isbn13=HOBBIT)
    publish_committed(event)
    publish_committed(event)  # the same request again (a double click, a replay)
    wait_until(lambda: done(comparison.pk), timeout=60, message="prices stored")
    wait_until(
        lambda: (
            Delivery.objects.filter(consumer="catalogue.compare_prices", status="done").count() == 2
        ),
        timeout=30,
        message="both deliveries done",
    )
    assert PriceQuote.objects.filter(comparison=comparison).count() == 3
    assert len([h for h in fake.hits if h.startswith("/google/volumes")]) == 1


def test_a_book_posted_by_its_isbn_alone_gets_its_details(client, member, fake, settings, tmp_path):
    response = client.post(
        reverse("books:post_create"),
        {"isbn": HOBBIT, "offer": "give", "condition": "good", "language": "en"},
    )
    assert response.status_code == 302
    book = Book.objects.get(isbn13=HOBBIT)
    assert book.title == f"ISBN {HOBBIT}"

    wait_until(
        lambda: BookDetails.objects.filter(book=book, status=JobStatus.DONE).exists(),
        timeout=60,
        message="details fetched",
    )
    book.refresh_from_db()
    assert book.title == "The Hobbit" and book.author_names == "J.R.R. Tolkien"
    assert (book.year, book.publisher) == (2012, "Mariner Books")
    assert book.cover and book.cover.name.startswith("covers/")
    page = client.get(book.get_absolute_url()).content.decode()
    assert "<h1>The Hobbit</h1>" in page and "<dd>300</dd>" in page
    assert f"https://openlibrary.org/isbn/{HOBBIT}" in page
    assert f"https://bookshop.org/book/{HOBBIT}" in page
    assert BookPost.objects.get().book == book


def _book_with_cover_url(url: str) -> Book:
    with transaction.atomic():
        return book_create(title="Pictured", authors=["A. Painter"], cover_url=url)


def test_a_members_cover_url_is_fetched_once_checked_and_stored(fake):
    book = _book_with_cover_url(f"{fake.base('images')}/cover.png")
    wait_until(
        lambda: BookDetails.objects.filter(book=book, status=JobStatus.DONE).exists(),
        timeout=60,
        message="cover fetched",
    )
    book.refresh_from_db()
    assert book.cover and book.cover_src.startswith("/media/covers/")
    assert fake.hits_for("images") == ["/images/cover.png"]


@pytest.mark.parametrize(
    ("name", "note"),
    [
        ("polyglot.jpg", "The cover was refused"),
        ("page.html", "There is no image at the cover address"),  # text/html: not read
        ("bomb.png", "The cover was refused"),
        # A redirect is followed only through the address check: cloud metadata is not.
        (
            "redirect?to=http://169.254.169.254/latest/meta-data/",
            "The cover address is not a public web address",
        ),
    ],
)
def test_a_members_cover_url_that_is_not_a_clean_image_is_refused(fake, name, note):
    book = _book_with_cover_url(f"{fake.base('images')}/{name}")
    wait_until(
        lambda: BookDetails.objects.filter(book=book, status=JobStatus.DONE).exists(),
        timeout=60,
        message="cover refused",
    )
    book.refresh_from_db()
    details = BookDetails.objects.get(book=book)
    assert not book.cover and book.cover_src == ""
    assert details.cover_note.startswith(note)
    assert fake.hits_for("images") == [f"/images/{name}"]  # fetched once


def test_a_job_whose_task_was_lost_is_sent_again_by_the_sweep(fake):
    from datetime import timedelta

    from django.utils import timezone

    from catalogue import jobs

    book = BookFactory(title="The Hobbit", isbn13=HOBBIT, authors=["J.R.R. Tolkien"])
    # As if the consumer recorded the job but its task never reached the broker.
    comparison = PriceComparison.objects.create(
        book=book, lease_until=timezone.now() - timedelta(seconds=1)
    )
    assert jobs.resume() == 1
    wait_until(lambda: done(comparison.pk), timeout=60, message="swept job done")
    assert PriceQuote.objects.filter(comparison=comparison).count() == 3
    assert jobs.resume() == 0
