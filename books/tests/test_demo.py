from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command

from books import demo
from books.isbn import isbn13_check_digit
from books.models import Book, BookPost, Genre, SearchEntry, SimilarPost
from books.search import search_posts

pytestmark = pytest.mark.django_db


def test_seed_demo_is_idempotent_and_searchable():
    call_command("seed_demo", stdout=StringIO())
    counts = (Genre.objects.count(), Book.objects.count(), BookPost.objects.count())
    assert counts[0] == len(demo.GENRES) and counts[1] >= 300 and counts[2] >= counts[1]
    assert SearchEntry.objects.count() == counts[2]
    assert SimilarPost.objects.exists()
    assert "The Hobbit" in [e.title for e in search_posts("hobbit")[0:5]]
    assert "The Left Hand of Darkness" in [e.title for e in search_posts("le gwin")[0:10]]
    call_command("seed_demo", stdout=StringIO())
    assert (Genre.objects.count(), Book.objects.count(), BookPost.objects.count()) == counts


def test_the_catalogue_has_no_repeated_titles_and_valid_isbns():
    books = demo.catalogue()
    assert len(books) >= 300
    repeated = [t for t, n in Counter(b.title.lower() for b in books).items() if n > 1]
    assert repeated == []
    isbns = [b.isbn13 for b in books if b.isbn13]
    assert len(isbns) >= 100 and len(set(isbns)) == len(isbns)
    for isbn in isbns:
        assert len(isbn) == 13 and isbn.startswith(("978", "979")), isbn
        assert isbn13_check_digit(isbn[:12]) == isbn[12], isbn


def test_every_book_has_authors_and_known_genres():
    slugs = {slug for _, slug, _ in demo.GENRES}
    for book in demo.catalogue():
        assert book.authors and book.title, book
        assert book.genres and set(book.genres) <= slugs, book
        assert book.year is None or 1450 <= book.year <= 2026, book


def test_well_known_books_have_the_right_facts():
    by_title = {b.title: b for b in demo.catalogue()}
    assert by_title["Dune"].authors == ["Frank Herbert"] and by_title["Dune"].year == 1965
    assert "science-fiction" in by_title["Dune"].genres
    assert by_title["The Hobbit"].isbn13 == "9780261102217"
    assert by_title["Good Omens"].authors == ["Terry Pratchett", "Neil Gaiman"]
    assert by_title["The Odyssey"].year is None  # before the years the site accepts
    assert by_title["Pride and Prejudice"].genres[0] == "classics"
