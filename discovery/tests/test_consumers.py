"""Consumers through the bus: deliveries run in-process, and a real Celery worker."""

import pytest
from django.core.management import call_command

from books.tests.factories import BookFactory, GenreFactory, UserFactory
from bookshare.eventbus.delivery import run_delivery
from bookshare.eventbus.models import Delivery
from bookshare.testing import Worker, publish_committed, wait_until
from discovery import services, taste
from discovery.models import BookPair, BookStat, GenreMember, Recommendation, Trending
from lists.events import BookAddedToList
from reactions.events import ReviewSubmitted

from .helpers import add, feed, like, review

MINE = "discovery."


def run_discovery_deliveries():
    for delivery in Delivery.objects.filter(consumer__startswith=MINE).exclude(status="done"):
        assert run_delivery(delivery.pk) == "done"


def list_add(user, book, item_id, kind="favourites"):
    return BookAddedToList(
        item_id=item_id, list_id=1, book_id=book.pk, user_id=user.pk, list_kind=kind,
        list_public=True,
    )  # fmt: skip


@pytest.mark.django_db
def test_events_reach_the_consumers_on_the_suggestions_queue():
    from bookshare.eventbus.registry import consumers_for

    names = {c.name: c.queue for c in consumers_for("BookAddedToList")}
    assert names["discovery.record"] == "suggestions"


@pytest.mark.django_db
def test_genre_membership_is_recorded_and_a_repeat_changes_nothing():
    genre = GenreFactory(name="Fantasy")
    me = UserFactory()
    services.genre_join(user=me, genre=genre)
    run_discovery_deliveries()
    joined = GenreMember.objects.get(user=me, genre=genre)
    for delivery in Delivery.objects.filter(consumer="discovery.genre_membership"):
        assert run_delivery(delivery.pk) == "skipped"
    services.genre_leave(user=me, genre=genre)
    run_discovery_deliveries()
    assert not GenreMember.objects.filter(pk=joined.pk).exists()


@pytest.mark.django_db
def test_rebuild_reproduces_what_the_consumers_built(settings):
    settings.DISCOVERY_MIN_SUPPORT = 1
    books = [BookFactory() for _ in range(5)]
    members = [UserFactory() for _ in range(4)]
    for i, m in enumerate(members):
        add(m, books[i], kind="favourites")
        add(m, books[i + 1])
        review(m, books[4], 5)
    from books.tests.factories import BookPostFactory

    like(members[0], BookPostFactory(book=books[2]))

    def snapshot():
        return (
            set(BookPair.objects.filter(count__gt=0).values_list("book_id", "other_id", "count")),
            set(BookStat.objects.filter(members__gt=0).values_list("book_id", "members")),
            set(Recommendation.objects.values_list("user_id", "book_id", "reason")),
            sorted(
                (b, round(s, 9))
                for b, s in Trending.objects.values_list("book_id", "score")
                if s > 1e-9
            ),
        )

    # A member's stored list is refreshed by their own events (and the beat task), so
    # bring everyone's up to date before comparing with the rebuild.
    for m in members:
        taste.refresh(m.pk)
    before = snapshot()
    Trending.objects.all().delete()
    BookPair.objects.all().delete()
    Recommendation.objects.all().delete()
    call_command("discovery", "rebuild", "--from-log")
    after = snapshot()
    assert after[:3] == before[:3]
    # trending is rebased to now by the rebuild: same order, same ratios
    assert [b for b, _ in sorted(after[3], key=lambda x: -x[1])] == [
        b for b, _ in sorted(before[3], key=lambda x: -x[1])
    ]


@pytest.mark.flow
@pytest.mark.django_db(transaction=True)
def test_flow_list_adds_and_reviews_change_trending_and_recommendations(settled_bus):
    """Through real workers: the session worker, and one more on `suggestions` so the
    test does not wait behind work that earlier apps' flow tests left on the shared
    bulk worker (both serve the same database; either may take a delivery)."""
    with Worker(queues="suggestions", name="discovery-flow"):
        _list_adds_and_reviews_change_trending_and_recommendations()


def _list_adds_and_reviews_change_trending_and_recommendations():
    # The worker has the default settings: two members make a pair count.
    seed, related = BookFactory(title="Dune"), BookFactory(title="Hyperion")
    others = [UserFactory() for _ in range(2)]
    for n, other in enumerate(others):
        publish_committed(list_add(other, seed, 10 + n))
        publish_committed(list_add(other, related, 20 + n, kind="read"))
    wait_until(
        lambda: BookPair.objects.filter(book_id=seed.pk, other_id=related.pk, count=2).exists(),
        timeout=60,
        message="both members' baskets counted",
    )
    me = UserFactory()
    publish_committed(ReviewSubmitted(review_id=1, book_id=seed.pk, user_id=me.pk, rating=5))
    rec = wait_until(
        lambda: Recommendation.objects.filter(user=me, book=related).first(),
        timeout=60,
        message="a recommendation through the worker",
    )
    assert rec.reason == "because" and rec.reason_book_id == seed.pk
    assert (
        Trending.objects.get(book_id=seed.pk).score > Trending.objects.get(book_id=related.pk).score
    )  # two favourites and a review against two read-list adds
    genre = GenreFactory(name="Space")
    from django.db import transaction

    with transaction.atomic():
        services.genre_join(user=me, genre=genre)
    wait_until(
        lambda: GenreMember.objects.filter(user=me, genre=genre).exists(),
        timeout=60,
        message="genre membership recorded by the worker",
    )


@pytest.mark.django_db(transaction=True)
def test_events_of_a_deleted_member_are_applied_without_failing():
    """Committed, so a recommendation row for the missing member would fail its foreign
    key (deferred to commit)."""
    from django.db import transaction

    seed, other = BookFactory(), BookFactory()
    for _ in range(2):
        m = UserFactory()
        with transaction.atomic():
            add(m, seed)
            add(m, other)
    gone = UserFactory()
    gone_id = gone.pk
    gone.delete()

    with transaction.atomic():
        feed(list_add(type("U", (), {"pk": gone_id})(), seed, 555))
    assert not Recommendation.objects.filter(user_id=gone_id).exists()


@pytest.mark.django_db
def test_rebuild_reads_list_items_reviews_likes_and_posts(settings):
    from django.utils import timezone

    from lists.models import ListItem, ReadingList
    from reactions.models import Review

    settings.DISCOVERY_MIN_SUPPORT = 2
    seed, related, secret = BookFactory(), BookFactory(), BookFactory()
    for _ in range(2):
        m = UserFactory()
        public, _ = ReadingList.objects.get_or_create(
            owner=m, kind="read", defaults={"name": "Read", "is_public": True}
        )
        ReadingList.objects.filter(pk=public.pk).update(is_public=True)
        public.refresh_from_db()
        hidden = ReadingList.objects.create(owner=m, kind="custom", name="Mine", is_public=False)
        for book in (seed, related):
            ListItem.objects.create(
                list=public, book=book, owner=m, status="read", added_at=timezone.now()
            )
        ListItem.objects.create(list=hidden, book=secret, owner=m, added_at=timezone.now())
    me = UserFactory()
    Review.objects.create(user=me, book=seed, rating=5)
    call_command("discovery", "rebuild")
    assert list(
        Recommendation.objects.filter(user=me, reason="because").values_list("book_id", flat=True)
    ) == [related.pk]
    assert BookPair.objects.filter(book_id=seed.pk, other_id=related.pk, count=2).exists()
    assert not BookStat.objects.filter(book_id=secret.pk).exists()  # private: not counted
