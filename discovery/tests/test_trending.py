import datetime as dt

import pytest
from django.test import override_settings

from books.tests.factories import BookFactory, BookPostFactory, GenreFactory, UserFactory
from discovery import selectors, trending
from discovery.models import BookPair, BookStat, Signal, Trending, TrendingDay, TrendingGenre

from .helpers import T0, add, like, remove, review, unlike

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _half_life(settings):
    settings.DISCOVERY_TRENDING_HALF_LIFE_HOURS = 72


DAY = dt.timedelta(days=1)


def score(book):
    return Trending.objects.get(book_id=book.pk).score


def ranked_ids(**kwargs):
    return [r.book.pk for r in selectors.trending_books(**kwargs)]


def test_a_signal_half_life_later_is_worth_twice_as_much():
    early, late = BookFactory(), BookFactory()
    member = UserFactory()
    add(member, early, at=T0)
    add(member, late, at=T0 + 3 * DAY)
    assert score(late) == pytest.approx(2 * score(early))
    now = T0 + 3 * DAY
    ranked = selectors.trending_books(now=now)
    assert [r.book.pk for r in ranked] == [late.pk, early.pk]
    assert [r.score for r in ranked] == pytest.approx([1.0, 0.5])  # weight 1, decayed


def test_more_activity_long_ago_loses_to_a_little_activity_now():
    old, new = BookFactory(), BookFactory()
    for _ in range(3):
        add(UserFactory(), old, at=T0)
    add(UserFactory(), new, at=T0 + 7 * DAY)  # 3 × 2^(-7/3) ≈ 0.6 < 1
    assert ranked_ids(now=T0 + 7 * DAY) == [new.pk, old.pk]


def test_weights_come_from_settings():
    liked, requested = BookFactory(), BookFactory()  # noqa: F841
    post = BookPostFactory(book=liked)
    like(UserFactory(), post)
    review(UserFactory(), requested, 2)
    # a review (2) beats a like (1) at the same moment; the post itself wasn't published
    # through the consumer here, so only the like counts for `liked`
    assert score(requested) == pytest.approx(2 * score(liked))
    with override_settings(DISCOVERY_TRENDING_WEIGHTS={"like": 5.0}):
        like(UserFactory(), post)
    assert score(liked) == pytest.approx(3 * score(requested))  # 1 + 5 against 2


def test_removing_a_list_item_takes_its_weight_back_even_days_later():
    book, other = BookFactory(), BookFactory()
    keep = add(UserFactory(), other, at=T0)
    added = add(UserFactory(), book, at=T0)
    remove(added, at=T0 + 2 * DAY)
    assert score(book) == pytest.approx(0, abs=1e-9)
    assert ranked_ids(now=T0 + 2 * DAY) == [other.pk]
    assert selectors.week_counts([book.pk], now=T0 + DAY) == {book.pk: 0}
    assert keep


def test_unlike_reverses_like_and_a_relike_counts_again():
    post = BookPostFactory()
    member = UserFactory()
    like(member, post, at=T0)
    unlike(member, post, at=T0 + dt.timedelta(hours=1))
    assert score(post.book) == pytest.approx(0, abs=1e-9)
    like(member, post, at=T0 + dt.timedelta(hours=2))
    assert score(post.book) > 0


def test_repeats_and_reordered_events_are_harmless():
    book = BookFactory()
    member = UserFactory()
    added = add(member, book, at=T0)
    add(member, book, at=T0, item_id=added.item_id)  # the same event again
    assert score(book) == pytest.approx(1.0 * trending.factor(T0, trending.current_epoch()))
    other = BookFactory()
    from lists.events import BookAddedToList

    late_add = BookAddedToList(
        item_id=99, list_id=1, book_id=other.pk, user_id=member.pk,
        list_kind="read", list_public=True,
    )  # fmt: skip
    remove(late_add, at=T0 + DAY)  # the removal arrives first…
    add(member, other, kind="read", at=T0, item_id=99)  # …then its older addition
    assert not Trending.objects.filter(book_id=other.pk, score__gt=1e-9).exists()
    assert not Signal.objects.get(key="item:99").active


def test_private_list_adds_count_toward_nothing_others_see():
    secret = BookFactory()
    member = UserFactory()
    add(member, secret, kind="favourites", public=False)
    add(member, BookFactory(), public=False)
    assert not Trending.objects.filter(book_id=secret.pk).exists()
    assert not TrendingDay.objects.exists()
    assert not BookPair.objects.exists() and not BookStat.objects.exists()
    assert ranked_ids() == []


def test_per_genre_top_lists_only_that_genres_books_with_week_counts():
    fantasy, cooking = GenreFactory(name="Fantasy"), GenreFactory(name="Cooking")
    dragon = BookFactory(genres=[fantasy])
    soup = BookFactory(genres=[cooking])
    both = BookFactory(genres=[fantasy, cooking])
    for _ in range(2):
        add(UserFactory(), dragon, at=T0)
    add(UserFactory(), soup, at=T0)
    add(UserFactory(), both, at=T0 - 10 * DAY)
    assert ranked_ids(genre=fantasy, now=T0) == [dragon.pk, both.pk]
    assert ranked_ids(genre=cooking, now=T0) == [soup.pk, both.pk]
    weeks = {r.book.pk: r.week for r in selectors.trending_books(genre=fantasy, now=T0)}
    assert weeks == {dragon.pk: 2, both.pk: 0}
    assert TrendingGenre.objects.filter(book=both).count() == 2


def test_rebase_keeps_ranking_and_decayed_values_and_exact_removal():
    a, b = BookFactory(), BookFactory()
    added = add(UserFactory(), a, at=T0)
    add(UserFactory(), b, at=T0 + DAY)
    now = T0 + 2 * DAY
    before = [(r.book.pk, r.score) for r in selectors.trending_books(now=now)]
    trending.rebase(now=now)
    assert trending.current_epoch() == now
    after = [(r.book.pk, r.score) for r in selectors.trending_books(now=now)]
    assert [x for x, _ in after] == [x for x, _ in before]
    assert [s for _, s in after] == pytest.approx([s for _, s in before])
    assert score(b) == pytest.approx(2 ** (-1 / 3))  # stored relative to the new epoch
    remove(added, at=now)
    assert not Trending.objects.filter(book_id=a.pk, score__gt=1e-9).exists()


def test_the_one_statement_path_writes_what_the_ordinary_path_writes(monkeypatch):
    """On PostgreSQL a signal is applied in one statement; elsewhere (and here, for the
    second book) in five. Both leave the same rows."""
    genres = [GenreFactory(), GenreFactory()]
    a, b = BookFactory(), BookFactory()
    for book in (a, b):
        book.genres.set(genres)
    trending.current_epoch()  # the one-statement path needs the epoch to exist
    at = T0 + 2 * DAY
    from django.db import connection

    if connection.vendor == "postgresql":
        assert trending._apply_in_one_statement(a.pk, 2.0, at, 1) is True
    else:
        trending.apply(book_id=a.pk, weight=2.0, at=at, sign=1)
    monkeypatch.setattr(trending, "_apply_in_one_statement", lambda *args: False)
    trending.apply(book_id=b.pk, weight=2.0, at=at, sign=1)

    def rows(book):
        return (
            Trending.objects.get(book_id=book.pk).score,
            sorted(TrendingGenre.objects.filter(book_id=book.pk).values_list("genre_id", "score")),
            list(TrendingDay.objects.filter(book_id=book.pk).values_list("day", "count")),
        )

    score_a, genres_a, days_a = rows(a)
    score_b, genres_b, days_b = rows(b)
    assert score_a == pytest.approx(score_b, rel=1e-12)
    assert [g for g, _ in genres_a] == [g for g, _ in genres_b] == sorted(g.pk for g in genres)
    assert [s for _, s in genres_a] == pytest.approx([s for _, s in genres_b], rel=1e-12)
    assert days_a == days_b == [(at.date(), 1)]
