"""Benchmark: likes and the rating aggregate on PostgreSQL + Redis.

    python bench/reactions.py [--members 5000] [--books 50000] [--reviews 200000]
                              [--likes 300000] [--samples 400]

Uses its own database (`bs_reac_bench` unless DATABASE_URL says otherwise) and Redis DB 14
(CELERY_BROKER_URL). Generates members, books, posts, reviews and likes by COPY (no
events), with one "popular" book holding 2,000 reviews and one popular post with 2,000
likes, then measures:

  * the like request: POST /posts/<id>/like/ and /unlike/ as htmx (in-process Django test
    client, real publish to Redis after commit), alternating, on ordinary and popular posts;
  * the `reactions.book_rating` consumer: the function alone inside a transaction, and a
    whole delivery (`run_delivery`: claim, run, mark done) for real ReviewUpdated events,
    on ordinary books (~4 reviews) and on the popular one;
  * the book page (reviews section) and post page (like count), for context.

Prints a table and writes bench/results/reactions.json. Messages published to the
benchmark's broker are purged at the end (no worker consumes them).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import _common  # noqa: E402 - bench/ is on the path when run as a script

POPULAR_REVIEWS = 2000
POPULAR_LIKES = 2000


def _copy(cur, table: str, columns: str, rows) -> None:
    with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def generate(args) -> dict:
    """Fill the database once (a rerun with the same sizes reuses it)."""
    from django.db import connection
    from django.utils import timezone

    from accounts.models import User
    from books.models import Book, BookPost
    from reactions.models import BookRating, PostLike, Review

    if Review.objects.count() >= args.reviews and PostLike.objects.count() >= args.likes:
        _common.progress("reusing the generated data")
        return {}
    _common.progress("generating data …")
    for model in (BookRating, PostLike, Review, BookPost, Book):
        model.objects.all()._raw_delete(model.objects.db)
    User.objects.filter(username__startswith="rb").delete()
    now = timezone.now()
    rng = random.Random(5)
    raw = connection.connection
    with raw.cursor() as cur:
        cur.execute("SELECT coalesce(max(id), 0) FROM accounts_user")
        first_user = cur.fetchone()[0] + 1
    users = []
    for i in range(args.members):
        users.append(
            (first_user + i, f"rb{i}", f"rb{i}@example.org", now, "!", False, False, True, now)
        )
    with raw.cursor() as cur:
        cur.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name='accounts_user'"
        )
        cols = {r[0] for r in cur.fetchall()}
        extra = {
            c: "" for c in ("first_name", "last_name", "bio") if c in cols
        }  # NOT NULL text columns
        columns = (
            "id, username, email, email_verified_at, password, is_staff, is_superuser, "
            "is_active, date_joined"
        )
        rows = users
        if extra:
            columns += ", " + ", ".join(extra)
            rows = [u + tuple(extra.values()) for u in users]
        _copy(cur, "accounts_user", columns, rows)
        _copy(
            cur,
            "books_book",
            "id, title, subtitle, publisher, language, description, cover_url, cover, "
            "match_key, created_at",
            (
                (b, f"Bench Book {b}", "", "", "en", "", "", "", f"bench book {b}|", now)
                for b in range(1, args.books + 1)
            ),
        )
        user_ids = [u[0] for u in users]
        _copy(
            cur,
            "books_bookpost",
            "id, book_id, owner_id, offer, condition, location, note, status, "
            "created_at, updated_at",
            (
                (p, p, rng.choice(user_ids), "give", "good", "Leeds", "", "available", now, now)
                for p in range(1, args.books + 1)
            ),
        )
        # Reviews: book 1 is popular; the rest spread evenly.
        seen = set()
        reviews = []
        for uid in user_ids[:POPULAR_REVIEWS]:
            seen.add((uid, 1))
            reviews.append((1, uid, rng.randint(1, 5), "Bench review.", now, now))
        while len(reviews) < args.reviews:
            key = (rng.choice(user_ids), rng.randint(2, args.books))
            if key not in seen:
                seen.add(key)
                reviews.append((key[1], key[0], rng.randint(1, 5), "", now, now))
        _copy(
            cur,
            "reactions_review",
            "book_id, user_id, rating, text, created_at, updated_at",
            reviews,
        )
        seen = set()
        likes = []
        for uid in user_ids[:POPULAR_LIKES]:
            seen.add((1, uid))
            likes.append((1, uid, now))
        while len(likes) < args.likes:
            key = (rng.randint(2, args.books), rng.choice(user_ids))
            if key not in seen:
                seen.add(key)
                likes.append((*key, now))
        _copy(cur, "reactions_postlike", "post_id, user_id, created_at", likes)
        for table in ("accounts_user", "books_book", "books_bookpost"):
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT max(id) FROM {table}))"
            )
    raw.commit()
    with connection.cursor() as c:
        c.execute("ANALYZE")
    from reactions.ratings import rebuild

    _common.progress("computing ratings for a sample of books …")
    rebuild(range(1, min(args.books, 2000) + 1))
    return {}


def measure_likes(samples: int) -> dict:
    from django.test import Client

    from accounts.models import User

    rng = random.Random(9)
    # A member with no likes yet, so like/unlike alternate cleanly.
    member = User.objects.filter(username__startswith="rb").order_by("-id").first()
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(member)
    from books.models import BookPost

    max_post = BookPost.objects.order_by("-id").values_list("id", flat=True).first()
    out = {}
    for label, pick in (
        ("like request (ordinary post)", lambda: rng.randint(2, max_post)),
        ("like request (popular post, 2,000 likes)", lambda: 1),
    ):
        timings = []
        for _ in range(samples // 2):
            post_id = pick()
            for action in ("like", "unlike"):
                started = time.perf_counter()
                response = client.post(f"/posts/{post_id}/{action}/", HTTP_HX_REQUEST="true")
                timings.append(time.perf_counter() - started)
                assert response.status_code == 200, response.status_code
        out[label] = timings
    return out


def measure_consumer(samples: int) -> dict:
    from django.db import transaction

    from bookshare.eventbus.delivery import run_delivery
    from bookshare.eventbus.models import Delivery
    from reactions import services
    from reactions.consumers import book_rating
    from reactions.events import ReviewUpdated
    from reactions.models import Review

    rng = random.Random(13)
    ordinary = list(
        Review.objects.filter(book_id__gt=1, book_id__lte=2000).values_list(
            "pk", "book_id", "user_id", "rating"
        )[: samples * 2]
    )
    out = {}

    def event_for(row):
        pk, book_id, user_id, rating = row
        return ReviewUpdated(
            review_id=pk, book_id=book_id, user_id=user_id, rating=rating, previous_rating=rating
        )

    popular = list(
        Review.objects.filter(book_id=1).values_list("pk", "book_id", "user_id", "rating")[:samples]
    )
    for label, rows in (
        ("rating consumer, function (book with ~4 reviews)", ordinary[:samples]),
        ("rating consumer, function (book with 2,000 reviews)", popular),
    ):
        timings = []
        for row in rows:
            started = time.perf_counter()
            with transaction.atomic():
                book_rating(event_for(row), {})
            timings.append(time.perf_counter() - started)
        out[label] = timings

    # Whole deliveries of real events: edit reviews through the service (publishes), then
    # run each delivery in this process as the worker would.
    for label, rows in (
        ("rating delivery, run_delivery (book with ~4 reviews)", ordinary[samples : samples * 2]),
        ("rating delivery, run_delivery (book with 2,000 reviews)", popular),
    ):
        Delivery.objects.filter(consumer="reactions.book_rating").delete()
        for pk, *_ in rows:
            review = Review.objects.get(pk=pk)
            services.review_update(
                review=review, rating=rng.choice([r for r in range(1, 6) if r != review.rating])
            )
        timings = []
        for delivery_id in (
            Delivery.objects.filter(consumer="reactions.book_rating")
            .order_by("id")
            .values_list("id", flat=True)
        ):
            started = time.perf_counter()
            assert run_delivery(delivery_id) == "done"
            timings.append(time.perf_counter() - started)
        out[label] = timings
    return out


def measure_pages(samples: int) -> dict:
    from django.test import Client

    from accounts.models import User

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.filter(username="rb0").first())
    rng = random.Random(17)
    out = {}
    for label, url in (
        ("book page (ordinary book)", lambda: f"/books/{rng.randint(2, 2000)}/"),
        ("book page (2,000 reviews)", lambda: "/books/1/"),
        ("post page (ordinary post)", lambda: f"/posts/{rng.randint(2, 2000)}/"),
        ("post page (2,000 likes)", lambda: "/posts/1/"),
    ):
        timings = []
        for _ in range(samples // 2):
            target = url()
            started = time.perf_counter()
            response = client.get(target)
            timings.append(time.perf_counter() - started)
            assert response.status_code == 200
        out[label] = timings
    return out


def purge_broker() -> None:
    from bookshare.celery import app

    with app.connection_for_write() as conn:
        conn.default_channel.client.flushdb()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=5000)
    parser.add_argument("--books", type=int, default=50000)
    parser.add_argument("--reviews", type=int, default=200000)
    parser.add_argument("--likes", type=int, default=300000)
    parser.add_argument("--samples", type=int, default=400)
    args = parser.parse_args()
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("ACCOUNTS_RATELIMIT_ENABLED", "false")
    _common.setup_django(db_name="bs_reac_bench", redis_db=14)
    generate(args)
    results = {}
    _common.progress("like requests …")
    results.update(measure_likes(args.samples))
    _common.progress("rating consumer …")
    results.update(measure_consumer(args.samples))
    _common.progress("pages …")
    results.update(measure_pages(args.samples))
    purge_broker()
    summary = {label: _common.summary_ms(t) for label, t in results.items()}
    _common.print_table(
        f"reactions on PostgreSQL + Redis ({args.reviews:,} reviews, {args.likes:,} likes)",
        [(label, s["n"], s["p50_ms"], s["p95_ms"]) for label, s in summary.items()],
        ("measurement", "n", "p50 ms", "p95 ms"),
    )
    _common.write_json("reactions", {"sizes": vars(args), "results": summary})


if __name__ == "__main__":
    main()
