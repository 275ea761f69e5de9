"""The wishlist alert: a book on your Want to read list has just been posted.

Needs the lists app's models (ListItem with owner, book and status "want_to_read"); until
they are on this branch the tests skip.
"""

import pytest
from django.apps import apps
from django.db import transaction
from django.utils import timezone

from books.tests.factories import BookFactory, BookPostFactory, UserFactory
from bookshare.testing import wait_until
from notifications.models import Kind, Notification

pytestmark = pytest.mark.django_db


def _models():
    try:
        return apps.get_model("lists", "ReadingList"), apps.get_model("lists", "ListItem")
    except LookupError:
        pytest.skip("the lists app's models are not on this branch yet")


def want_to_read(user, book, public=True):
    ReadingList, ListItem = _models()
    reading_list, _ = ReadingList.objects.get_or_create(
        owner=user, kind="want_to_read", defaults={"name": "Want to read", "is_public": public}
    )
    with transaction.atomic():
        return ListItem.objects.create(
            list=reading_list, book=book, owner=user, status="want_to_read", added_at=timezone.now()
        )


@pytest.mark.flow
@pytest.mark.django_db(transaction=True)
def test_posting_a_wanted_book_alerts_its_readers_not_the_poster(settled_bus):
    book = BookFactory()
    readers = UserFactory.create_batch(3)
    private_reader = UserFactory()
    poster = UserFactory()
    for reader in readers:
        want_to_read(reader, book)
    want_to_read(private_reader, book, public=False)  # told about their own private list
    want_to_read(poster, book)
    other_book_reader = UserFactory()
    want_to_read(other_book_reader, BookFactory())
    post = BookPostFactory(book=book, owner=poster)
    wait_until(
        lambda: Notification.objects.filter(kind=Kind.WISHLIST_POSTED).count() >= 4,
        timeout=60,
        message="four wishlist alerts",
    )
    rows = Notification.objects.filter(kind=Kind.WISHLIST_POSTED)
    assert {n.recipient_id for n in rows} == {r.pk for r in [*readers, private_reader]}
    assert all(n.post_id == post.pk and n.actor_id == poster.pk for n in rows)
