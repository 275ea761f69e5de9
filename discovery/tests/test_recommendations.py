"""Recommendations on small hand-made data where the right answer is known."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from books.tests.factories import BookFactory, BookPostFactory, GenreFactory, UserFactory
from discovery import selectors, services, taste
from discovery.models import BookPair, BookStat, MemberBook, Recommendation

from .helpers import T0, add, remove, review

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.DISCOVERY_MIN_SUPPORT = 2
    settings.DISCOVERY_MEMBER_CAP = 50


def rec_ids(user):
    return list(
        Recommendation.objects.filter(user=user, reason="because")
        .order_by("-score", "book_id")
        .values_list("book_id", flat=True)
    )


def test_normalised_similarity_beats_the_bestseller():
    """Seed S. Bestseller P sits in everyone's lists and shares 4 members with S; niche N
    shares only 3 — but everyone who has N has S. Raw counts would pick P; cosine picks N."""
    seed, niche, popular = BookFactory(title="Seed"), BookFactory(), BookFactory()
    for i in range(4):
        m = UserFactory()
        add(m, seed)
        add(m, popular)
        if i < 3:
            add(m, niche)
    for _ in range(30):
        add(UserFactory(), popular)
    counts = dict(BookPair.objects.filter(book_id=seed.pk).values_list("other_id", "count"))
    assert counts[popular.pk] > counts[niche.pk]  # raw co-occurrence favours the bestseller
    me = UserFactory()
    add(me, seed, kind="favourites")
    assert rec_ids(me) == [niche.pk, popular.pk]
    rec = Recommendation.objects.get(user=me, book=niche)
    assert rec.reason_book_id == seed.pk


def test_minimum_support_keeps_one_off_pairs_out():
    seed, once, twice = BookFactory(), BookFactory(), BookFactory()
    a, b = UserFactory(), UserFactory()
    for m in (a, b):
        add(m, seed)
        add(m, twice)
    add(a, once)
    me = UserFactory()
    add(me, seed, kind="read")
    assert rec_ids(me) == [twice.pk]


def pairs_for(seed, others, members=2):
    for _ in range(members):
        m = UserFactory()
        add(m, seed)
        for o in others:
            add(m, o)


def test_exclusions_any_list_private_too_own_posts_and_not_interested():
    seed = BookFactory()
    on_private, own, unwanted, fine = (BookFactory() for _ in range(4))
    pairs_for(seed, [on_private, own, unwanted, fine])
    me = UserFactory()
    add(me, on_private, public=False)
    BookPostFactory(owner=me, book=own)
    services.book_not_interested(user=me, book=unwanted)
    add(me, seed, kind="favourites")
    assert rec_ids(me) == [fine.pk]
    # "not interested" is remembered through later refreshes
    taste.refresh(me.pk)
    assert unwanted.pk not in rec_ids(me)


def test_removing_the_seed_takes_its_recommendations_away():
    seed, related = BookFactory(), BookFactory()
    pairs_for(seed, [related])
    me = UserFactory()
    added = add(me, seed, kind="favourites")
    assert rec_ids(me) == [related.pk]
    remove(added)
    assert rec_ids(me) == []


def test_high_ratings_seed_and_low_ratings_do_not():
    loved, meh = BookFactory(), BookFactory()
    loved_rel, meh_rel = BookFactory(), BookFactory()
    pairs_for(loved, [loved_rel])
    pairs_for(meh, [meh_rel])
    me = UserFactory()
    review(me, loved, 5)
    review(me, meh, 2)
    assert rec_ids(me) == [loved_rel.pk]


def test_joined_genres_boost_related_books():
    fantasy = GenreFactory(name="Fantasy")
    seed = BookFactory()
    plain, fairy = BookFactory(), BookFactory(genres=[fantasy])
    pairs_for(seed, [plain, fairy])
    pairs_for(BookFactory(), [fairy], members=1)  # fairy slightly more popular: lower cosine
    me = UserFactory()
    add(me, seed, kind="favourites")
    assert rec_ids(me) == [plain.pk, fairy.pk]
    me.favourite_genres.add(fantasy)
    taste.refresh(me.pk)
    assert rec_ids(me) == [fairy.pk, plain.pk]


def test_private_lists_never_shape_what_others_are_shown():
    seed, secret = BookFactory(), BookFactory()
    for _ in range(3):
        m = UserFactory()
        add(m, seed)
        add(m, secret, public=False)
    me = UserFactory()
    add(me, seed, kind="favourites")
    assert not Recommendation.objects.filter(user=me, book=secret).exists()
    assert not BookStat.objects.filter(book_id=secret.pk).exists()


def test_new_member_sees_trending_in_their_genres_then_overall():
    fantasy, cooking = GenreFactory(name="Fantasy"), GenreFactory(name="Cooking")
    dragon = BookFactory(genres=[fantasy], title="Dragon")
    soup = BookFactory(genres=[cooking], title="Soup")
    for _ in range(3):
        add(UserFactory(), soup)
    add(UserFactory(), dragon)
    newcomer = UserFactory()
    newcomer.favourite_genres.add(fantasy)
    items = selectors.for_you(user=newcomer)
    assert [i.book.pk for i in items] == [dragon.pk, soup.pk]
    assert items[0].reason == "genre" and items[0].reason_genre == fantasy
    assert items[1].reason == "trending"


def test_available_copies_first_and_not_the_members_own():
    seed, a, b = BookFactory(), BookFactory(), BookFactory()
    pairs_for(seed, [a])
    pairs_for(seed, [a, b])  # a related more strongly than b? both 2+; b support 2
    me = UserFactory()
    ben = UserFactory(username="ben")
    post = BookPostFactory(book=b, owner=ben, offer="lend")
    add(me, seed, kind="favourites")
    items = selectors.for_you(user=me)
    assert [i.book.pk for i in items][:2] == [b.pk, a.pk]
    assert items[0].post == post and items[1].post is None


def test_basket_cap_bounds_the_pairs_one_member_touches(settings):
    settings.DISCOVERY_MEMBER_CAP = 3
    member = UserFactory()
    books = [BookFactory() for _ in range(8)]
    for book in books:
        add(member, book)
    basket = set(MemberBook.objects.filter(in_basket=True).values_list("book_id", flat=True))
    assert basket == {b.pk for b in books[-3:]}  # the latest three
    assert BookPair.objects.filter(count__gt=0).count() == 3 * 2
    assert sum(BookStat.objects.values_list("members", flat=True)) == 3


def queries_for_one_add(member, book):
    with CaptureQueriesContext(connection) as ctx:
        add(member, book)
    return len(ctx.captured_queries)


def test_work_per_event_does_not_grow_with_history(settings):
    settings.DISCOVERY_MEMBER_CAP = 5
    settings.DISCOVERY_SEEDS = 5
    member = UserFactory()
    for _ in range(6):
        add(member, BookFactory())
    small = queries_for_one_add(member, BookFactory())
    for _ in range(30):
        add(member, BookFactory())
    large = queries_for_one_add(member, BookFactory())
    assert large == small
    assert MemberBook.objects.filter(user_id=member.pk, in_basket=True).count() == 5


def test_stalest_members_are_refreshed_by_the_beat_task():
    seed, later = BookFactory(), BookFactory()
    me = UserFactory()
    add(me, seed, kind="favourites")
    assert rec_ids(me) == []
    pairs_for(seed, [later])  # others' activity after my last refresh
    assert rec_ids(me) == []
    assert taste.refresh_stalest(limit=1, now=T0) == 1  # me: the only one never refreshed
    assert rec_ids(me) == [later.pk]


def test_a_rating_lowered_to_two_stops_seeding():
    from reactions.events import ReviewUpdated

    from .helpers import feed

    loved, related = BookFactory(), BookFactory()
    pairs_for(loved, [related])
    me = UserFactory()
    submitted = review(me, loved, 5)
    assert rec_ids(me) == [related.pk]
    feed(
        ReviewUpdated(
            review_id=submitted.review_id, book_id=loved.pk, user_id=me.pk, rating=2,
            previous_rating=5,
        ),
        T0 + dt.timedelta(minutes=1),
    )  # fmt: skip
    assert rec_ids(me) == []


def test_a_like_joins_the_basket_without_recomputing_the_members_list():
    from .helpers import like

    seed, related = BookFactory(), BookFactory()
    pairs_for(seed, [related])
    me = UserFactory()
    add(me, seed, kind="favourites")
    before = list(Recommendation.objects.filter(user=me).values_list("pk", flat=True))
    post = BookPostFactory()
    like(me, post)
    assert MemberBook.objects.filter(user_id=me.pk, book_id=post.book_id).exists()
    # likes are not seeds: the stored rows are the same rows, not recomputed ones
    assert list(Recommendation.objects.filter(user=me).values_list("pk", flat=True)) == before
