import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from books.search import index_posts
from books.tests.factories import BookPostFactory
from bookshare.eventbus.models import StoredEvent
from lists import services
from lists.models import ImportJob, ListItem, ReadingList

from .csvfiles import GOODREADS_HEADER, goodreads_row, to_csv
from .factories import BookFactory, CustomListFactory, UserFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def builtin(user):
    return services.lists_ensure_builtin(user=user)


@pytest.fixture
def member(client):
    user = UserFactory(username="reader")
    client.force_login(user)
    return user


# -- One-click buttons ---------------------------------------------------------------------


def test_book_page_shows_the_members_status_and_buttons(client, member):
    book = BookFactory(title="Dune")
    services.status_set(user=member, book=book, status="reading")
    page = client.get(book.get_absolute_url()).content.decode()
    assert "Your reading status: <strong>Reading</strong>" in page
    assert 'aria-pressed="true" title="Remove from Reading"' in page
    assert f'hx-post="{reverse("lists:book_update", args=[book.pk])}"' in page


def test_post_page_shows_the_status_too(client, member):
    post = BookPostFactory()
    services.status_set(user=member, book=post.book, status="read")
    assert (
        "Your reading status: <strong>Read</strong>"
        in client.get(post.get_absolute_url()).content.decode()
    )


def test_signed_out_visitors_get_a_sign_in_link_not_buttons(client):
    book = BookFactory()
    page = client.get(book.get_absolute_url()).content.decode()
    assert "to keep reading lists" in page and "lists:book_update" not in page
    assert reverse("lists:book_update", args=[book.pk]) not in page


def test_plain_post_adds_and_redirects_back_without_scripts(client, member):
    book = BookFactory()
    reading = builtin(member)["reading"]
    response = client.post(
        reverse("lists:book_update", args=[book.pk]),
        {"add": reading.pk, "next": book.get_absolute_url()},
    )
    assert response.status_code == 302 and response["Location"] == book.get_absolute_url()
    assert ListItem.objects.filter(list=reading, book=book).exists()
    page = client.get(book.get_absolute_url()).content.decode()
    assert "is on Reading" in page  # the message


def test_htmx_post_returns_the_button_block_to_swap_in_place(client, member):
    book = BookFactory()
    lists = builtin(member)
    client.post(reverse("lists:book_update", args=[book.pk]), {"add": lists["reading"].pk})
    response = client.post(
        reverse("lists:book_update", args=[book.pk]), {"add": lists["read"].pk}, **HTMX
    )
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert body.lstrip().startswith(f'<div class="list-controls" id="list-controls-{book.pk}">')
    assert "Your reading status: <strong>Read</strong>" in body
    assert list(
        StoredEvent.objects.filter(type="ReadingStatusChanged").values_list(
            "data__status", flat=True
        )
    ) == ["read"]
    response = client.post(
        reverse("lists:book_update", args=[book.pk]), {"remove": lists["read"].pk}, **HTMX
    )
    assert "Not on your reading lists" in response.content.decode()


def test_an_open_redirect_in_next_is_ignored(client, member):
    book = BookFactory()
    response = client.post(
        reverse("lists:book_update", args=[book.pk]),
        {"add": builtin(member)["favourites"].pk, "next": "https://evil.example/"},
    )
    assert response["Location"] == book.get_absolute_url()


def test_someone_elses_list_is_404_for_the_button(client, member):
    other_list = CustomListFactory(is_public=True)
    book = BookFactory()
    response = client.post(reverse("lists:book_update", args=[book.pk]), {"add": other_list.pk})
    assert response.status_code == 404
    for bad in ({"add": "x"}, {}, {"remove": ""}):
        assert client.post(reverse("lists:book_update", args=[book.pk]), bad).status_code == 404
    assert client.post(reverse("lists:book_update", args=[999999]), {"add": 1}).status_code == 404
    assert not ListItem.objects.exists()


def test_buttons_need_csrf_and_a_signed_in_member():
    book = BookFactory()
    user = UserFactory()
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    url = reverse("lists:book_update", args=[book.pk])
    assert strict.post(url, {"add": builtin(user)["reading"].pk}).status_code == 403
    anonymous = Client()
    assert anonymous.post(url, {"add": builtin(user)["reading"].pk}).status_code == 302
    assert anonymous.get(url).status_code in (302, 405)
    assert not ListItem.objects.exists()


def test_search_results_have_compact_buttons(client, member):
    posts = [BookPostFactory(book=BookFactory(title=f"Lantern tale {i}")) for i in range(3)]
    index_posts([p.pk for p in posts])
    services.list_add_book(reading_list=builtin(member)["favourites"], book=posts[0].book)
    page = client.get(reverse("books:search"), {"q": "lantern"}).content.decode()
    assert page.count('class="list-controls compact"') == 3
    assert "✓ Favourites" in page


# -- Pages and privacy -----------------------------------------------------------------------


def test_private_list_is_404_to_others_and_to_visitors_on_every_page(client, member):
    owner = UserFactory(username="owner")
    secret = CustomListFactory(owner=owner, name="Secret shelf", is_public=False)
    book = BookFactory()
    services.list_add_book(reading_list=secret, book=book)
    urls = [
        reverse("lists:detail", args=[secret.pk]),
        reverse("lists:edit", args=[secret.pk]),
        reverse("lists:delete", args=[secret.pk]),
    ]
    item = secret.items.get()
    for viewer in (client, Client()):
        for url in urls:
            assert viewer.get(url).status_code in (404, 302), url
        profile = viewer.get(reverse("accounts:profile", args=["owner"])).content.decode()
        assert "Secret shelf" not in profile
        assert "Secret shelf" not in viewer.get(book.get_absolute_url()).content.decode()
    assert client.get(urls[0]).status_code == 404
    assert client.get(urls[1]).status_code == 404
    assert Client().get(urls[0]).status_code == 404
    for name in ("item_move", "item_note", "item_remove"):
        url = reverse(f"lists:{name}", args=[secret.pk, item.pk])
        assert client.post(url, {"direction": "up", "note": "x"}).status_code == 404
    assert (
        client.post(reverse("lists:reorder", args=[secret.pk]), {"item": item.pk}).status_code
        == 404
    )
    assert secret.items.count() == 1
    owner_client = Client()
    owner_client.force_login(owner)
    assert owner_client.get(urls[0]).status_code == 200
    assert (
        "Secret shelf"
        in owner_client.get(reverse("accounts:profile", args=["owner"])).content.decode()
    )


def test_profile_lists_each_public_list_by_name_with_a_link(client, member):
    owner = UserFactory(username="shelver")
    shelf = CustomListFactory(owner=owner, name="Cosy mysteries")
    page = client.get(reverse("accounts:profile", args=["shelver"])).content.decode()
    assert f'<a href="{shelf.get_absolute_url()}">Cosy mysteries</a>' in page
    assert ">Want to read</a>" in page


def test_list_page_shows_books_and_owner_controls_only_to_the_owner(client, member):
    shelf = CustomListFactory(owner=member, name="Mine")
    book = BookFactory(title="Shown Book", cover_url="https://covers.example/1.jpg")
    services.list_add_book(reading_list=shelf, book=book, note="for Ben")
    page = client.get(shelf.get_absolute_url()).content.decode()
    assert "Shown Book" in page
    assert "covers.example" not in page  # outside cover URLs are never hot-linked
    assert "Save note" in page and "data-reorder-url" in page
    visitor = Client()
    other_page = visitor.get(shelf.get_absolute_url()).content.decode()
    assert "Shown Book" in other_page and "for Ben" in other_page
    assert "Save note" not in other_page and "data-reorder-url" not in other_page


def test_owner_moves_notes_removes_and_reorders(client, member):
    shelf = CustomListFactory(owner=member)
    a, b = (services.list_add_book(reading_list=shelf, book=BookFactory(title=t))[0] for t in "AB")
    client.post(reverse("lists:item_move", args=[shelf.pk, b.pk]), {"direction": "up"})
    assert list(shelf.items.order_by("position").values_list("book__title", flat=True)) == [
        "B",
        "A",
    ]
    client.post(reverse("lists:item_note", args=[shelf.pk, a.pk]), {"note": "  lovely  "})
    assert ListItem.objects.get(pk=a.pk).note == "lovely"
    response = client.post(reverse("lists:reorder", args=[shelf.pk]), {"item": [a.pk, b.pk]})
    assert response.status_code == 204
    assert list(shelf.items.order_by("position").values_list("book__title", flat=True)) == [
        "A",
        "B",
    ]
    assert (
        client.post(reverse("lists:reorder", args=[shelf.pk]), {"item": ["x"]}).status_code == 409
    )
    client.post(reverse("lists:item_remove", args=[shelf.pk, a.pk]))
    assert list(shelf.items.values_list("book__title", flat=True)) == ["B"]


def test_create_edit_and_delete_a_list(client, member):
    response = client.post(
        reverse("lists:create"), {"name": "Beach", "description": "Sandy", "is_public": ""}
    )
    shelf = ReadingList.objects.get(owner=member, name="Beach")
    assert response["Location"] == shelf.get_absolute_url() and not shelf.is_public
    response = client.post(reverse("lists:create"), {"name": "beach"})
    assert "already have a list" in response.content.decode()
    client.post(reverse("lists:edit", args=[shelf.pk]), {"name": "Beach reads", "is_public": "on"})
    shelf.refresh_from_db()
    assert shelf.name == "Beach reads" and shelf.is_public
    reading = builtin(member)["reading"]
    client.post(reverse("lists:edit", args=[reading.pk]), {"name": "Hacked", "is_public": ""})
    reading.refresh_from_db()
    assert reading.name == "Reading" and not reading.is_public
    assert client.post(reverse("lists:delete", args=[reading.pk])).status_code == 302
    assert ReadingList.objects.filter(pk=reading.pk).exists()
    client.post(reverse("lists:delete", args=[shelf.pk]))
    assert not ReadingList.objects.filter(pk=shelf.pk).exists()


def test_my_lists_needs_sign_in_and_lists_everything(client, member):
    CustomListFactory(owner=member, name="Hidden", is_public=False)
    page = client.get(reverse("lists:mine")).content.decode()
    for name in ("Want to read", "Reading", "Read", "Favourites", "Hidden", "only you"):
        assert name in page
    assert Client().get(reverse("lists:mine")).status_code == 302


# -- Constant queries ------------------------------------------------------------------------


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx)


def test_list_page_queries_do_not_grow_with_its_items(client, django_assert_num_queries):
    owner = UserFactory()
    viewer = UserFactory()
    client.force_login(viewer)
    small, big = CustomListFactory(owner=owner), CustomListFactory(owner=owner)
    for shelf, n in ((small, 2), (big, 15)):
        for _ in range(n):
            book = BookFactory(authors=["One Writer", "Two Writer"])
            services.list_add_book(reading_list=shelf, book=book)
            services.status_set(user=viewer, book=book, status="read")
    expected = _count(client, small.get_absolute_url())
    with django_assert_num_queries(expected):
        client.get(big.get_absolute_url())


def test_book_and_search_pages_queries_do_not_grow_with_lists_or_results(
    client, django_assert_num_queries
):
    viewer = UserFactory()
    client.force_login(viewer)
    few, many = BookFactory(), BookFactory()
    BookPostFactory(book=few)
    for _ in range(8):
        BookPostFactory(book=many)
    for i in range(6):
        services.list_add_book(reading_list=CustomListFactory(owner=viewer), book=many)
        if i == 0:
            services.status_set(user=viewer, book=many, status="reading")
    expected = _count(client, few.get_absolute_url())
    with django_assert_num_queries(expected):
        client.get(many.get_absolute_url())
    # 3+ results on both: fewer make search look for a spelling fix (books/search).
    a = [BookPostFactory(book=BookFactory(title=f"Quiet harbour {i}")) for i in range(3)]
    b = [BookPostFactory(book=BookFactory(title=f"Loud market {i}")) for i in range(9)]
    index_posts([p.pk for p in a + b])
    expected = _count(client, reverse("books:search") + "?q=harbour")
    with django_assert_num_queries(expected):
        client.get(reverse("books:search") + "?q=market")


# -- Import pages ----------------------------------------------------------------------------


def upload(client, content, name="goodreads_library_export.csv"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(
        reverse("lists:import"), {"file": SimpleUploadedFile(name, content, "text/csv")}
    )


def test_upload_starts_a_job_and_shows_progress_that_polls_until_done(client, member):
    content = to_csv(GOODREADS_HEADER, [goodreads_row(title="One", author="A. Writer")])
    response = upload(client, content)
    job = ImportJob.objects.get(owner=member)
    assert response["Location"] == job.get_absolute_url()
    page = client.get(job.get_absolute_url()).content.decode()
    assert "0 of 1 row done" in page and 'hx-trigger="every 2s"' in page
    partial = client.get(job.get_absolute_url(), **HTMX).content.decode()
    assert "<html" not in partial and 'hx-trigger="every 2s"' in partial
    from .test_importer import run_all

    run_all(job.pk)
    page = client.get(job.get_absolute_url()).content.decode()
    # (the header's notification bell polls on every page: look for this page's polling)
    assert "1 of 1 row done" in page and 'hx-trigger="every 2s"' not in page
    assert "Imported" in page


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x00\x01\x02binary", "doesn&#x27;t look like a CSV"),
        (b"Name,Email\r\nAda,ada@example.org\r\n", "recognise this file"),
        (b"", "The submitted file is empty"),
    ],
)
def test_bad_uploads_get_a_message_and_change_nothing(client, member, content, message):
    response = upload(client, content)
    assert response.status_code == 200 and message in response.content.decode()
    assert not ImportJob.objects.exists()


def test_a_file_over_10_mb_is_refused(client, member, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = None
    response = upload(client, b"a" * (10 * 1024 * 1024 + 10))
    assert "larger than 10 MB" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_import_pages_of_another_member_are_404(client, member):
    other = UserFactory()
    content = to_csv(GOODREADS_HEADER, [goodreads_row(title="One", author="A. Writer")])
    job = services.import_start(user=other, filename="x.csv", content=content)
    assert client.get(job.get_absolute_url()).status_code == 404
    assert client.get(reverse("lists:import_failed", args=[job.pk])).status_code == 404


def test_failed_rows_download(client, member):
    content = to_csv(GOODREADS_HEADER, [goodreads_row(title="", author="", isbn13="")])
    job = services.import_start(user=member, filename="x.csv", content=content)
    from .test_importer import run_all

    run_all(job.pk)
    response = client.get(reverse("lists:import_failed", args=[job.pk]))
    assert response["Content-Type"].startswith("text/csv")
    lines = response.content.decode().splitlines()
    assert lines[0] == "line,reason,row" and lines[1].startswith("2,The row has no title.")
