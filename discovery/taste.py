"""What members like, as item-to-item co-occurrence, and each member's stored
recommendations. Every function does bounded work: a member's basket holds at most
DISCOVERY_MEMBER_CAP books, so bringing it in line touches at most 2 × cap × (cap − 1)
pair rows, and a member's refresh reads at most DISCOVERY_SEEDS × DISCOVERY_NEIGHBOURS
pair rows.

The two halves are separate jobs. An event applies its fact (the signal and trending, a
constant handful of statements) and, when the book's place in the member's taste may
have changed, only marks the member dirty (`mark_dirty`: one row per member, one job
sent). The job (`refresh_pending`, task `discovery.refresh_member`) runs a couple of
seconds later, once for however many events arrived meanwhile: it brings the member's
basket and the pairs in line with their signals (`basket_reconcile`) and, if a seed came
or went, recomputes their list.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import F, Min, Q, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from books.models import Book, BookPost

from . import conf, trending
from .models import (
    BookPair,
    BookStat,
    MemberBook,
    NotInterested,
    PendingRefresh,
    Recommendation,
    Signal,
    Trending,
    TrendingGenre,
)
from .sql import increment

log = logging.getLogger(__name__)

K = Signal.Kind
LIST_KINDS = {K.WANT, K.READING, K.READ, K.FAVOURITE, K.CUSTOM}
# What makes a book part of a member's public taste (the co-occurrence basket).
POSITIVE_KINDS = LIST_KINDS | {K.LIKE, K.REQUEST}
# What a member's recommendations start from, and how much each counts.
SEED_WEIGHTS = {K.FAVOURITE: 3.0, K.READ: 1.5, K.READING: 1.2, K.WANT: 1.0}
REVIEW_SEED_WEIGHT = {5: 3.0, 4: 2.0}
# Books a member already has: never recommended to them.
HAVE_KINDS = LIST_KINDS | {K.REVIEW}


def trend_weight(kind: str, public: bool) -> float:
    """What a signal adds to trending. Private list items add nothing anyone else sees."""
    if not public:
        return 0.0
    w = conf.weights()
    if kind == K.FAVOURITE:
        return w["favourites"]
    if kind in LIST_KINDS:
        return w["list"]
    return w.get(kind, 0.0)


# -- Signals --------------------------------------------------------------------------


def record(
    *,
    key: str,
    user_id: int,
    book_id: int,
    kind: str,
    at: dt.datetime,
    active: bool = True,
    public: bool = True,
    rating: int | None = None,
) -> bool:
    """Apply one fact to the Signal log and trending (one statement each).

    Idempotent and order-safe: an event older than the last one applied to the same key is
    ignored; a repeat changes nothing. The rest follows in the member's coalesced job
    (`mark_dirty`, `refresh_pending`): when the book's place in their public taste may have
    changed, the job brings their basket and its pairs in line (`basket_reconcile`); when a
    seed came or went (see `seed_weight`), it also recomputes their list. The one stored
    recommendation of a book that became something they have is dropped now. Returns
    whether anything changed.
    """
    member_lock(user_id)
    signal = Signal.objects.select_for_update().filter(key=key).first()
    if signal is not None and signal.changed_at > at:
        return False
    if signal is None:
        if not active:
            # A removal seen before its addition: remember it, so the late add is ignored.
            Signal.objects.create(
                key=key, user_id=user_id, book_id=book_id, kind=kind, public=public,
                rating=rating, active=False, added_at=at, changed_at=at,
            )  # fmt: skip
            return False
        signal = Signal(key=key, user_id=user_id, book_id=book_id, active=False, added_at=at)
    seed_before = seed_weight(signal) > 0
    positive_before = _positive(signal)
    was_active = signal.active
    if was_active and signal.trend_weight and (not active or not public):
        trending.apply(
            book_id=signal.book_id, weight=signal.trend_weight, at=signal.added_at, sign=-1
        )
        signal.trend_weight = 0.0
    if active and not was_active:
        signal.added_at = at
        signal.trend_weight = trend_weight(kind, public)
        trending.apply(book_id=book_id, weight=signal.trend_weight, at=at, sign=1)
    if not active:
        signal.trend_weight = 0.0
    signal.kind = kind
    signal.public = public
    if rating is not None:
        signal.rating = rating
    signal.active = active
    signal.changed_at = at
    signal.save()
    seed_changed = seed_before or seed_weight(signal) > 0
    # A book that became something the member has leaves their stored list now.
    drop = signal.book_id if signal.active and signal.kind in HAVE_KINDS | {K.POST} else None
    if seed_changed or _positive(signal) != positive_before:
        # The member's job brings their basket (and so the pairs) in line with their
        # signals, and recomputes their list if a seed came or went.
        mark_dirty(signal.user_id, recompute=seed_changed, drop_book_id=drop)
    elif drop is not None:
        Recommendation.objects.filter(user_id=signal.user_id, book_id=drop).delete()
    return True


# Advisory-lock namespace for one member's taste (an arbitrary constant of this app).
_MEMBER_LOCK_NS = 7411


def member_lock(user_id: int) -> None:
    """Serialise one member's facts for the rest of this transaction.

    Two deliveries for the same member (adding Dune and Hyperion at once, on two worker
    processes) would each read the basket without the other's book and neither would
    count the pair. PostgreSQL: a transaction-scoped advisory lock per member (no row of
    another app is locked). SQLite runs one writer at a time anyway.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, %s)", [_MEMBER_LOCK_NS, user_id % 2**31]
            )


def seed_weight(signal: Signal) -> float:
    """How much an active signal counts as a starting point for recommendations."""
    if not signal.active:
        return 0.0
    if signal.kind == K.REVIEW:
        return REVIEW_SEED_WEIGHT.get(signal.rating or 0, 0.0)
    return SEED_WEIGHTS.get(signal.kind, 0.0)


def _positive(signal: Signal) -> bool:
    """Whether this one signal puts its book in the member's public taste."""
    return bool(
        signal.active
        and signal.public
        and (
            signal.kind in POSITIVE_KINDS or (signal.kind == K.REVIEW and (signal.rating or 0) >= 4)
        )
    )


# -- Baskets and pairs ------------------------------------------------------------------


def positive_signals():
    """Signals that put their book in a member's public taste: the query form of
    `_positive`, shared by the member's job and `discovery rebuild`."""
    return Signal.objects.filter(active=True, public=True).filter(
        Q(kind__in=POSITIVE_KINDS) | Q(kind=K.REVIEW, rating__gte=4)
    )


def positive_books(user_id: int) -> dict[int, dt.datetime]:
    """The member's public positive books → their first positive signal's time."""
    return dict(
        positive_signals()
        .filter(user_id=user_id)
        .values("book_id")
        .annotate(since=Min("added_at"))
        .order_by()
        .values_list("book_id", "since")
    )


def _ordered_pairs(books: set[int], touching: set[int]) -> list[tuple[int, int]]:
    """Every ordered pair of distinct `books` with at least one end in `touching`."""
    return [(a, b) for a in books for b in books if a != b and (a in touching or b in touching)]


def basket_reconcile(user_id: int) -> bool:
    """Bring the member's basket in line with their signals, as `discovery rebuild` would
    build it: their DISCOVERY_MEMBER_CAP latest public positive books by (first positive
    signal, book id). The pairs and book counts change by the difference between the old
    basket and the new one, so however many events a job takes up, it touches at most
    2 × cap × (cap − 1) pair rows, in one statement, locked in key order. Returns whether
    anything changed. Runs under the member's advisory lock (refresh_pending)."""
    wanted = positive_books(user_id)
    cap = conf.member_cap()
    latest = sorted(wanted.items(), key=lambda kv: (kv[1], kv[0]), reverse=True)
    new_basket = {b for b, _ in latest[:cap]} if cap > 0 else set()
    have = {
        book_id: (pk, inside)
        for pk, book_id, inside in MemberBook.objects.filter(user_id=user_id).values_list(
            "pk", "book_id", "in_basket"
        )
    }
    old_basket = {b for b, (_, inside) in have.items() if inside}
    gone = [pk for b, (pk, _) in have.items() if b not in wanted]
    into = [have[b][0] for b in new_basket if b in have and not have[b][1]]
    out_of = [have[b][0] for b in old_basket - new_basket if b in wanted]
    fresh = [
        MemberBook(user_id=user_id, book_id=b, since=since, in_basket=b in new_basket)
        for b, since in wanted.items()
        if b not in have
    ]
    if not (gone or into or out_of or fresh):
        return False
    if gone:
        MemberBook.objects.filter(pk__in=gone).delete()
    if into:
        MemberBook.objects.filter(pk__in=into).update(in_basket=True)
    if out_of:
        MemberBook.objects.filter(pk__in=out_of).update(in_basket=False)
    if fresh:
        MemberBook.objects.bulk_create(fresh)
    removed, added = old_basket - new_basket, new_basket - old_basket
    pairs = [(a, b, -1) for a, b in _ordered_pairs(old_basket, removed)]
    pairs += [(a, b, 1) for a, b in _ordered_pairs(new_basket, added)]
    increment(BookPair, ["book_id", "other_id"], "count", pairs)
    stats = [(b, -1) for b in removed] + [(b, 1) for b in added]
    increment(BookStat, ["book_id"], "members", stats)
    return True


# -- Recommendations ----------------------------------------------------------------------


@dataclass
class Candidate:
    book_id: int
    score: float
    reason: str
    reason_book_id: int | None = None
    reason_genre_id: int | None = None


def seeds_for(user_id: int, *, now: dt.datetime) -> dict[int, float]:
    """A member's recent favourites, 4–5 ratings, read and want-to-read books → weight."""
    rows = (
        Signal.objects.filter(user_id=user_id, active=True)
        .filter(Q(kind__in=SEED_WEIGHTS) | Q(kind=K.REVIEW, rating__gte=4))
        .order_by("-changed_at")
        .values_list("book_id", "kind", "rating", "changed_at")[: conf.seed_count() * 2]
    )
    half_life = conf.recency_half_life_seconds()
    seeds: dict[int, float] = {}
    for book_id, kind, rating, at in rows:
        base = REVIEW_SEED_WEIGHT.get(rating or 0, 0.0) if kind == K.REVIEW else SEED_WEIGHTS[kind]
        age = max(0.0, (now - at).total_seconds())
        w = base * 2.0 ** (-age / half_life)
        seeds[book_id] = max(seeds.get(book_id, 0.0), w)
        if len(seeds) >= conf.seed_count():
            break
    return seeds


def strongest_pairs(book_ids: list[int], per_book: int) -> list[tuple[int, int, int]]:
    """(book, other, count) for each book's `per_book` strongest pairs with enough support.

    PostgreSQL: one index range scan with a LIMIT per book (LATERAL), however many pairs a
    bestseller has. Elsewhere: a window function over the books' pairs.
    """
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(BookPair._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                # The table name comes from model metadata, quoted; values are parameters.
                "SELECT s.book_id, p.other_id, p.count FROM unnest(%s::bigint[]) AS s(book_id) "  # noqa: S608
                f"CROSS JOIN LATERAL (SELECT other_id, count FROM {table} "
                "WHERE book_id = s.book_id AND count >= %s "
                "ORDER BY count DESC, other_id LIMIT %s) AS p",
                [book_ids, conf.min_support(), per_book],
            )
            return cursor.fetchall()
    return list(
        BookPair.objects.filter(book_id__in=book_ids, count__gte=conf.min_support())
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("book_id")],
                order_by=[F("count").desc(), F("other_id")],
            )
        )
        .filter(rank__lte=per_book)
        .values_list("book_id", "other_id", "count")
    )


def related(seeds: dict[int, float]) -> dict[int, Candidate]:
    """Books related to the seeds: Σ seed weight × cosine(seed, book), with the seed that
    contributed most as the reason. Only pairs with at least DISCOVERY_MIN_SUPPORT members
    count, and only each seed's DISCOVERY_NEIGHBOURS strongest."""
    if not seeds:
        return {}
    pairs = strongest_pairs(list(seeds), conf.neighbour_count())
    ids = {b for b, _, _ in pairs} | {o for _, o, _ in pairs}
    alpha, shrink = conf.similarity_alpha(), conf.shrinkage()
    norms = dict(BookStat.objects.filter(book_id__in=ids).values_list("book_id", "members"))
    found: dict[int, Candidate] = {}
    best: dict[int, float] = {}
    for seed, other, count in pairs:
        if other in seeds:
            continue
        n_seed, n_other = max(norms.get(seed, 0), count), max(norms.get(other, 0), count)
        # alpha 0.5 is cosine; higher alpha forgives a candidate's popularity a little.
        similarity = count / (n_seed**alpha * n_other ** (1 - alpha))
        part = seeds[seed] * similarity * count / (count + shrink)
        candidate = found.setdefault(other, Candidate(other, 0.0, Recommendation.Reason.BECAUSE))
        candidate.score += part
        if part > best.get(other, 0.0):
            best[other] = part
            candidate.reason_book_id = seed
    return found


def joined_genre_ids(user_id: int) -> list[int]:
    from django.contrib.auth import get_user_model

    through = get_user_model().favourite_genres.through
    return list(through.objects.filter(user_id=user_id).values_list("genre_id", flat=True))


def popular_fill(
    *, genre_ids: list[int], limit: int, exclude: set[int] = frozenset()
) -> list[Candidate]:
    """Trending books in the member's genres, then overall (new members, and the tail)."""
    out: list[Candidate] = []
    seen = set(exclude)
    if genre_ids:
        for genre_id, book_id in (
            TrendingGenre.objects.filter(genre_id__in=genre_ids, score__gt=trending.EPSILON)
            .order_by("-score", "book_id")
            .values_list("genre_id", "book_id")[: limit * 2]
        ):
            if book_id not in seen:
                seen.add(book_id)
                out.append(Candidate(book_id, 0.0, Recommendation.Reason.GENRE, None, genre_id))
    for book_id in (
        Trending.objects.filter(score__gt=trending.EPSILON)
        .order_by("-score", "book_id")
        .values_list("book_id", flat=True)[: limit * 2]
    ):
        if book_id not in seen:
            seen.add(book_id)
            out.append(Candidate(book_id, 0.0, Recommendation.Reason.TRENDING))
    return out


def excluded_for(user_id: int, book_ids: set[int]) -> set[int]:
    """Of `book_ids`: on any of the member's lists (private too) or reviewed, their own
    posts, and what they said they are not interested in."""
    if not book_ids:
        return set()
    ids = list(book_ids)
    have = (
        Signal.objects.filter(user_id=user_id, active=True, kind__in=HAVE_KINDS, book_id__in=ids)
        .order_by()
        .values_list("book_id", flat=True)
    )
    # Also the lists and reactions tables themselves: a book just added is excluded even
    # before discovery's consumer has seen its event.
    from lists.models import ListItem
    from reactions.models import Review

    listed = (
        ListItem.objects.filter(owner_id=user_id, book_id__in=ids)
        .order_by()
        .values_list("book_id", flat=True)
    )
    reviewed = (
        Review.objects.filter(user_id=user_id, book_id__in=ids)
        .order_by()
        .values_list("book_id", flat=True)
    )
    own = (
        BookPost.objects.filter(owner_id=user_id, book_id__in=ids)
        .order_by()
        .values_list("book_id", flat=True)
    )
    no = (
        NotInterested.objects.filter(user_id=user_id, book_id__in=ids)
        .order_by()
        .values_list("book_id", flat=True)
    )
    return set(have.union(listed, reviewed, own, no))  # one round trip


def compute(user_id: int, *, now: dt.datetime | None = None) -> list[Candidate]:
    now = now or timezone.now()
    limit = conf.rec_count()
    seeds = seeds_for(user_id, now=now)
    found = related(seeds)
    genres = joined_genre_ids(user_id)
    if genres and found:
        boosted = set(
            Book.genres.through.objects.filter(
                book_id__in=list(found), genre_id__in=genres
            ).values_list("book_id", flat=True)
        )
        for book_id in boosted:
            found[book_id].score *= 1 + conf.genre_boost()
    ordered = sorted(found.values(), key=lambda c: (-c.score, c.book_id))
    # Exclusions are checked for the best few only (bounded IN lists); members who have
    # most of them get a second, wider look.
    window = limit * 3
    ranked: list[Candidate] = []
    while ordered:
        head = ordered[:window]
        excluded = excluded_for(user_id, {c.book_id for c in head})
        ranked = [c for c in head if c.book_id not in excluded][:limit]
        if len(ranked) >= limit or window >= len(ordered):
            break
        window *= 4
    if len(ranked) < limit:
        # Too few related books (a new member, a niche taste): trending in their genres,
        # then overall.
        fill = popular_fill(genre_ids=genres, limit=limit, exclude=set(found) | set(seeds))
        excluded = excluded_for(user_id, {c.book_id for c in fill})
        for position, c in enumerate(x for x in fill if x.book_id not in excluded):
            if len(ranked) >= limit:
                break
            c.score = -1.0 - position  # after every related book, in trending order
            ranked.append(c)
    return ranked


def refresh(user_id: int, *, now: dt.datetime | None = None) -> int:
    """Recompute and store a member's recommendations. Returns how many."""
    from django.contrib.auth import get_user_model

    ranked = compute(user_id, now=now)
    Recommendation.objects.filter(user_id=user_id).delete()
    if ranked and not get_user_model().objects.filter(pk=user_id).exists():
        return 0  # the member was deleted after the event: nothing to store
    Recommendation.objects.bulk_create(
        [
            Recommendation(
                user_id=user_id,
                book_id=c.book_id,
                score=c.score,
                reason=c.reason,
                reason_book_id=c.reason_book_id,
                reason_genre_id=c.reason_genre_id,
            )
            for c in ranked
        ]
    )
    return len(ranked)


# -- The refresh job: one per member, however many events ---------------------------------


def mark_dirty(
    user_id: int,
    *,
    recompute: bool = True,
    drop_book_id: int | None = None,
    now: dt.datetime | None = None,
) -> bool:
    """Note that the member's job must run (their basket may have changed; with
    `recompute`, a seed too, so their list must be recomputed), and send the job once
    this transaction commits — unless one is pending already, which will see this event's
    changes too. ONE statement: an INSERT of the member's row that, when the row is there,
    only raises its `recompute` if asked and not yet raised (ON CONFLICT DO UPDATE …
    WHERE). N events in the window cost N statements and send one job; the one case that
    changes a pending row (a seed after a like, say) sends a second job, which finds the
    row taken by the first and does nothing. Returns whether a job was sent. Runs under
    the member's advisory lock (record / genre_membership), so it cannot interleave with
    the job taking the row. `drop_book_id`: also delete the member's stored
    recommendation of that book (on PostgreSQL in the same statement, a data-modifying
    CTE)."""
    due = (now or timezone.now()) + dt.timedelta(seconds=conf.refresh_delay_seconds())
    table = connection.ops.quote_name(PendingRefresh._meta.db_table)
    # Identifiers from model metadata, quoted; values are parameters.
    sql = (
        f"INSERT INTO {table} (user_id, due_at, recompute) VALUES (%s, %s, %s) "  # noqa: S608
        "ON CONFLICT (user_id) DO UPDATE SET recompute = excluded.recompute "
        f"WHERE excluded.recompute AND NOT {table}.recompute"
    )
    params: list = [user_id, due, recompute]
    if drop_book_id is not None and connection.vendor == "postgresql":
        recs = connection.ops.quote_name(Recommendation._meta.db_table)
        sql = f"WITH d AS (DELETE FROM {recs} WHERE user_id = %s AND book_id = %s) {sql}"  # noqa: S608
        params = [user_id, drop_book_id, *params]
    elif drop_book_id is not None:
        Recommendation.objects.filter(user_id=user_id, book_id=drop_book_id).delete()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        sent = cursor.rowcount == 1  # inserted, or its recompute raised
    if sent:
        transaction.on_commit(lambda: send_refresh(user_id), robust=True)
    return sent


def send_refresh(user_id: int) -> None:
    """Send `discovery.refresh_member` to the suggestions queue, to run when due. A broker
    failure is only logged: the beat sweep (refresh_stalest) takes overdue rows."""
    from bookshare.celery import app
    from bookshare.eventbus.publisher import time_limits

    try:
        app.send_task(
            "discovery.refresh_member",
            args=[user_id],
            queue="suggestions",
            countdown=conf.refresh_delay_seconds(),
            **time_limits("suggestions"),  # the queue's limits, as its deliveries carry
        )
    except Exception:  # noqa: BLE001 - the sweep recovers; the consumer must not fail
        log.warning("could not send discovery.refresh_member(%s); the sweep will", user_id)


def refresh_pending(user_id: int) -> bool:
    """The job: if the member is marked, take the mark, bring their basket in line
    (`basket_reconcile`) and, if a seed changed, recompute their list — in one
    transaction under their advisory lock (an event of theirs waits for it, then marks
    them again). A job whose mark was taken already (a repeat, the sweep) does nothing.
    Returns whether it ran."""
    with transaction.atomic():
        member_lock(user_id)
        table = connection.ops.quote_name(PendingRefresh._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                # Identifier from model metadata, quoted; the value is a parameter.
                f"DELETE FROM {table} WHERE user_id = %s RETURNING recompute",  # noqa: S608
                [user_id],
            )
            row = cursor.fetchone()
        if row is None:
            return False
        basket_reconcile(user_id)
        if row[0]:
            refresh(user_id)
    return True


def refresh_overdue(
    *, now: dt.datetime | None = None, grace: float = 60.0, limit: int = 500
) -> int:
    """Members marked more than `grace` seconds past due (their job was lost, or the
    broker was down): refresh them now."""
    now = now or timezone.now()
    users = list(
        PendingRefresh.objects.filter(due_at__lt=now - dt.timedelta(seconds=grace))
        .order_by("due_at")
        .values_list("user_id", flat=True)[:limit]
    )
    return sum(refresh_pending(u) for u in users)


def refresh_stalest(*, limit: int = 200, now: dt.datetime | None = None) -> int:
    """Refresh the active members (a signal in the last 30 days) whose stored
    recommendations are oldest or missing (beat, every few minutes): other members'
    activity changes co-occurrence without touching their rows. First, members whose
    refresh job is overdue (`refresh_overdue`)."""
    from django.db.models import Min

    now = now or timezone.now()
    refresh_overdue(now=now)
    active = set(
        Signal.objects.filter(changed_at__gte=now - dt.timedelta(days=30))
        .values_list("user_id", flat=True)
        .distinct()
    )
    computed = dict(
        Recommendation.objects.filter(user_id__in=active)
        .values("user_id")
        .annotate(oldest=Min("computed_at"))
        .values_list("user_id", "oldest")
    )
    never = dt.datetime.min.replace(tzinfo=dt.UTC)
    users = sorted(active, key=lambda u: (computed.get(u, never), u))[:limit]
    for user_id in users:
        with transaction.atomic():
            member_lock(user_id)
            PendingRefresh.objects.filter(user_id=user_id).delete()
            basket_reconcile(user_id)
            refresh(user_id)
    return len(users)
