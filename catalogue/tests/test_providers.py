"""Every provider client against a local HTTP server answering in its API's shapes."""

from decimal import Decimal

import pytest
from django.db import transaction

from catalogue.providers import (
    CircuitBreaker,
    GoogleBooks,
    ISBNdb,
    Kind,
    OpenLibrary,
    ProviderError,
    RequestInTransaction,
    enabled,
)

from .conftest import DUNE, HOBBIT

PROVIDERS = [(OpenLibrary, "openlibrary"), (GoogleBooks, "google"), (ISBNdb, "isbndb")]


def client_for(cls):
    return cls(base_url=cls.url_setting())


def test_open_library_reads_edition_work_and_authors(fake):
    data = client_for(OpenLibrary).lookup(HOBBIT)
    assert data.title == "The Hobbit" and data.subtitle == "or There and Back Again"
    assert data.authors == ["J.R.R. Tolkien"]
    assert (data.year, data.pages, data.publisher) == (2012, 300, "Mariner Books")
    assert data.description.startswith("Bilbo Baggins")  # from the work
    assert "Fantasy fiction" in data.subjects
    assert data.cover_url == f"{fake.base('covers')}/b/id/8406786-L.jpg"
    paths = fake.hits_for("openlibrary")
    assert paths == [
        f"/openlibrary/isbn/{HOBBIT}.json",
        "/openlibrary/works/OL262758W.json",
        "/openlibrary/authors/OL26320A.json",
    ]


def test_open_library_requests_name_the_site_and_a_contact(fake):
    client_for(OpenLibrary).lookup(HOBBIT)
    agent = fake.requests[0][1]["User-Agent"]
    assert "BookShare" in agent and "books@bookshare.test" in agent


def test_open_library_borrow_availability(fake):
    offer = client_for(OpenLibrary).offer(HOBBIT)
    assert offer.kind == Kind.BORROW and offer.url.endswith("/borrow") and offer.reason == ""
    waiting = client_for(OpenLibrary).offer(DUNE)
    assert waiting.kind == Kind.BORROW and waiting.reason == "waitlist"


def test_google_books_metadata_and_ebook_price_for_the_country(fake, settings):
    settings.PRICES_COUNTRY = "FR"
    provider = client_for(GoogleBooks)
    data = provider.lookup(HOBBIT)
    assert (data.title, data.authors, data.year) == ("The Hobbit", ["J.R.R. Tolkien"], 2012)
    offer = provider.offer(HOBBIT)
    assert offer.kind == Kind.PRICE and offer.condition == "ebook"
    assert (offer.amount, offer.currency) == (Decimal("9.99"), "GBP")
    assert offer.url.startswith("https://play.google.com/")
    assert all("country=FR" in path for path in fake.hits_for("google"))


def test_google_books_no_offer_when_not_for_sale(fake):
    offer = client_for(GoogleBooks).offer("9780060850524")
    assert offer.kind == Kind.NONE and offer.reason == "not_for_sale"


def test_isbndb_is_off_without_a_key_and_sends_the_key(fake, settings):
    settings.ISBNDB_API_KEY = ""
    assert [p.name for p in enabled()] == ["openlibrary", "googlebooks"]
    settings.ISBNDB_API_KEY = "secret-key"
    offer = client_for(ISBNdb).offer(HOBBIT)
    assert (offer.amount, offer.currency, offer.condition) == (Decimal("4.50"), "USD", "used")
    assert fake.requests[-1][1]["Authorization"] == "secret-key"


def test_a_provider_without_a_url_is_off(fake, settings):
    settings.GOOGLE_BOOKS_URL = ""
    assert "googlebooks" not in [p.name for p in enabled()]


@pytest.mark.parametrize(("cls", "prefix"), PROVIDERS)
def test_not_found(fake, cls, prefix):
    fake.modes[prefix] = "not_found"
    assert client_for(cls).lookup(HOBBIT) is None


@pytest.mark.parametrize(("cls", "prefix"), PROVIDERS)
@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("malformed", "bad_response"),
        ("500", "unavailable"),
        ("429", "rate_limited"),
        ("slow", "timeout"),
        ("huge", "bad_response"),
    ],
)
def test_failures_become_a_reason_safe_to_show(fake, cls, prefix, mode, reason):
    fake.modes[prefix] = mode
    with pytest.raises(ProviderError) as caught:
        client_for(cls).lookup(HOBBIT)
    assert caught.value.reason == reason


@pytest.mark.parametrize("mode", ["429", "500"])
def test_429_and_5xx_are_retried_a_bounded_number_of_times(fake, mode):
    fake.modes["google"] = mode
    with pytest.raises(ProviderError):
        client_for(GoogleBooks).lookup(HOBBIT)
    assert len(fake.hits_for("google")) == 3  # the first try and CATALOGUE_HTTP_RETRIES=2


def test_retry_after_is_honoured_within_its_cap(fake, monkeypatch):
    from catalogue.providers import http

    waits = []
    monkeypatch.setattr(http.time, "sleep", waits.append)
    fake.modes["google"] = "429"  # answers Retry-After: 1
    with pytest.raises(ProviderError):
        client_for(GoogleBooks).lookup(HOBBIT)
    assert waits == [0.05, 0.05]  # 1 s asked for, capped by CATALOGUE_RETRY_AFTER_CAP


def test_a_retried_provider_that_recovers_answers(fake, monkeypatch):
    from catalogue.providers import http

    def recover(seconds):
        fake.modes.pop("google", None)

    monkeypatch.setattr(http.time, "sleep", recover)
    fake.modes["google"] = "500"
    assert client_for(GoogleBooks).lookup(HOBBIT).title == "The Hobbit"


def test_no_provider_request_inside_a_database_transaction(fake, transactional_db):
    from catalogue import jobs

    with transaction.atomic(), pytest.raises(RequestInTransaction):
        client_for(GoogleBooks).lookup(HOBBIT)
    with transaction.atomic(), pytest.raises(RequestInTransaction):
        jobs.gather_offers(HOBBIT)
    with transaction.atomic(), pytest.raises(RequestInTransaction):
        jobs.fetch_cover(f"{fake.base('images')}/cover.jpg")
    assert fake.hits == []
    assert client_for(GoogleBooks).lookup(HOBBIT).title == "The Hobbit"  # outside: fine


def test_circuit_breaker_opens_after_repeated_failures_and_is_shared(fake, settings):
    settings.CATALOGUE_HTTP_RETRIES = 0
    fake.modes["google"] = "500"
    for _ in range(3):
        with pytest.raises(ProviderError, match="unavailable"):
            client_for(GoogleBooks).lookup(HOBBIT)
    fake.modes.clear()
    asked = len(fake.hits)
    # A new client (as in another process: the state is in the cache) skips it.
    with pytest.raises(ProviderError) as caught:
        client_for(GoogleBooks).lookup(HOBBIT)
    assert caught.value.reason == "skipped" and len(fake.hits) == asked
    # Other providers are not affected.
    assert client_for(OpenLibrary).lookup(HOBBIT).title == "The Hobbit"


def test_circuit_breaker_half_open_then_closed_by_a_success(fake, settings):
    from django.core.cache import cache

    settings.CATALOGUE_HTTP_RETRIES = 0
    breaker = CircuitBreaker("googlebooks")
    for _ in range(3):
        breaker.record_failure()
    assert breaker.is_open()
    cache.set(breaker.open_key, 0)  # the cooldown has passed
    assert client_for(GoogleBooks).lookup(HOBBIT).title == "The Hobbit"
    assert not breaker.is_open() and cache.get(breaker.failures_key) is None


def test_half_open_failure_opens_the_breaker_again(fake, settings):
    from django.core.cache import cache

    settings.CATALOGUE_HTTP_RETRIES = 0
    breaker = CircuitBreaker("googlebooks")
    for _ in range(3):
        breaker.record_failure()
    cache.set(breaker.open_key, 0)
    fake.modes["google"] = "500"
    with pytest.raises(ProviderError, match="unavailable"):
        client_for(GoogleBooks).lookup(HOBBIT)
    assert breaker.is_open()


def test_a_not_found_does_not_count_against_the_breaker(fake, settings):
    fake.modes["google"] = "not_found"
    for _ in range(5):
        assert client_for(GoogleBooks).lookup(HOBBIT) is None
    assert not CircuitBreaker("googlebooks").is_open()
