"""A small shelf of books, members and posts for the browser tests, made with the
factories in the test process (committed: the tests are transactional) and indexed."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Shelf:
    post_url: str
    book_url: str
    genre_url: str
    member: str
    staff: str
    password: str


def make_shelf() -> Shelf:
    from accounts.tests.factories import PASSWORD, VerifiedUserFactory
    from books.search import index_posts
    from books.tests.factories import BookFactory, BookPostFactory, GenreFactory

    sf = GenreFactory(name="Science fiction", slug="science-fiction")
    classics = GenreFactory(name="Classics", slug="classics")
    member = VerifiedUserFactory(username="marguerite")
    staff = VerifiedUserFactory(username="opsperson", is_staff=True, is_superuser=True)
    left = BookFactory(
        title="The Left Hand of Darkness",
        authors=["Ursula K. Le Guin"],
        genres=[sf],
        year=1969,
        description="An envoy on a winter planet learns what its people are.",
    )
    books = [
        left,
        BookFactory(title="Middlemarch", authors=["George Eliot"], genres=[classics], year=1871),
        BookFactory(title="Dune", authors=["Frank Herbert"], genres=[sf], year=1965),
    ]
    posts = [BookPostFactory(book=b, owner=member, location="Bath") for b in books]
    posts.append(BookPostFactory(book=left, offer="lend", location="York Minster Quarter"))
    index_posts([p.pk for p in posts])
    return Shelf(
        post_url=posts[0].get_absolute_url(),
        book_url=left.get_absolute_url(),
        genre_url=sf.get_absolute_url(),
        member=member.username,
        staff=staff.username,
        password=PASSWORD,
    )
