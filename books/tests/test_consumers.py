"""Consumers, run directly (unit) and through a real Celery worker and broker (flow)."""

import pytest

from books.models import BookPost, SearchEntry, SimilarPost
from books.search import search_posts
from books.services import post_remove, post_share, post_update
from bookshare.eventbus.delivery import run_delivery
from bookshare.eventbus.models import Delivery
from bookshare.testing import wait_until

from .factories import BookFactory, BookPostFactory, GenreFactory, UserFactory


def run_all_deliveries():
    # A batching consumer (books.index_post) runs waiting siblings with the first one,
    # so their own runs find them finished ("skipped"); in the end every one is done.
    for delivery in Delivery.objects.exclude(status="done").order_by("id"):
        assert run_delivery(delivery.pk) in ("done", "skipped")
    assert not Delivery.objects.exclude(status="done").exists()


@pytest.mark.django_db
def test_created_post_is_indexed_and_gets_suggestions_via_deliveries():
    genre = GenreFactory(name="Fantasy", slug="fantasy")
    first = BookPostFactory(book=BookFactory(title="Ember Queen", genres=[genre]))
    second = BookPostFactory(book=BookFactory(title="Ember Gate", genres=[genre]))
    run_all_deliveries()
    assert SearchEntry.objects.filter(post_id__in=[first.pk, second.pk]).count() == 2
    assert SimilarPost.objects.filter(post=second, similar=first).exists()
    assert SimilarPost.objects.filter(post=first, similar=second).exists()


@pytest.mark.django_db
def test_replaying_a_done_delivery_changes_nothing():
    post = BookPostFactory()
    run_all_deliveries()
    delivery = Delivery.objects.get(consumer="books.index_post")
    assert run_delivery(delivery.pk) == "skipped"
    # and running the consumer function again by hand is harmless too
    from books.consumers import index_post
    from books.events import BookPostCreated

    event = BookPostCreated.from_data(delivery.event.data)
    index_post(event, {})
    assert SearchEntry.objects.filter(post_id=post.pk).count() == 1


@pytest.mark.django_db
def test_consumers_tolerate_a_post_deleted_before_they_ran():
    post = BookPostFactory()
    pk = post.pk
    BookPost.objects.filter(pk=pk).delete()  # no signal: as if deleted meanwhile
    run_all_deliveries()
    assert not SearchEntry.objects.filter(post_id=pk).exists()
    assert not SimilarPost.objects.filter(post_id=pk).exists()


@pytest.mark.django_db
def test_marking_gone_updates_the_index_status_and_leaves_lists():
    genre = GenreFactory(name="Fantasy", slug="fantasy")
    a = BookPostFactory(book=BookFactory(genres=[genre]))
    b = BookPostFactory(book=BookFactory(genres=[genre]))
    run_all_deliveries()
    post_update(post=BookPost.objects.get(pk=b.pk), status="gone")
    run_all_deliveries()
    assert SearchEntry.objects.get(post_id=b.pk).status == "gone"
    assert not SimilarPost.objects.filter(post=a, similar=b).exists()


@pytest.mark.flow
@pytest.mark.django_db(transaction=True)
def test_flow_post_is_searchable_and_suggested_through_a_real_worker(settled_bus):
    genre = GenreFactory(name="Fantasy", slug="fantasy")
    owner = UserFactory()
    older = post_share(
        owner=owner,
        title="The Ember Queen",
        authors=["Ada Quill"],
        book_details={"genres": [genre]},
    )
    post = post_share(
        owner=owner,
        title="The Sleeping Lantern",
        authors=["Ada Quill"],
        book_details={"genres": [genre], "description": "A lantern crosses the hills."},
    )
    wait_until(
        lambda: search_posts("sleeping lantern").count() == 1,
        timeout=60,
        message="the post in the search index",
    )
    wait_until(
        lambda: (
            SimilarPost.objects.filter(post=post, similar=older).exists()
            and SimilarPost.objects.filter(post=older, similar=post).exists()
        ),
        timeout=60,
        message="similar posts both ways",
    )

    post_update(post=BookPost.objects.get(pk=post.pk), status="gone")
    wait_until(
        lambda: (
            SearchEntry.objects.filter(post_id=post.pk, status="gone").exists()
            and not SimilarPost.objects.filter(similar=post).exists()
        ),
        timeout=60,
        message="gone post updated in index and dropped from lists",
    )

    pk = older.pk
    post_remove(post=BookPost.objects.get(pk=pk))
    wait_until(
        lambda: not SearchEntry.objects.filter(post_id=pk).exists(),
        timeout=60,
        message="removed post out of the index",
    )
    wait_until(
        # The books consumers' deliveries (the owner's sign-up email waits for an email
        # worker, which this test does not run).
        lambda: not Delivery.objects.filter(event__source="books").exclude(status="done").exists(),
        timeout=60,
        message="every books delivery done",
    )
