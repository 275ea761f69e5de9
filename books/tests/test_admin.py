import pytest
from django.urls import reverse

from books.models import SearchEntry
from books.search import index_posts
from books.suggestions import post_refresh

from .factories import BookPostFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "model", ["book", "author", "genre", "bookpost", "searchentry", "similarpost"]
)
def test_admin_lists_open(staff_client, model):
    post = BookPostFactory()
    index_posts([post.pk])
    post_refresh(post.pk)
    assert staff_client.get(reverse(f"admin:books_{model}_changelist")).status_code == 200


def test_admin_action_reindexes_selected_posts(staff_client):
    post = BookPostFactory()
    response = staff_client.post(
        reverse("admin:books_bookpost_changelist"),
        {"action": "reindex_selected", "_selected_action": [post.pk]},
    )
    assert response.status_code == 302
    assert SearchEntry.objects.filter(post_id=post.pk).exists()


def test_editing_a_book_in_admin_republishes_its_posts(staff_client):
    from bookshare.eventbus.models import StoredEvent

    post = BookPostFactory()
    book = post.book
    credit = book.credits.get()
    response = staff_client.post(
        reverse("admin:books_book_change", args=[book.pk]),
        {
            "title": "Renamed",
            "language": "en",
            "credits-TOTAL_FORMS": "1",
            "credits-INITIAL_FORMS": "1",
            "credits-MIN_NUM_FORMS": "0",
            "credits-MAX_NUM_FORMS": "1000",
            "credits-0-id": credit.pk,
            "credits-0-book": book.pk,
            "credits-0-author": credit.author_id,
            "credits-0-position": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert StoredEvent.objects.filter(type="BookPostUpdated", data__post_id=post.pk).exists()
