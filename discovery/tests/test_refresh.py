"""A member's recommendations are recomputed by one coalesced job, not by each event."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from books.tests.factories import BookFactory, UserFactory
from discovery import consumers, tasks, taste
from discovery.models import PendingRefresh, Recommendation
from lists.events import BookAddedToList

from .helpers import T0, add, run_refreshes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.DISCOVERY_MIN_SUPPORT = 2
    settings.DISCOVERY_MEMBER_CAP = 5


@pytest.fixture
def sent(monkeypatch):
    """The refresh jobs sent to the broker (member ids), instead of sending them."""
    calls: list[int] = []
    monkeypatch.setattr(taste, "send_refresh", calls.append)
    return calls


@pytest.fixture
def refreshes(monkeypatch):
    """Members whose list was recomputed, in order (the real refresh still runs)."""
    calls: list[int] = []
    real = taste.refresh

    def counting(user_id, **kwargs):
        calls.append(user_id)
        return real(user_id, **kwargs)

    monkeypatch.setattr(taste, "refresh", counting)
    return calls


def list_add(user, book, item_id, kind="favourites"):
    return BookAddedToList(
        item_id=item_id, list_id=1, book_id=book.pk, user_id=user.pk, list_kind=kind,
        list_public=True,
    )  # fmt: skip


def deliver(event, at=T0):
    consumers.record(event, {"occurred_at": at.isoformat()})


def pairs_for(seed, related):
    for _ in range(2):
        m = UserFactory()
        add(m, seed)
        add(m, related)


def test_many_events_make_one_refresh(django_capture_on_commit_callbacks, sent, refreshes):
    seed, related = BookFactory(), BookFactory()
    pairs_for(seed, related)
    refreshes.clear()
    me = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(10):
            book = BookFactory() if n else seed
            deliver(list_add(me, book, 900 + n), T0 + dt.timedelta(seconds=n))
    assert refreshes == []  # no event recomputed the list itself
    assert sent == [me.pk]  # one job for ten events
    assert list(PendingRefresh.objects.values_list("user_id", flat=True)) == [me.pk]
    assert not Recommendation.objects.filter(user=me).exists()

    assert tasks.refresh_member(me.pk) is True
    assert refreshes == [me.pk]
    assert Recommendation.objects.filter(user=me, book=related, reason="because").exists()
    assert not PendingRefresh.objects.exists()
    # A repeat of the job (or the sweep after it) finds nothing to do.
    assert tasks.refresh_member(me.pk) is False
    assert refreshes == [me.pk]


def test_an_event_after_the_job_marks_the_member_again(django_capture_on_commit_callbacks, sent):
    me = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        deliver(list_add(me, BookFactory(), 950))
    taste.refresh_pending(me.pk)
    with django_capture_on_commit_callbacks(execute=True):
        deliver(list_add(me, BookFactory(), 951), T0 + dt.timedelta(seconds=1))
    assert sent == [me.pk, me.pk]
    assert PendingRefresh.objects.filter(user_id=me.pk).exists()


def test_a_like_asks_only_for_the_basket(sent, refreshes, django_capture_on_commit_callbacks):
    from books.tests.factories import BookPostFactory
    from discovery.models import MemberBook
    from reactions.events import PostLiked

    me, post = UserFactory(), BookPostFactory()
    with django_capture_on_commit_callbacks(execute=True):
        deliver(
            PostLiked(like_id=990, post_id=post.pk, book_id=post.book_id, user_id=me.pk,
                      post_owner_id=post.owner_id)
        )  # fmt: skip
    assert sent == [me.pk]
    assert list(PendingRefresh.objects.values_list("user_id", "recompute")) == [(me.pk, False)]
    assert not MemberBook.objects.filter(user_id=me.pk).exists()  # not in the event
    assert tasks.refresh_member(me.pk) is True
    assert MemberBook.objects.filter(user_id=me.pk, book_id=post.book_id, in_basket=True).exists()
    assert refreshes == []  # a like is not a seed: the list is not recomputed


def test_a_seed_after_a_like_in_the_same_window_asks_for_the_list_too(
    sent, refreshes, django_capture_on_commit_callbacks
):
    from books.tests.factories import BookPostFactory
    from reactions.events import PostLiked

    me, post = UserFactory(), BookPostFactory()
    with django_capture_on_commit_callbacks(execute=True):
        deliver(
            PostLiked(like_id=991, post_id=post.pk, book_id=post.book_id, user_id=me.pk,
                      post_owner_id=post.owner_id)
        )  # fmt: skip
        deliver(list_add(me, BookFactory(), 992), T0 + dt.timedelta(seconds=1))
        deliver(list_add(me, BookFactory(), 993), T0 + dt.timedelta(seconds=2))
    assert list(PendingRefresh.objects.values_list("recompute", flat=True)) == [True]
    # Raising the pending row's recompute sends a second job (one statement cannot tell
    # an insert from that update); a third event, with recompute already raised, none.
    assert sent == [me.pk, me.pk]
    assert tasks.refresh_member(me.pk) is True
    assert tasks.refresh_member(me.pk) is False  # the second job finds the row taken
    assert refreshes == [me.pk]


def test_events_that_change_neither_taste_nor_seeds_send_no_job(
    sent, django_capture_on_commit_callbacks
):
    from reactions.events import ReviewSubmitted

    me = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        deliver(ReviewSubmitted(review_id=993, book_id=BookFactory().pk, user_id=me.pk, rating=2))
    assert sent == [] and not PendingRefresh.objects.exists()


def test_a_book_just_added_leaves_the_stored_list_before_the_refresh(sent):
    seed, related = BookFactory(), BookFactory()
    pairs_for(seed, related)
    me = UserFactory()
    add(me, seed, kind="favourites")  # refreshed by the helper
    assert Recommendation.objects.filter(user=me, book=related).exists()
    deliver(list_add(me, related, 960, kind="want_to_read"), T0 + dt.timedelta(seconds=1))
    assert not Recommendation.objects.filter(user=me, book=related).exists()
    assert PendingRefresh.objects.filter(user_id=me.pk).exists()


def test_the_consumer_does_not_grow_with_the_members_seeds(sent):
    """An event's queries do not depend on how much the member has: no refresh in it."""
    me = UserFactory()

    def queries_for_one_add(item_id):
        PendingRefresh.objects.all().delete()
        with CaptureQueriesContext(connection) as ctx:
            deliver(list_add(me, BookFactory(), item_id), T0 + dt.timedelta(minutes=item_id))
        return [q["sql"] for q in ctx.captured_queries]

    for n in range(7):
        add(me, BookFactory(), kind="favourites", at=T0 + dt.timedelta(seconds=n))
    small = queries_for_one_add(970)
    for n in range(40):
        add(me, BookFactory(), kind="favourites", at=T0 + dt.timedelta(seconds=10 + n))
    large = queries_for_one_add(971)
    assert len(large) == len(small)
    recs = taste.Recommendation._meta.db_table
    # The stored list is only ever deleted from (the book just added), never read.
    deleting = "DELETE FROM " + connection.ops.quote_name(recs)  # noqa: S608 - a test pattern
    assert [q for q in large if recs in q and deleting not in q] == []


def test_the_sweep_refreshes_members_whose_job_was_lost(sent, refreshes):
    me = UserFactory()
    deliver(list_add(me, BookFactory(), 980))  # the job is "lost": never run
    assert taste.refresh_overdue(now=taste.timezone.now()) == 0  # not overdue yet
    later = taste.timezone.now() + dt.timedelta(minutes=5)
    assert taste.refresh_overdue(now=later) == 1
    assert refreshes == [me.pk] and not PendingRefresh.objects.exists()


def test_genre_membership_marks_the_member_instead_of_refreshing(sent, refreshes):
    from books.tests.factories import GenreFactory
    from discovery import services
    from discovery.events import GenreJoined

    me, genre = UserFactory(), GenreFactory()
    services.genre_join(user=me, genre=genre)
    consumers.genre_membership(
        GenreJoined(user_id=me.pk, genre_id=genre.pk), {"occurred_at": T0.isoformat()}
    )
    assert refreshes == [] and PendingRefresh.objects.filter(user_id=me.pk).exists()
    run_refreshes()
    assert refreshes == [me.pk]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_jobs_leave_the_same_pairs_as_a_rebuild_whatever_the_events(seed, settings, sent):
    """Baskets, pairs and book counts kept by the jobs, after adds, removals and likes in
    any order with jobs run at random moments, equal what `discovery rebuild` builds from
    the same signals (a basket book removed lets an older one back in, for instance)."""
    import random

    from books.tests.factories import BookPostFactory
    from discovery import rebuild
    from discovery.models import BookPair, BookStat, MemberBook
    from lists.events import BookRemovedFromList
    from reactions.events import PostLiked, PostUnliked

    settings.DISCOVERY_MEMBER_CAP = 3
    rng = random.Random(seed)
    members = [UserFactory() for _ in range(4)]
    posts = [BookPostFactory() for _ in range(7)]
    books = [p.book for p in posts]
    added: dict[tuple[int, int], int] = {}
    at = T0
    for n in range(80):
        at += dt.timedelta(seconds=1)
        me, i = rng.choice(members), rng.randrange(len(books))
        book, post = books[i], posts[i]
        action = rng.choice(["add", "add", "remove", "like", "unlike"])
        if action == "add" and (me.pk, book.pk) not in added:
            added[me.pk, book.pk] = 5000 + n
            deliver(list_add(me, book, 5000 + n, kind=rng.choice(["read", "favourites"])), at)
        elif action == "remove" and (me.pk, book.pk) in added:
            item = added.pop((me.pk, book.pk))
            deliver(
                BookRemovedFromList(item_id=item, list_id=1, book_id=book.pk, user_id=me.pk,
                                    list_kind="read", list_public=True),
                at,
            )  # fmt: skip
        elif action in ("like", "unlike"):
            event = PostLiked if action == "like" else PostUnliked
            kwargs = {"like_id": 7000 + n} if action == "like" else {}
            deliver(
                event(post_id=post.pk, book_id=book.pk, user_id=me.pk,
                      post_owner_id=post.owner_id, **kwargs),
                at,
            )  # fmt: skip
        if rng.random() < 0.3:
            run_refreshes()
    run_refreshes()

    def state():
        return (
            set(MemberBook.objects.filter(in_basket=True).values_list("user_id", "book_id")),
            set(MemberBook.objects.values_list("user_id", "book_id")),
            set(BookPair.objects.filter(count__gt=0).values_list("book_id", "other_id", "count")),
            set(BookStat.objects.filter(members__gt=0).values_list("book_id", "members")),
        )

    kept = state()
    assert kept[2], "the sequence should leave some pairs"
    assert not BookPair.objects.filter(count__lt=0).exists()
    rebuild.rebuild_baskets()
    assert kept == state()
