import pytest
from django.core import serializers

from books.models import BookPost
from books.services import post_remove, post_update
from bookshare.eventbus.models import Delivery, StoredEvent

from .factories import BookFactory, BookPostFactory, UserFactory

pytestmark = pytest.mark.django_db


def events(type_):
    return list(StoredEvent.objects.filter(type=type_))


def test_creating_a_post_publishes_one_created_event_with_its_facts():
    post = BookPostFactory(book=BookFactory(isbn13="9780306406157"))
    (event,) = events("BookPostCreated")
    assert event.data["post_id"] == post.pk
    assert event.data["book_id"] == post.book_id
    assert event.data["owner_id"] == post.owner_id
    assert event.data["isbn13"] == "9780306406157"
    assert event.source == "books" and event.version == 1


def test_created_event_fans_out_to_search_and_suggestions_queues():
    BookPostFactory()
    queues = set(Delivery.objects.values_list("consumer", "queue"))
    assert ("books.index_post", "search") in queues
    assert ("books.suggest_similar", "suggestions") in queues


def test_editing_publishes_one_updated_event_with_the_previous_status():
    post = BookPostFactory()
    post = BookPost.objects.get(pk=post.pk)
    post_update(post=post, status="gone")
    (event,) = events("BookPostUpdated")
    assert event.data["status"] == "gone" and event.data["previous_status"] == "available"
    assert len(events("BookPostCreated")) == 1


def test_two_edits_of_one_instance_each_name_the_status_the_last_save_left():
    post = BookPostFactory()
    post_update(post=post, status="reserved")
    post_update(post=post, status="gone")
    changes = [(e.data["previous_status"], e.data["status"]) for e in events("BookPostUpdated")]
    assert sorted(changes) == [("available", "reserved"), ("reserved", "gone")]


def test_an_edit_that_changes_nothing_publishes_nothing():
    post = BookPostFactory()
    post_update(post=post, status=post.status)
    assert events("BookPostUpdated") == []


def test_removing_publishes_one_removed_event():
    post = BookPostFactory()
    pk = post.pk
    post_remove(post=post)
    (event,) = events("BookPostRemoved")
    assert event.data == {"post_id": pk, "book_id": post.book_id, "owner_id": post.owner_id}


def test_raw_fixture_saves_publish_nothing():
    post = BookPostFactory()
    data = serializers.serialize("json", [post])
    BookPost.objects.filter(pk=post.pk).delete()
    StoredEvent.objects.all().delete()
    for obj in serializers.deserialize("json", data):
        obj.save()  # raw=True, as loaddata does
    assert StoredEvent.objects.count() == 0


def test_deleting_a_member_removes_their_posts_with_events():
    owner = UserFactory()
    BookPostFactory.create_batch(2, owner=owner)
    owner.delete()
    assert len(events("BookPostRemoved")) == 2
