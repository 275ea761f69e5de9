"""The book page's "On N public lists": public lists only, with owners, linked; a count,
the first few and a page with all of them; a constant number of queries."""

import pytest
from django.urls import reverse

from books.tests.factories import BookFactory, UserFactory
from lists.models import ListKind, ReadingList
from lists.services import list_add_book
from lists.tests.factories import CustomListFactory

pytestmark = pytest.mark.django_db


def on_lists(book, n, *, public=True, owner=None):
    made = []
    for _ in range(n):
        rl = CustomListFactory(is_public=public, **({"owner": owner} if owner else {}))
        list_add_book(reading_list=rl, book=book)
        made.append(rl)
    return made


def test_public_lists_show_with_their_owners_linked(client):
    book = BookFactory()
    ada = UserFactory(username="ada")
    shelf = CustomListFactory(owner=ada, name="Dragons I loved")
    list_add_book(reading_list=shelf, book=book)
    page = client.get(book.get_absolute_url()).content.decode()
    assert "On 1 public list<" in page
    assert f'href="{reverse("lists:detail", args=[shelf.pk])}">Dragons I loved</a>' in page
    assert f'href="{reverse("accounts:profile", args=["ada"])}">ada</a>' in page
    assert "See all" not in page


def test_a_private_list_never_shows_not_even_to_its_owner(client):
    book = BookFactory()
    owner = UserFactory()
    secret = CustomListFactory(owner=owner, name="Secret shelf xyzzy", is_public=False)
    list_add_book(reading_list=secret, book=book)
    builtin = ReadingList.objects.get(owner=owner, kind=ListKind.WANT_TO_READ)
    ReadingList.objects.filter(pk=builtin.pk).update(is_public=False)
    list_add_book(reading_list=ReadingList.objects.get(pk=builtin.pk), book=book)
    all_url = reverse("catalogue:book_lists", args=[book.pk])
    for viewer in (None, UserFactory()):
        if viewer is not None:
            client.force_login(viewer)
        for url in (book.get_absolute_url(), all_url):
            page = client.get(url).content.decode()
            assert "Secret shelf xyzzy" not in page
            assert reverse("lists:detail", args=[secret.pk]) not in page
            assert reverse("lists:detail", args=[builtin.pk]) not in page
    # The owner sees their own lists in the list buttons (lists app), never in "On lists".
    client.force_login(owner)
    page = client.get(book.get_absolute_url()).content.decode()
    assert "on-lists" not in page and "public list" not in page
    everything = client.get(all_url).content.decode()
    assert "Secret shelf xyzzy" not in everything and "0 public lists" in everything


def test_many_lists_show_a_count_the_first_few_and_a_link_to_all(client, settings):
    book = BookFactory()
    lists = on_lists(book, 7)
    on_lists(book, 2, public=False)
    page = client.get(book.get_absolute_url()).content.decode()
    assert "On 7 public lists" in page
    shown = [rl for rl in lists if reverse("lists:detail", args=[rl.pk]) + '"' in page]
    assert len(shown) == 5
    all_url = reverse("catalogue:book_lists", args=[book.pk])
    assert f'href="{all_url}">See all 7 lists' in page
    everything = client.get(all_url).content.decode()
    for rl in lists:
        assert reverse("lists:detail", args=[rl.pk]) + '"' in everything
    assert "7 public lists" in everything


def test_all_lists_page_paginates_and_odd_input_is_no_500(client, monkeypatch):
    from catalogue import views

    monkeypatch.setattr(views, "LISTS_PAGE_SIZE", 3)
    book = BookFactory()
    on_lists(book, 7)
    url = reverse("catalogue:book_lists", args=[book.pk])
    assert "Page 1 of 3" in client.get(url).content.decode()
    for page in ("3", "-1", "x", "99999999999999"):
        assert client.get(url, {"page": page}).status_code == 200
    assert client.get(reverse("catalogue:book_lists", args=[999999])).status_code == 404
    assert client.post(url).status_code == 405


def test_book_page_queries_do_not_grow_with_lists(client, django_assert_num_queries):
    from books.tests.test_views import count_queries

    few, many = BookFactory(), BookFactory()
    on_lists(few, 1)
    on_lists(many, 12)
    on_lists(many, 3, public=False)
    expected = count_queries(client, few.get_absolute_url())
    assert count_queries(client, many.get_absolute_url()) == expected
    client.force_login(UserFactory())
    expected = count_queries(client, few.get_absolute_url())
    assert count_queries(client, many.get_absolute_url()) == expected
    url = reverse("catalogue:book_lists", args=[many.pk])
    assert count_queries(client, url) == count_queries(
        client, reverse("catalogue:book_lists", args=[few.pk])
    )
