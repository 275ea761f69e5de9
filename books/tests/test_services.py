import pytest
from django.core.exceptions import ValidationError

from books.models import Author, Book, BookPost
from books.services import (
    book_edited,
    book_get_or_create,
    book_match_key,
    post_create,
    post_remove,
    post_share,
    post_update,
    split_author_names,
)

from .factories import BookFactory, BookPostFactory, GenreFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_split_author_names_keeps_order_and_drops_repeats():
    assert split_author_names(" Ann Lee ;Bo Ek\nann lee; ") == ["Ann Lee", "Bo Ek"]


def test_new_book_gets_ordered_authors_and_isbn13_from_isbn10():
    book, created = book_get_or_create(
        isbn="0-306-40615-2", title="Signals", authors=["Zed Last", "Amy First"]
    )
    assert created
    assert book.isbn13 == "9780306406157"
    assert [a.name for a in book.ordered_authors()] == ["Zed Last", "Amy First"]


def test_existing_book_is_reused_by_isbn():
    book, _ = book_get_or_create(isbn="9780306406157", title="Signals", authors=["Zed Last"])
    again, created = book_get_or_create(isbn="0306406152")
    assert not created and again == book


def test_existing_book_is_reused_by_title_and_first_author_ignoring_case_and_accents():
    book = BookFactory(title="Les Misérables", authors=["Victor Hugo"])
    again, created = book_get_or_create(title="les miserables", authors=["VICTOR HUGO"])
    assert not created and again == book


def test_same_title_with_another_first_author_is_another_book():
    BookFactory(title="Collected Poems", authors=["Ann Lee"])
    _, created = book_get_or_create(title="Collected Poems", authors=["Bo Ek"])
    assert created


def test_a_post_never_changes_a_shared_books_isbn():
    """Issue 13.9: posting a known title and author with a new ISBN used to give that
    book the poster's ISBN, for everyone. Now it is another edition."""
    book = BookFactory(title="Signals", authors=["Zed Last"], isbn13="9780131103627")
    other, created = book_get_or_create(isbn="9780306406157", title="Signals", authors=["Zed Last"])
    book.refresh_from_db()
    assert book.isbn13 == "9780131103627"
    assert created and other != book and other.isbn13 == "9780306406157"


def test_a_post_never_gives_an_isbn_to_a_shared_book_without_one():
    book = BookFactory(title="Signals", authors=["Zed Last"])
    other, created = book_get_or_create(isbn="9780306406157", title="Signals", authors=["Zed Last"])
    book.refresh_from_db()
    assert book.isbn13 is None
    assert created and other.isbn13 == "9780306406157"


def test_a_post_never_changes_a_shared_books_genres_or_cover_url():
    book = BookFactory(title="Signals", authors=["Zed Last"])
    genre = GenreFactory(name="Horror")
    again, created = book_get_or_create(
        title="Signals",
        authors=["Zed Last"],
        genres=[genre],
        cover_url="https://tracker.example/pixel.gif",
    )
    book.refresh_from_db()
    assert again == book and not created
    assert not book.genres.exists() and book.cover_url == ""


def test_authors_are_shared_between_books():
    book_get_or_create(title="One", authors=["Émile Zola"])
    book_get_or_create(title="Two", authors=["emile zola"])
    assert Author.objects.count() == 1


def test_unknown_isbn_alone_creates_a_book_whose_details_are_requested():
    from bookshare.eventbus.models import StoredEvent

    book, created = book_get_or_create(isbn="9780306406157")
    assert created and book.title == "ISBN 9780306406157" and book.match_key == ""
    event = StoredEvent.objects.get(type="BookDetailsRequested")
    assert event.data == {"book_id": book.pk, "isbn13": "9780306406157"}


def test_a_members_cover_url_is_never_shown_as_a_link():
    book, _ = book_get_or_create(
        title="Signals", authors=["Zed Last"], cover_url="https://tracker.example/pixel.gif"
    )
    assert book.cover_src == ""


def test_invalid_isbn_is_rejected_with_a_message():
    with pytest.raises(ValidationError, match="check digit"):
        book_get_or_create(isbn="9780306406158", title="X", authors=["Y"])


def test_post_share_creates_book_and_post_in_one_go():
    owner = UserFactory()
    genre = GenreFactory(name="Fantasy", slug="fantasy")
    post = post_share(
        owner=owner,
        title="The Sleeping Lantern",
        authors=["Ada Quill"],
        book_details={"genres": [genre], "description": "A lantern."},
        offer="lend",
        location="York",
    )
    assert post.book.title == "The Sleeping Lantern"
    assert list(post.book.genres.all()) == [genre]
    assert post.offer == "lend" and post.status == "available"


def test_post_share_rolls_back_the_book_when_the_post_fails():
    owner = UserFactory()
    with pytest.raises(ValidationError):
        post_share(owner=owner, title="Rollback", authors=["Ann Lee"], offer="sell")
    assert not Book.objects.filter(title="Rollback").exists()


def test_unverified_member_cannot_post():
    with pytest.raises(ValidationError, match="confirm your email"):
        post_create(owner=UserFactory(unverified=True), book=BookFactory())


def test_post_update_changes_only_editable_fields():
    post = BookPostFactory()
    post_update(post=post, status="gone", note="Given to a neighbour")
    post.refresh_from_db()
    assert post.status == "gone" and post.note == "Given to a neighbour"
    with pytest.raises(ValueError):
        post_update(post=post, owner_id=1)


def test_post_remove_deletes_the_post():
    post = BookPostFactory()
    post_remove(post=post)
    assert not BookPost.objects.filter(pk=post.pk).exists()


def test_book_edited_keeps_the_match_key_in_step_and_republishes_only_when_asked():
    from bookshare.eventbus.models import StoredEvent

    book, _ = book_get_or_create(title="Signals", authors=["Zed Last"])
    BookPostFactory(book=book)
    Book.objects.filter(pk=book.pk).update(title="Signals Again")
    book.refresh_from_db()
    before = StoredEvent.objects.filter(type="BookPostUpdated").count()
    book_edited(book=book, republish=False)
    assert Book.objects.get(pk=book.pk).match_key == book_match_key(
        title="Signals Again", first_author="Zed Last"
    )
    assert StoredEvent.objects.filter(type="BookPostUpdated").count() == before
    book_edited(book=book, republish=True)
    assert StoredEvent.objects.filter(type="BookPostUpdated").count() == before + 1


def test_books_create_many_makes_books_authors_and_credits_like_book_create():
    from books.services import books_create_many
    from bookshare.eventbus.models import StoredEvent

    Author.objects.create(name="Known Author")
    books = books_create_many(
        specs=[
            {"title": "  First   Book ", "authors": ["Known Author", "New One"], "isbn13": None},
            {"title": "Second", "authors": ["new one"], "isbn13": "0306406152", "year": 1999},
        ]
    )
    first, second = (Book.objects.get(pk=b.pk) for b in books)
    assert first.title == "First Book" and first.author_names == "Known Author, New One"
    assert first.match_key == book_match_key(title="First Book", first_author="Known Author")
    assert (second.isbn13, second.year, second.author_names) == ("9780306406157", 1999, "New One")
    assert Author.objects.count() == 2
    requested = StoredEvent.objects.filter(type="BookDetailsRequested")
    assert [e.data["book_id"] for e in requested] == [second.pk]  # only a book with an ISBN
