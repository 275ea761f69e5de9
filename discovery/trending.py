"""Time-decayed trending scores, updated in O(1) per event.

A signal of weight w at time t is worth w × 2^(−(now − t)/h) now. Every stored score is
kept relative to one reference time t0 (TrendingEpoch): the stored value of that signal is
w × 2^((t − t0)/h), so adding or taking back a signal is one addition, and ranking by the
stored value is ranking by the decayed value (the factor 2^((t0 − now)/h) is common to
all). `rebase()` (beat, daily, or `manage.py discovery rebase`) moves t0 forward and
rescales every row in one UPDATE, keeping the numbers small.
"""

from __future__ import annotations

import datetime as dt

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from books.models import Book

from . import conf
from .models import Trending, TrendingDay, TrendingEpoch, TrendingGenre
from .sql import increment

EPSILON = 1e-9


def current_epoch(*, for_update: bool = False) -> dt.datetime:
    """t0. Writers hold a share lock on it (PostgreSQL) so a rebase can't slip between
    reading t0 and adding to the rows; `rebase` takes it exclusively. The first writer
    creates it."""
    table = connection.ops.quote_name(TrendingEpoch._meta.db_table)
    if connection.vendor == "postgresql":
        mode = "UPDATE" if for_update else "SHARE"
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT t0 FROM {table} WHERE id = 1 FOR {mode}")  # noqa: S608
            row = cursor.fetchone()
        if row:
            return row[0]
    else:
        row = TrendingEpoch.objects.filter(pk=1).values_list("t0", flat=True).first()
        if row:
            return row
    epoch, _ = TrendingEpoch.objects.get_or_create(
        pk=1, defaults={"t0": timezone.now().replace(minute=0, second=0, microsecond=0)}
    )
    return epoch.t0


def epoch_for_reading() -> dt.datetime | None:
    """t0 for pages (no lock, never writes); None before anything was ever scored."""
    return TrendingEpoch.objects.filter(pk=1).values_list("t0", flat=True).first()


def factor(at: dt.datetime, t0: dt.datetime) -> float:
    return 2.0 ** ((at - t0).total_seconds() / conf.half_life_seconds())


def apply(*, book_id: int, weight: float, at: dt.datetime, sign: int) -> None:
    """Add (sign=1) or take back (sign=-1) a signal of `weight` that happened at `at`."""
    if weight <= 0:
        return
    if connection.vendor == "postgresql" and _apply_in_one_statement(book_id, weight, at, sign):
        return
    delta = sign * weight * factor(at, current_epoch())
    increment(Trending, ["book"], "score", [(book_id, delta)])
    genre_ids = Book.genres.through.objects.filter(book_id=book_id).values_list(
        "genre_id", flat=True
    )
    increment(
        TrendingGenre, ["genre_id", "book"], "score", [(g, book_id, delta) for g in genre_ids]
    )
    increment(TrendingDay, ["book_id", "day"], "count", [(book_id, at.date(), sign)])


def _apply_in_one_statement(book_id: int, weight: float, at: dt.datetime, sign: int) -> bool:
    """PostgreSQL: the same as below in one round trip instead of five — t0 under its
    share lock, the delta, the book's row, its genres' rows and the day count, as
    data-modifying CTEs. False (nothing written) when there is no epoch yet: the caller
    then takes the ordinary path, which creates it."""
    q = connection.ops.quote_name
    epoch, book, genre, day = (
        q(m._meta.db_table) for m in (TrendingEpoch, Trending, TrendingGenre, TrendingDay)
    )  # fmt: skip
    book_genres = q(Book.genres.through._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            # Table names from model metadata, quoted; values are parameters.
            f"WITH e AS (SELECT t0 FROM {epoch} WHERE id = 1 FOR SHARE), "  # noqa: S608
            "d AS (SELECT %(sign)s * %(w)s * power(2.0, "
            "extract(epoch FROM (%(at)s::timestamptz - e.t0))::float8 / %(h)s) AS delta FROM e), "
            f"b AS (INSERT INTO {book} (book_id, score) SELECT %(book)s, delta FROM d "
            f"ON CONFLICT (book_id) DO UPDATE SET score = {book}.score + excluded.score), "
            f"g AS (INSERT INTO {genre} (genre_id, book_id, score) "
            f"SELECT bg.genre_id, %(book)s, d.delta FROM d, {book_genres} bg "
            "WHERE bg.book_id = %(book)s "
            "ON CONFLICT (genre_id, book_id) DO UPDATE "
            f"SET score = {genre}.score + excluded.score), "
            f"c AS (INSERT INTO {day} (book_id, day, count) SELECT %(book)s, %(day)s, %(sign)s "
            "FROM d ON CONFLICT (book_id, day) DO UPDATE "
            f"SET count = {day}.count + excluded.count) "
            "SELECT count(*) FROM d",
            {
                "sign": sign, "w": float(weight), "at": at, "h": conf.half_life_seconds(),
                "book": book_id, "day": at.date(),
            },
        )  # fmt: skip
        return cursor.fetchone()[0] == 1


@transaction.atomic
def rebase(*, now: dt.datetime | None = None) -> float:
    """Move t0 to `now` and rescale the stored scores; drop what has decayed to nothing.
    Returns the factor applied."""
    now = now or timezone.now()
    t0 = current_epoch(for_update=True)
    scale = 2.0 ** ((t0 - now).total_seconds() / conf.half_life_seconds())
    for model in (Trending, TrendingGenre):
        model.objects.update(score=F("score") * scale)
        model.objects.filter(score__lt=EPSILON).delete()
    TrendingEpoch.objects.filter(pk=1).update(t0=now)
    TrendingDay.objects.filter(day__lt=(now - dt.timedelta(days=8)).date()).delete()
    TrendingDay.objects.filter(count__lte=0).delete()
    return scale


def decayed(score: float, *, t0: dt.datetime, now: dt.datetime) -> float:
    """A stored score as worth at `now`."""
    return max(0.0, score * 2.0 ** ((t0 - now).total_seconds() / conf.half_life_seconds()))
