import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from books.models import Book, BookPost
from books.search import index_posts
from books.suggestions import post_refresh

from .factories import BookFactory, BookPostFactory, GenreFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(client):
    user = UserFactory()
    client.force_login(user)
    return user


# -- creating posts ---------------------------------------------------------------------


def test_signed_out_visitor_is_sent_to_sign_in(client):
    response = client.get(reverse("books:post_create"))
    assert response.status_code == 302 and reverse("accounts:login") in response.url


def test_unverified_member_is_sent_to_verify_first(client):
    client.force_login(UserFactory(unverified=True))
    response = client.get(reverse("books:post_create"))
    assert response.status_code == 302 and reverse("accounts:verify") in response.url


def test_verified_member_shares_a_new_book_by_title_and_author(client, member):
    genre = GenreFactory(name="Fantasy", slug="fantasy")
    response = client.post(
        reverse("books:post_create"),
        {
            "title": "The Sleeping Lantern",
            "authors": "Ada Quill; Bo Ek",
            "isbn": "0-306-40615-2",
            "language": "en",
            "genres": [genre.pk],
            "offer": "lend",
            "condition": "good",
            "location": "York",
        },
    )
    post = BookPost.objects.get()
    assert response.status_code == 302 and response.url == post.get_absolute_url()
    assert post.owner == member and post.book.isbn13 == "9780306406157"
    assert post.book.author_names == "Ada Quill, Bo Ek"


def test_sharing_by_isbn_reuses_the_known_book(client, member):
    book = BookFactory(isbn13="9780306406157")
    client.post(
        reverse("books:post_create"),
        {"isbn": "0306406152", "language": "en", "offer": "give", "condition": "good"},
    )
    assert BookPost.objects.get().book == book
    assert Book.objects.count() == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"isbn": "9780306406158"}, "check digit should be 7"),
        ({"isbn": "12"}, "10 or 13 digits"),
        ({}, "Enter an ISBN, or the book"),
        ({"title": "Only a title"}, "Enter the author too"),
        ({"title": "x" * 301, "authors": "A"}, "at most 300 characters"),
        ({"title": "T", "authors": "A", "location": "y" * 121}, "at most 120 characters"),
        ({"title": "T", "authors": "A", "offer": "sell"}, "Select a valid choice"),
        ({"title": "T", "authors": "A", "year": "-5"}, "greater than or equal to 1450"),
    ],
)
def test_bad_input_gets_a_clear_message(client, member, data, message):
    payload = {"language": "en", "offer": "give", "condition": "good", **data}
    response = client.post(reverse("books:post_create"), payload)
    assert response.status_code == 200
    assert message in response.content.decode().replace("&#x27;", "'")
    assert not BookPost.objects.exists()


def test_a_cover_must_be_an_image(client, member):
    fake = SimpleUploadedFile("cover.jpg", b"MZ not an image", content_type="image/jpeg")
    response = client.post(
        reverse("books:post_create"),
        {
            "title": "T",
            "authors": "A",
            "language": "en",
            "offer": "give",
            "condition": "good",
            "cover": fake,
        },
    )
    assert "Upload a JPEG, PNG, GIF or WebP image" in response.content.decode()


def test_html_in_text_is_escaped_on_output(client, member):
    client.post(
        reverse("books:post_create"),
        {
            "title": "<script>alert(1)</script>",
            "authors": "<b>Bold</b>",
            "language": "en",
            "offer": "give",
            "condition": "good",
            "note": "<img src=x onerror=alert(1)>",
        },
    )
    post = BookPost.objects.get()
    body = client.get(post.get_absolute_url()).content.decode()
    assert "<script>alert(1)</script>" not in body and "&lt;script&gt;" in body
    assert "<img src=x" not in body


# -- editing and removing ---------------------------------------------------------------


def test_owner_edits_their_post(client, member):
    post = BookPostFactory(owner=member)
    response = client.post(
        reverse("books:post_edit", args=[post.pk]),
        {
            "offer": "swap",
            "condition": "fair",
            "location": "Hull",
            "note": "",
            "status": "reserved",
        },
    )
    post.refresh_from_db()
    assert response.status_code == 302
    assert (post.offer, post.status, post.location) == ("swap", "reserved", "Hull")


def test_others_cannot_edit_or_remove_a_post(client, member):
    post = BookPostFactory()
    assert client.get(reverse("books:post_edit", args=[post.pk])).status_code == 404
    assert client.post(reverse("books:post_edit", args=[post.pk]), {}).status_code == 404
    assert client.post(reverse("books:post_remove", args=[post.pk])).status_code == 404
    assert BookPost.objects.filter(pk=post.pk).exists()


def test_owner_removes_their_post_after_confirming(client, member):
    post = BookPostFactory(owner=member)
    assert client.get(reverse("books:post_remove", args=[post.pk])).status_code == 200
    response = client.post(reverse("books:post_remove", args=[post.pk]))
    assert response.status_code == 302
    assert not BookPost.objects.filter(pk=post.pk).exists()


def test_edit_links_show_only_to_the_owner(client, member):
    mine, theirs = BookPostFactory(owner=member), BookPostFactory()
    assert (
        reverse("books:post_edit", args=[mine.pk])
        in client.get(mine.get_absolute_url()).content.decode()
    )
    assert (
        reverse("books:post_edit", args=[theirs.pk])
        not in client.get(theirs.get_absolute_url()).content.decode()
    )


# -- pages and constant query counts ----------------------------------------------------


def count_queries(client, url):
    cache.clear()
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.fixture
def many_posts():
    genre = GenreFactory(name="Fantasy", slug="fantasy")
    owner = UserFactory(username="sharer")
    book = BookFactory(genres=[genre], authors=["Ann Lee", "Bo Ek"])
    posts = [
        BookPostFactory(owner=owner, book=BookFactory(genres=[genre], authors=["A", "B"]))
        for _ in range(12)
    ]
    posts += [BookPostFactory(book=book) for _ in range(12)]
    from lists.services import list_add_book
    from lists.tests.factories import CustomListFactory

    for public in [True] * 7 + [False] * 2:  # "On 7 public lists", five shown
        list_add_book(reading_list=CustomListFactory(is_public=public), book=book)
    index_posts([p.pk for p in posts])
    for post in posts:
        post_refresh(post.pk)
    return {"genre": genre, "owner": owner, "book": book, "post": posts[0]}


@pytest.mark.parametrize(
    ("name", "expected"),
    # Cards prefetch the book's genres (placeholder cover colour); book: the book (with
    # its catalogue details), its post counts with its latest comparison id, its authors
    # with its genres, the page of posts, the public lists it is on (count and first
    # five in one), + the rating with the viewer's review and whether there is any (the
    # book has none, so no page of reviews is read: reactions); post: + the like count;
    # profile: + the member's reading lists (lists/_member_lists.html) and the exchange
    # counts (one aggregate query); genre: + 5 for discovery's community panel
    # (discovery/selectors.py; its top reviewers are cached for a minute, so a warm page
    # makes 4); every page of cards (home, genre, profile, search, post's similar
    # posts): + 1 for their like counts
    [("home", 7), ("genre", 11), ("book", 6), ("profile", 9), ("search", 4), ("post", 8)],
)
def test_pages_use_a_constant_number_of_queries(
    client, settings, many_posts, django_assert_max_num_queries, name, expected
):
    urls = {
        "home": reverse("home"),
        "genre": many_posts["genre"].get_absolute_url(),
        "book": many_posts["book"].get_absolute_url(),
        "profile": reverse("accounts:profile", args=["sharer"]),
        "search": reverse("books:search") + "?q=title&genre=fantasy",
        "post": many_posts["post"].get_absolute_url(),
    }
    settings.BOOKS_PAGE_SIZE = 3
    small = count_queries(client, urls[name])
    settings.BOOKS_PAGE_SIZE = 20
    cache.clear()
    # Never more with a page that shows more (one fewer when everything fits on the
    # first page: then no COUNT, see paginate).
    with django_assert_max_num_queries(expected):
        client.get(urls[name])
    assert small == expected


def test_signed_in_book_page_adds_only_session_member_bell_and_their_lists(
    client, many_posts, django_assert_num_queries
):
    """The site's hottest page, signed in: the 6 queries above + the page of reviews (the
    book has one now) + the session, the member, their unread count (the bell; cached, so
    a warm page skips it), and their lists with which of them hold the book (one query,
    lists_tags)."""
    from reactions.tests.factories import ReviewFactory

    member = UserFactory()
    ReviewFactory(book=many_posts["book"], user=member, rating=4)
    client.force_login(member)
    cache.clear()
    with django_assert_num_queries(11):
        body = client.get(many_posts["book"].get_absolute_url()).content.decode()
    assert "Your review" in body and "Want to read" in body


def test_home_lists_latest_available_posts_and_genre_counts(client, many_posts):
    cache.clear()
    BookPostFactory(book=BookFactory(title="Not Any More"), status="gone")
    body = client.get(reverse("home")).content.decode()
    assert "Not Any More" not in body
    assert 'Fantasy</a> <span class="muted">(24)</span>' in body


def test_genre_page_counts_and_cards_are_shared_and_kept_fresh_by_post_changes(
    client, many_posts, django_capture_on_commit_callbacks
):
    from books.services import post_remove, post_update

    genre = many_posts["genre"]
    url = genre.get_absolute_url()
    cache.clear()
    assert "24 books on offer" in client.get(url).content.decode()
    with CaptureQueriesContext(connection) as ctx:
        client.get(url)  # warm: the counts come from the cache, no COUNT over posts
    assert not [q for q in ctx.captured_queries if "COUNT(" in q["sql"] and "bookpost" in q["sql"]]
    with CaptureQueriesContext(connection) as ctx:
        client.get(url)  # the cards too come from the cache: no query of posts at all
    assert not [q for q in ctx.captured_queries if "books_bookpost" in q["sql"]]
    with django_capture_on_commit_callbacks(execute=True):
        shared = BookPostFactory(book=BookFactory(title="Just Shared", genres=[genre]))
    body = client.get(url).content.decode()
    assert "25 books on offer" in body and "Just Shared" in body
    with django_capture_on_commit_callbacks(execute=True):
        post_update(post=shared, status="gone")  # given away
    assert "24 books on offer" in client.get(url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        post_remove(post=many_posts["post"])
    assert "23 books on offer" in client.get(url).content.decode()
    home = client.get(reverse("home")).content.decode()
    assert 'Fantasy</a> <span class="muted">(23)</span>' in home


def test_post_page_shows_the_stored_similar_posts(client, indexed):
    genre = GenreFactory(name="Fantasy", slug="fantasy")
    a = BookPostFactory(book=BookFactory(title="Ember Queen", genres=[genre]))
    b = BookPostFactory(book=BookFactory(title="Ember Gate", genres=[genre]))
    indexed(a, b)
    body = client.get(a.get_absolute_url()).content.decode()
    assert "Ember Gate" in body


@pytest.mark.parametrize("page", ["-1", "0", "abc", "99999", "1e9", "٣"])
def test_odd_page_numbers_never_fail(client, many_posts, page):
    for url in [reverse("home"), many_posts["genre"].get_absolute_url(), reverse("books:search")]:
        assert client.get(url, {"page": page, "q": "title"}).status_code == 200


def test_missing_things_are_404(client):
    assert client.get(reverse("books:post_detail", args=[999])).status_code == 404
    assert client.get(reverse("books:book_detail", args=[999])).status_code == 404
    assert client.get(reverse("books:genre", args=["nope"])).status_code == 404


# -- search page ------------------------------------------------------------------------


def test_search_shows_count_and_highlights(client, many_posts):
    body = client.get(reverse("books:search"), {"q": "title"}).content.decode()
    assert "24 results" in body and "<mark>Title</mark>" in body


def test_search_by_isbn_goes_to_the_book(client):
    post = BookPostFactory(book=BookFactory(isbn13="9780306406157"))
    index_posts([post.pk])
    response = client.get(reverse("books:search"), {"q": "0-306-40615-2"})
    assert response.status_code == 302 and response.url == post.book.get_absolute_url()


def test_search_corrects_a_typo_and_says_so(client):
    post = BookPostFactory(book=BookFactory(title="The Hobbit", authors=["J. R. R. Tolkien"]))
    index_posts([post.pk])
    body = client.get(reverse("books:search"), {"q": "tolkein"}).content.decode()
    assert "Showing results for <strong>tolkien</strong>" in body
    assert "The Hobbit" in body


def test_no_results_page_helps(client, many_posts):
    cache.clear()
    body = client.get(reverse("books:search"), {"q": "zzzzqqqq"}).content.decode()
    assert "No books found" in body and "Popular genres" in body and "Fantasy" in body


@pytest.mark.parametrize(
    "params",
    [
        {"q": "x" * 5000},
        {"q": "title", "genre": "no-such-genre"},
        {"q": "title", "genre": "../../etc"},
        {"q": "title", "offer": "sell"},
        {"q": "title", "status": "deleted"},
        {"q": "title", "language": "klingon"},
        {"q": '"unterminated AND ( OR'},
        {"q": "-only -exclusions"},
        {"q": "<script>alert(1)</script>"},
    ],
)
def test_nonsense_search_input_never_fails(client, many_posts, params):
    response = client.get(reverse("books:search"), params)
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in response.content.decode()


def test_search_reflects_the_query_escaped(client):
    body = client.get(reverse("books:search"), {"q": '<b>"x"</b>'}).content.decode()
    assert "<b>" not in body.split("<main")[1]


def test_a_first_page_that_holds_everything_needs_no_count_query(rf):
    from books.models import BookPost
    from books.views import paginate

    BookPostFactory.create_batch(3)
    posts = BookPost.objects.order_by("pk")
    every = list(posts.values_list("pk", flat=True))
    with CaptureQueriesContext(connection) as ctx:
        page = paginate(rf.get("/"), posts, per_page=3)
        assert [p.pk for p in page] == every
        assert (page.paginator.count, page.has_next()) == (3, False)
    assert len(ctx.captured_queries) == 1 and "COUNT" not in ctx.captured_queries[0]["sql"]
    BookPostFactory()
    page = paginate(rf.get("/"), posts, per_page=3)
    assert (len(page), page.paginator.count, page.paginator.num_pages) == (3, 4, 2)
    last = paginate(rf.get("/", {"page": "2"}), posts, per_page=3)
    assert [p.pk for p in last] == [posts.last().pk]
    assert paginate(rf.get("/", {"page": "9"}), posts, per_page=3).number == 2


def test_book_detail_reads_authors_in_order_genres_counts_and_latest_comparison():
    """The book page's selector fills in by plain SQL what prefetches and subqueries did:
    the same values, and nothing left to query."""
    from books import selectors
    from catalogue.models import PriceComparison

    fantasy, quest = GenreFactory(name="Fantasy"), GenreFactory(name="Quest")
    book = BookFactory(authors=["Zed First", "Amy Second", "Mo Third"], genres=[quest, fantasy])
    BookPostFactory(book=book)
    BookPostFactory(book=book, status=BookPost.Status.RESERVED)
    BookPostFactory(book=BookFactory())  # another book's post counts for nothing here
    PriceComparison.objects.create(book=book, status="done")
    latest = PriceComparison.objects.create(book=book)

    with CaptureQueriesContext(connection) as ctx:
        found = selectors.book_detail(pk=book.pk)
        names = [credit.author.name for credit in found.credit_list]
        genres = [genre.name for genre in found.genre_list]
        urls = [genre.get_absolute_url() for genre in found.genre_list]
        author_names = found.author_names
    assert len(ctx.captured_queries) == 3
    assert names == ["Zed First", "Amy Second", "Mo Third"]  # credit order, not by name
    assert author_names == "Zed First, Amy Second, Mo Third"
    assert genres == ["Fantasy", "Quest"] and urls[0] == fantasy.get_absolute_url()
    assert (found.posts_total, found.available_copies) == (2, 1)
    assert found.latest_comparison_id == latest.pk
    assert selectors.book_detail(pk=book.pk + 1000) is None


def test_book_detail_of_a_bare_book_has_empty_lists_and_zero_counts():
    from books import selectors

    book = BookFactory(authors=[])
    found = selectors.book_detail(pk=book.pk)
    assert (found.credit_list, found.genre_list) == ([], [])
    assert (found.posts_total, found.available_copies, found.latest_comparison_id) == (0, 0, None)


def test_attach_credits_fills_each_book_of_a_page_in_one_query():
    from books import selectors

    sci = GenreFactory(name="Science")
    one = BookFactory(authors=["Bea Late", "Al Early"], genres=[sci])
    two, bare = BookFactory(authors=["Cy Solo"]), BookFactory(authors=[])
    books = [Book.objects.get(pk=b.pk) for b in (one, two, bare)]
    with CaptureQueriesContext(connection) as ctx:
        selectors.attach_credits([*books, None])
    assert len(ctx.captured_queries) == 1
    assert [b.author_names for b in books] == ["Bea Late, Al Early", "Cy Solo", ""]
    assert "genre_list" not in books[0].__dict__  # not asked for: read as before
    selectors.attach_credits(books, genres=True)
    assert [[g.name for g in b.genre_list] for b in books] == [["Science"], [], []]
