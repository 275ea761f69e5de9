"""The post form: ISBN first, lookup as soon as it is complete (htmx) or with the
"Look up" button, and posting that never waits on a provider."""

import pytest
from django.urls import reverse

from books.models import Book, BookPost
from books.tests.factories import BookFactory
from bookshare.eventbus.models import StoredEvent

from .conftest import HOBBIT

# The lookup must run outside a transaction, as in production (no ATOMIC_REQUESTS).
pytestmark = pytest.mark.django_db(transaction=True)


def htmx_lookup(client, **params):
    return client.get(reverse("catalogue:lookup"), params, headers={"HX-Request": "true"})


def test_a_complete_isbn_fills_in_the_book(client, member, fake):
    response = htmx_lookup(client, isbn="978-0-547-92822-7", title="", authors="")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Found: <strong>The Hobbit</strong> by J.R.R. Tolkien (2012)" in body
    assert 'value="The Hobbit"' in body and 'value="J.R.R. Tolkien"' in body
    assert 'value="Mariner Books"' in body
    assert f'name="looked_up" id="id_looked_up" value="{HOBBIT}" hx-swap-oob="true"' in body


def test_what_the_member_typed_is_kept(client, member, fake):
    body = htmx_lookup(client, isbn=HOBBIT, title="My Hobbit").content.decode()
    assert 'value="My Hobbit"' in body and 'value="J.R.R. Tolkien"' in body


def test_an_incomplete_isbn_asks_nothing(client, member, fake):
    body = htmx_lookup(client, isbn="978054").content.decode()
    assert fake.hits == [] and "Found" not in body


def test_a_mistyped_isbn_says_why(client, member, fake):
    body = htmx_lookup(client, isbn="9780547928228").content.decode()
    assert "check digit should be 7" in body and fake.hits == []


def test_a_book_already_on_bookshare_is_not_looked_up(client, member, fake):
    BookFactory(title="Our Hobbit", isbn13=HOBBIT, authors=["J.R.R. Tolkien"])
    body = htmx_lookup(client, isbn=HOBBIT).content.decode()
    assert "Already on BookShare: <strong>Our Hobbit</strong>" in body
    assert fake.hits == []


@pytest.mark.parametrize("mode", ["500", "slow"])
def test_providers_down_or_slow_the_form_says_so_and_asks_for_details(client, member, fake, mode):
    for name in ("openlibrary", "google", "isbndb"):
        fake.modes[name] = mode
    body = htmx_lookup(client, isbn=HOBBIT).content.decode()
    assert "We could not reach the book catalogues just now" in body
    assert "Open Library is " in body  # which one, in words a member can read
    assert 'name="title"' in body and 'name="authors"' in body
    assert "db01.internal" not in body  # the provider's own error text never shows


def test_an_isbn_no_catalogue_knows(client, member, fake):
    for name in ("openlibrary", "google", "isbndb"):
        fake.modes[name] = "not_found"
    body = htmx_lookup(client, isbn=HOBBIT).content.decode()
    assert "The catalogues don&#x27;t know this ISBN" in body


def test_look_up_button_without_scripts_fills_the_form_and_posts_nothing(client, member, fake):
    response = client.post(
        reverse("books:post_create"),
        {"isbn": HOBBIT, "lookup": "1", "offer": "give", "condition": "good", "language": "en"},
    )
    body = response.content.decode()
    assert response.status_code == 200 and not BookPost.objects.exists()
    assert "Found: <strong>The Hobbit</strong>" in body and 'value="The Hobbit"' in body
    assert "This field is required" not in body


def test_posting_a_bare_isbn_never_waits_on_a_provider(client, member, fake, settled_bus):
    # settled_bus: the session worker takes the BookDetailsRequested this publishes; the
    # bus must be quiet before the tables are truncated (a deadlock otherwise).
    fake.modes["openlibrary"] = "slow"
    response = client.post(
        reverse("books:post_create"),
        {"isbn": HOBBIT, "offer": "give", "condition": "good", "language": "en"},
    )
    assert response.status_code == 302
    assert fake.hits == []  # the request asked no provider
    book = Book.objects.get(isbn13=HOBBIT)
    assert BookPost.objects.get().book == book
    assert StoredEvent.objects.filter(type="BookDetailsRequested").count() == 1


def test_post_form_puts_the_isbn_first_and_folds_optional_details(client, member):
    body = client.get(reverse("books:post_create")).content.decode()
    isbn, title, button = (
        body.index('name="isbn"'),
        body.index('name="title"'),
        body.index('type="submit">Share it'),
    )
    assert isbn < title < button
    assert 'name="lookup"' in body  # the "Look up" button works without scripts
    more = body.index("More details (optional)")
    for name in ("subtitle", "publisher", "year", "description", "cover_url"):
        assert body.index(f'name="{name}"') > more
    assert body.count("<details") >= 3
    assert "<script>" not in body and "vendor/htmx.min.js" in body  # no inline script
    assert 'hx-get="/catalogue/lookup/"' in body


BRAVE = "9780060850524"


@pytest.fixture
def two_lookups(settings):
    settings.ACCOUNTS_RATE_LIMITS = {**settings.ACCOUNTS_RATE_LIMITS, "isbn_lookup": (2, 600)}


def test_a_member_looking_up_too_often_is_told_to_wait_with_htmx(client, member, fake, two_lookups):
    from catalogue.tests.conftest import DUNE

    for isbn in (HOBBIT, DUNE):
        assert "Found:" in htmx_lookup(client, isbn=isbn).content.decode()
    asked = len(fake.hits)
    # Incomplete, mistyped and known ISBNs ask no provider, so they are not counted.
    BookFactory(title="Our Copy", isbn13="9780316769488")
    assert "Already on" in htmx_lookup(client, isbn="9780316769488").content.decode()
    htmx_lookup(client, isbn="978054")
    response = htmx_lookup(client, isbn=BRAVE, title="Typed Title")
    body = response.content.decode()
    assert response.status_code == 200  # htmx swaps only 2xx answers
    assert int(response["Retry-After"]) > 0
    assert "You have looked up many ISBNs in a short time" in body
    assert 'value="Typed Title"' in body and 'name="authors"' in body  # type and share
    assert len(fake.hits) == asked  # no provider was asked
    # Another member has a limit of their own.
    from books.tests.factories import UserFactory

    client.force_login(UserFactory())
    assert "Found:" in htmx_lookup(client, isbn=BRAVE).content.decode()


def test_a_member_looking_up_too_often_without_scripts_gets_a_429_page(
    client, member, fake, two_lookups, settled_bus
):
    # settled_bus: the post at the end publishes; the session worker must be done with
    # it before the tables are truncated (CI saw that deadlock).
    from catalogue.tests.conftest import DUNE

    data = {"lookup": "1", "offer": "give", "condition": "good", "language": "en"}
    url = reverse("books:post_create")
    for isbn in (HOBBIT, DUNE):
        assert client.post(url, {**data, "isbn": isbn}).status_code == 200
    response = client.post(url, {**data, "isbn": BRAVE})
    body = response.content.decode()
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert "You have looked up many ISBNs in a short time" in body
    assert 'name="title"' in body and "Share it" in body  # the form is still there
    assert not BookPost.objects.exists()
    # Posting (not looking up) is not limited by it.
    response = client.post(
        url,
        {"isbn": BRAVE, "title": "Brave", "authors": "A. Huxley", "offer": "give"}
        | {"condition": "good", "language": "en"},
    )
    assert response.status_code == 302


def test_the_lookup_limit_fails_open_when_the_cache_is_down(client, member, fake, settings):
    """A dead cache (Redis stopped) loosens the limit to a per-process count and the
    lookup itself still answers, as sign-in does (bookshare/core/cache.py)."""
    from bookshare.core import cache as safe_cache
    from bookshare.testing.services import free_port

    working = settings.CACHES
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/1",
            "OPTIONS": {"socket_timeout": 0.2, "socket_connect_timeout": 0.2},
        }
    }
    settings.ACCOUNTS_RATE_LIMITS = {**settings.ACCOUNTS_RATE_LIMITS, "isbn_lookup": (5, 600)}
    safe_cache.reset()
    try:
        response = htmx_lookup(client, isbn=HOBBIT)
        assert response.status_code == 200 and "Found:" in response.content.decode()
        for _ in range(5):
            htmx_lookup(client, isbn=HOBBIT)
        assert "many ISBNs" in htmx_lookup(client, isbn=HOBBIT).content.decode()
    finally:
        settings.CACHES = working  # before the `fake` fixture clears the cache
        safe_cache.reset()
