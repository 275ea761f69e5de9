"""Benchmark: price comparisons against local stand-in providers, through real workers.

    python bench/prices.py [--comparisons 200] [--runs 3] [--concurrency 4]

Needs PostgreSQL and the redis-server binary: it uses the database `bs_cat_bench` (unless
DATABASE_URL says otherwise) and starts a private redis-server (broker and shared cache,
so the circuit breaker is shared as in production). Local stand-ins of Open Library,
Google Books and ISBNdb (catalogue.fakes) answer in 50–500 ms; ISBNdb fails (HTTP 500).
Request rate limits are off (they would measure Open Library's 3/s, not our code).

Each run:
  * starts N comparisons at once (services.comparison_request, as the "Compare prices"
    button does) and measures the time until every quote is stored by the workers;
  * meanwhile requests book pages (Django test client, in process): p50/p95. Each book
    has what a real page shows: two authors, a genre, a cover, details, copies (a third
    of the books), 5 reviews and its rating, and sits on 12 public and 3 private lists;
  * then the post form's ISBN lookup with Google Books slow past the timeout: p95.
Prints a table (median and range over the runs) and writes bench/results/prices.json.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _common import ensure_database, pct, print_table, progress, write_json  # noqa: E402

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/bs_cat_bench"
GOALS = {"book_page_p50_ms": 30.0, "lookup_p95_ms": 3000.0}


def setup(redis_port: int) -> None:
    os.environ.setdefault("DATABASE_URL", DEFAULT_DB)
    os.environ["CELERY_BROKER_URL"] = f"redis://127.0.0.1:{redis_port}/0"
    os.environ["CACHE_URL"] = f"rediscache://127.0.0.1:{redis_port}/1"
    os.environ["DJANGO_SETTINGS_MODULE"] = "bookshare.test_settings"
    os.environ["IGNORE_DOTENV"] = "1"
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ["ALLOWED_HOSTS"] = "testserver,localhost"
    os.environ["PRICES_REQUESTS_PER_HOUR"] = "1000000"
    os.environ["CATALOGUE_RATE_LIMITS"] = "openlibrary=0,googlebooks=0,isbndb=0"
    os.environ.setdefault("VAR_DIR", str(ROOT / "var" / "bench"))
    ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command

    progress("migrating the benchmark database …")
    call_command("migrate", verbosity=0, interactive=False)


def isbn13(rng: random.Random) -> str:
    from books.isbn import isbn13_check_digit

    first12 = "978" + "".join(str(rng.randint(0, 9)) for _ in range(9))
    return first12 + isbn13_check_digit(first12)


def one_run(*, n: int, fake, rng: random.Random) -> dict:
    from django.core.cache import cache
    from django.db import transaction
    from django.test import Client

    from books.models import BookPost
    from books.services import book_create
    from books.tests.factories import UserFactory
    from catalogue import services
    from catalogue.lookup import lookup_isbn
    from catalogue.models import JobStatus, PriceComparison

    cache.clear()
    fake.configure(
        modes={"isbndb": "500"},
        delay={"openlibrary": (0.05, 0.5), "google": (0.05, 0.5), "isbndb": (0.05, 0.5)},
    )
    tag = time.time_ns()
    member = UserFactory(username=f"bench{tag}", email=f"bench{tag}@example.org")
    books = []
    with transaction.atomic():
        for i in range(n):
            book = book_create(
                title=f"Bench Book {rng.random()}",
                authors=["Ben Chmark", "Ann Other"],
                isbn13=isbn13(rng),
                request_details=False,
            )
            if i % 3 == 0:
                BookPost.objects.create(book=book, owner=member)
            books.append(book)
        furnish(books, tag=tag, rng=rng)

    pages: list[float] = []
    stop = threading.Event()

    def browse():
        client = Client()
        local = random.Random(1)
        while not stop.is_set():
            book = local.choice(books)
            started = time.perf_counter()
            response = client.get(book.get_absolute_url())
            pages.append(time.perf_counter() - started)
            assert response.status_code == 200

    # The same pages with nothing else running, for comparison.
    idle, client = [], Client()
    for book in books[:100]:
        started = time.perf_counter()
        client.get(book.get_absolute_url())
        idle.append(time.perf_counter() - started)

    browser = threading.Thread(target=browse, daemon=True)
    ids = []
    started = time.perf_counter()
    browser.start()
    for book in books:
        comparison, _ = services.comparison_request(book=book, member=member)
        ids.append(comparison.pk)
    while PriceComparison.objects.filter(pk__in=ids, status=JobStatus.DONE).count() < n:
        if time.perf_counter() - started > 600:
            raise SystemExit("comparisons did not finish within 10 minutes")
        time.sleep(0.2)
    all_stored = time.perf_counter() - started
    stop.set()
    browser.join()

    # The lookup with Google Books slow past the timeout (and nothing cached).
    fake.configure(modes={"google": "slow"}, delay={})
    lookups = []
    for _ in range(30):
        started = time.perf_counter()
        result = lookup_isbn(isbn13(rng))
        lookups.append(time.perf_counter() - started)
        assert result.status == "found", result.status
    return {
        "all_quotes_stored_s": round(all_stored, 2),
        "book_page_p50_ms": round(pct(pages, 0.5) * 1000, 1),
        "book_page_p95_ms": round(pct(pages, 0.95) * 1000, 1),
        "book_pages": len(pages),
        "book_page_idle_p50_ms": round(pct(idle, 0.5) * 1000, 1),
        "lookup_p95_ms": round(pct(lookups, 0.95) * 1000, 1),
    }


def furnish(books, *, tag: int, rng: random.Random) -> None:
    """What a real book page shows, written in bulk (no events): genre, cover, details,
    reviews and rating, public and private lists."""
    from django.utils import timezone

    from accounts.models import User
    from books.models import Book, Genre
    from catalogue import fakes, images
    from catalogue.models import BookDetails, JobStatus
    from lists.models import ListItem, ListKind, ReadingList
    from reactions.models import Review
    from reactions.ratings import book_rating_refresh

    now = timezone.now()
    genre, _ = Genre.objects.get_or_create(slug="bench-fantasy", defaults={"name": "Bench"})
    cover = images.reencode(fakes.sample_image())
    first = books[0]
    first.cover.save(cover.name, cover, save=True)
    Book.objects.filter(pk__in=[b.pk for b in books[1::3]]).update(cover=first.cover.name)
    for book in books:
        book.genres.add(genre)
    BookDetails.objects.bulk_create(
        [
            BookDetails(
                book=b, status=JobStatus.DONE, pages=320, subjects=["Fantasy"], fetched_at=now
            )
            for b in books
        ]
    )
    readers = User.objects.bulk_create(
        [
            User(username=f"r{tag}x{i}", email=f"r{tag}x{i}@example.org", email_verified_at=now)
            for i in range(30)
        ]
    )
    lists = ReadingList.objects.bulk_create(
        [
            ReadingList(owner=u, kind=ListKind.CUSTOM, name=f"Shelf {j}", is_public=j < 4)
            for u in readers
            for j in range(5)
        ]
    )
    public = [rl for rl in lists if rl.is_public]
    private = [rl for rl in lists if not rl.is_public]
    items, reviews = [], []
    for book in books:
        for rl in rng.sample(public, 12) + rng.sample(private, 3):
            items.append(ListItem(list=rl, book=book, owner_id=rl.owner_id, added_at=now))
        for reader in rng.sample(readers, 5):
            reviews.append(
                Review(book=book, user=reader, rating=rng.randint(1, 5), text="Liked it. " * 30)
            )
    ListItem.objects.bulk_create(items, batch_size=5000)
    Review.objects.bulk_create(reviews, batch_size=5000)
    for book in books:
        book_rating_refresh(book.pk)


def _serve_fakes(conn) -> None:
    """In a process of its own, so its answers don't wait on the benchmark's GIL."""
    from catalogue.fakes import FakeProviders

    server = FakeProviders().start()
    server.any_isbn = True
    conn.send(server.settings())
    while True:
        command, modes, delay = conn.recv()
        if command == "stop":
            server.stop()
            return
        server.reset()
        server.modes.update(modes)
        server.delay.update(delay)
        conn.send("ok")


class RemoteFakes:
    def __init__(self):
        import multiprocessing

        self.conn, child = multiprocessing.Pipe()
        self.proc = multiprocessing.get_context("fork").Process(
            target=_serve_fakes, args=(child,), daemon=True
        )
        self.proc.start()
        self._settings = self.conn.recv()

    def settings(self) -> dict:
        return dict(self._settings)

    def configure(self, *, modes: dict, delay: dict) -> None:
        self.conn.send(("set", modes, delay))
        self.conn.recv()

    def stop(self) -> None:
        self.conn.send(("stop", {}, {}))
        self.proc.join(timeout=10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--comparisons", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()

    import socket

    with socket.socket() as s:  # a free port for the private redis-server
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    fake = RemoteFakes()  # forked before Django starts
    os.environ.update(fake.settings())
    setup(port)
    from bookshare.testing.worker import RedisServer, Worker

    redis = RedisServer()
    redis.port = port
    redis.start()
    worker = Worker(
        queues="catalogue,prices,control",
        concurrency=args.concurrency,
        name="bench-prices",
        env={
            **fake.settings(),
            "CACHE_URL": os.environ["CACHE_URL"],
            "CATALOGUE_RATE_LIMITS": os.environ["CATALOGUE_RATE_LIMITS"],
            "LOG_LEVEL": "INFO",  # the worker says " ready." at INFO
            "PRICES_REQUESTS_PER_HOUR": "1000000",
        },
    )
    # test_database_url() reads the current connection: the benchmark database.
    try:
        worker.start()
    except BaseException:
        worker.kill()  # a worker that never said "ready" must not be left running
        fake.stop()
        redis.stop()
        raise
    rng = random.Random(time.time_ns())  # fresh ISBNs each invocation (the database is kept)
    runs = []
    try:
        for i in range(args.runs):
            progress(f"run {i + 1}/{args.runs}: {args.comparisons} comparisons …")
            runs.append(one_run(n=args.comparisons, fake=fake, rng=rng))
            progress(f"  {runs[-1]}")
    finally:
        worker.stop()
        fake.stop()
        redis.stop()

    rows = []
    for key in runs[0]:
        values = [r[key] for r in runs]
        goal = GOALS.get(key, "")
        rows.append((key, statistics.median(values), f"{min(values)}–{max(values)}", goal or ""))
    print_table(
        f"Price comparisons ({args.comparisons} at once, {args.runs} runs, "
        f"worker concurrency {args.concurrency})",
        rows,
        ("measure", "median", "range", "goal"),
    )
    write_json("prices", {"args": vars(args), "runs": runs})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
