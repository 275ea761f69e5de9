"""Relevance and behaviour of the search backends. The same tests run on SQLite (FTS5)
and, with DATABASE_URL=postgres://…, on PostgreSQL (tsvector + pg_trgm)."""

import pytest
from django.db import connection

from books.models import SearchEntry
from books.search import Filters, book_for_isbn, get_backend, index_posts, parse, search_posts
from bookshare.testing import require_postgres

from .factories import BookFactory, BookPostFactory, GenreFactory

pytestmark = pytest.mark.django_db


def titles(results, n=20):
    return [row.title for row in results[0:n]]


@pytest.fixture
def catalogue():
    fantasy = GenreFactory(name="Fantasy", slug="fantasy")
    science = GenreFactory(name="Science", slug="science")
    books = {
        "hobbit": BookFactory(
            title="The Hobbit",
            authors=["J. R. R. Tolkien"],
            genres=[fantasy],
            isbn13="9780261102217",
            description="A hobbit is swept into a quest with dwarves and a dragon.",
        ),
        "hobbit_guide": BookFactory(
            title="A Walking Guide to Hobbit Country",
            authors=["Mara Feld"],
            genres=[science],
            description="Trails, pubs and hills.",
        ),
        "silmarillion": BookFactory(
            title="The Silmarillion",
            authors=["J. R. R. Tolkien"],
            genres=[fantasy],
            description="Myths of the elder days.",
        ),
        "dragons": BookFactory(
            title="Dragons of the Deep",
            authors=["Ola Brink"],
            genres=[fantasy],
            description="Sea serpents and the sailors who fear them, a hobbit mentioned once.",
        ),
        "cosmos": BookFactory(
            title="Invisible Universe",
            authors=["Émile Carrère"],
            genres=[science],
            description="Atoms, stars and the dark matter between them.",
            language="fr",
        ),
    }
    posts = {key: BookPostFactory(book=book) for key, book in books.items()}
    posts["hobbit_swap"] = BookPostFactory(book=books["hobbit"], offer="swap")
    index_posts([p.pk for p in posts.values()])
    return posts


def test_backend_matches_the_database():
    assert get_backend().vendor == connection.vendor


def test_exact_title_comes_first(catalogue):
    results = search_posts("the hobbit")
    assert titles(results)[:2] == ["The Hobbit", "The Hobbit"]
    assert "A Walking Guide to Hobbit Country" in titles(results)


def test_title_match_ranks_above_description_match(catalogue):
    found = titles(search_posts("dragons"))
    assert found[0] == "Dragons of the Deep"


def test_author_match(catalogue):
    found = set(titles(search_posts("tolkien")))
    assert found == {"The Hobbit", "The Silmarillion"}


def test_accents_are_ignored(catalogue):
    assert titles(search_posts("emile carrere")) == ["Invisible Universe"]


def test_last_word_matches_as_a_prefix(catalogue):
    assert "The Silmarillion" in titles(search_posts("silmar"))


def test_typo_still_finds_the_author(catalogue):
    results = search_posts("tolkein")
    assert results.corrected_from == "tolkein"
    assert set(titles(results)) == {"The Hobbit", "The Silmarillion"}


def test_typo_in_a_title_word(catalogue):
    results = search_posts("silmarilion")
    assert titles(results) == ["The Silmarillion"]


def test_phrase_and_exclusion(catalogue):
    assert titles(search_posts('"hobbit country"')) == ["A Walking Guide to Hobbit Country"]
    found = titles(search_posts("hobbit -dragon"))
    assert "Dragons of the Deep" not in found and "The Hobbit" not in found


def test_or_matches_either(catalogue):
    found = set(titles(search_posts("silmarillion or universe")))
    assert found == {"The Silmarillion", "Invisible Universe"}


def test_genre_filter(catalogue):
    found = set(titles(search_posts("hobbit", filters=Filters(genre="science"))))
    assert found == {"A Walking Guide to Hobbit Country"}


def test_offer_and_language_filters(catalogue):
    assert len(titles(search_posts("hobbit", filters=Filters(offer="swap")))) == 1
    assert titles(search_posts("universe", filters=Filters(language="en"))) == []


def test_status_filter_defaults_to_available(catalogue):
    post = catalogue["silmarillion"]
    post.status = "gone"
    post.save()
    index_posts([post.pk])
    assert titles(search_posts("silmarillion")) == []
    assert titles(search_posts("silmarillion", filters=Filters(status="gone"))) == [
        "The Silmarillion"
    ]
    assert titles(search_posts("silmarillion", filters=Filters(status=None))) == [
        "The Silmarillion"
    ]


def test_isbn_finds_the_book(catalogue):
    book_id = catalogue["hobbit"].book_id
    assert book_for_isbn("978-0-261-10221-7") == book_id
    assert book_for_isbn("0261102214") == book_id  # the ISBN-10 of the same book
    assert book_for_isbn("9780306406157") is None


def test_count_and_pages_agree(catalogue):
    results = search_posts("hobbit")
    assert results.count() == 4
    assert len(results[0:2]) == 2 and len(results[2:4]) == 2
    assert {r.post_id for r in results[0:2]}.isdisjoint({r.post_id for r in results[2:4]})


def test_matches_are_highlighted_and_text_is_escaped():
    post = BookPostFactory(
        book=BookFactory(title="<b>Bold</b> Lantern", description="<script>x</script> lantern")
    )
    index_posts([post.pk])
    (row,) = search_posts("lantern")[0:5]
    assert row.title_html == "&lt;b&gt;Bold&lt;/b&gt; <mark>Lantern</mark>"
    assert "<script>" not in row.snippet_html and "<mark>lantern</mark>" in row.snippet_html


@pytest.mark.parametrize(
    "q",
    [
        '"unterminated',
        "AND OR NOT",
        "*:* ) ( ! & | <-> ' \\",
        "NEAR(a b)",
        "title:foo",
        "-",
        "x" * 500,
        "\x00\x01",
        "🙂🙂",
    ],
)
def test_nonsense_queries_return_an_empty_or_valid_result(catalogue, q):
    results = search_posts(q)
    # Count and page agree, whatever the query parsed to.
    assert len(results[0:5]) == min(results.count(), 5)


def test_only_exclusions_match_nothing(catalogue):
    results = search_posts("-hobbit")
    assert results.parsed.is_empty


def test_deleted_post_leaves_the_index(catalogue):
    pk = catalogue["dragons"].pk
    catalogue["dragons"].delete()
    index_posts([pk])
    assert not SearchEntry.objects.filter(post_id=pk).exists()
    assert "Dragons of the Deep" not in titles(search_posts("dragons"))


def test_indexing_twice_is_idempotent(catalogue):
    post = catalogue["cosmos"]
    index_posts([post.pk])
    index_posts([post.pk])
    assert SearchEntry.objects.filter(post_id=post.pk).count() == 1
    assert titles(search_posts("universe")) == ["Invisible Universe"]


def test_very_common_queries_are_counted_up_to_a_cap(catalogue, monkeypatch):
    import books.search

    monkeypatch.setattr(books.search, "MAX_COUNT", 2)
    results = search_posts("hobbit")
    assert results.count() == 2 and results.capped
    assert not search_posts("silmarillion").capped


@pytest.mark.parametrize(
    "q", ["status", "available", "offer", "swap", "genre", "fantasy", "language", "avai", "gen"]
)
def test_filter_values_are_not_words_of_the_document(catalogue, q):
    # PostgreSQL keeps filter values as marked tokens in the document; they never match
    # a word or prefix of the box. ("fantasy" is the genre's name, which is searchable.)
    expected = 4 if q == "fantasy" else 0
    assert get_backend().count(parse(q), Filters(status=None), limit=50) == expected


def test_filters_combine(catalogue):
    assert titles(search_posts("hobbit", filters=Filters(genre="fantasy", offer="swap"))) == [
        "The Hobbit"
    ]
    assert titles(search_posts("hobbit", filters=Filters(genre="science", offer="swap"))) == []
    assert titles(search_posts("hobbit", filters=Filters(genre="fantasy", status="gone"))) == []
    found = search_posts("tolkien", filters=Filters(genre="fantasy", language="en"))
    assert found.count() == 3


@pytest.mark.parametrize(
    "filters",
    [
        Filters(genre="fan'tasy"),
        Filters(genre="fantasy science"),
        Filters(offer="give' | '~status:available"),
        Filters(language="e\\n"),
    ],
)
def test_odd_filter_values_match_nothing(catalogue, filters):
    results = search_posts("hobbit", filters=filters)
    assert results.count() == 0 and results[0:5] == []


def test_filter_by_a_mixed_case_slug():
    genre = GenreFactory(name="Sci-Fi", slug="Sci-Fi")
    post = BookPostFactory(book=BookFactory(title="Lantern Ships", genres=[genre]))
    index_posts([post.pk])
    assert titles(search_posts("lantern", filters=Filters(genre="Sci-Fi"))) == ["Lantern Ships"]


def test_a_status_change_moves_the_entry_between_filters(catalogue):
    post = catalogue["dragons"]
    post.status = "reserved"
    post.save()
    index_posts([post.pk])
    assert titles(search_posts("dragons", filters=Filters(status="reserved"))) == [
        "Dragons of the Deep"
    ]
    post.status = "available"
    post.save()
    index_posts([post.pk])
    assert titles(search_posts("dragons", filters=Filters(status="reserved"))) == []
    assert titles(search_posts("dragons"), 1) == ["Dragons of the Deep"]


def test_count_and_page_share_one_ranking_query(catalogue, django_assert_num_queries):
    require_postgres()  # PostgreSQL ranks once for the count and the pages
    results = search_posts("hobbit")
    with django_assert_num_queries(1):  # the page's entries; the count ranked them
        rows = results[0:20]
    assert results.count() == 4 and len(rows) == 4
