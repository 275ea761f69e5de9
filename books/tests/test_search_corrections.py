"""First-visit search answers (issue 12): spelling fixes that do not replace good words,
typos in authors, and the last, partial word. Runs on SQLite and PostgreSQL alike."""

import pytest

from books.search import index_posts, search_posts, spelling_fix
from books.search.query import parse

from .factories import BookFactory, BookPostFactory, GenreFactory

pytestmark = pytest.mark.django_db


def titles(results):
    return [row.title for row in results[0:20]]


@pytest.fixture
def shelf():
    sf = GenreFactory(name="Science fiction", slug="science-fiction")
    fantasy = GenreFactory(name="Fantasy", slug="fantasy")
    books = [
        BookFactory(title="The Left Hand of Darkness", authors=["Ursula K. Le Guin"], genres=[sf]),
        BookFactory(title="A Wizard of Earthsea", authors=["Ursula K. Le Guin"], genres=[fantasy]),
        BookFactory(title="The Hobbit", authors=["J. R. R. Tolkien"], genres=[fantasy]),
        BookFactory(title="Orbit of Ice", authors=["Ana Petrov"], genres=[sf]),
        BookFactory(title="An Oath of Swords", authors=["Dan Hale"], genres=[fantasy]),
        BookFactory(title="Lantern Street", authors=["Kit Moss"], genres=[sf]),
    ]
    posts = [BookPostFactory(book=b) for b in books]
    posts.append(BookPostFactory(book=books[4], location="Bath"))
    index_posts([p.pk for p in posts])


@pytest.mark.parametrize(
    "query",
    ["ursula le gwin", "le gwin", "gwin", "left h", "left ha", "left hand of darknes"],
)
def test_author_typos_and_partial_last_word_find_the_book(shelf, query):
    results = search_posts(query)
    assert "The Left Hand of Darkness" in titles(results), query


def test_a_word_that_finds_books_is_not_corrected(shelf):
    results = search_posts("hobbit")
    assert results.corrected_from is None
    assert titles(results) == ["The Hobbit"]


def test_a_town_is_a_known_word_not_a_typo(shelf):
    # "bath" is one edit from "oath" (a title word); it finds the post in Bath.
    assert spelling_fix(parse("bath")) is None
    results = search_posts("bath")
    assert results.corrected_from is None
    assert results.count() == 1


def test_a_query_that_finds_nothing_is_corrected_and_says_what_it_searched(shelf):
    results = search_posts("hobit")
    assert results.corrected_from == "hobit"
    assert results.parsed.raw == "hobbit"
    assert titles(results) == ["The Hobbit"]


def test_search_as_typed_skips_the_correction(shelf):
    results = search_posts("hobit", correct=False)
    assert results.corrected_from is None
    assert results.count() == 0


def test_partial_last_word_that_finds_books_is_not_corrected(shelf):
    results = search_posts("lant")
    assert results.corrected_from is None
    assert titles(results) == ["Lantern Street"]
