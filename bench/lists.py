"""Benchmark: reading lists and the Goodreads import on PostgreSQL + Redis.

    python bench/lists.py [--members 10000] [--books 100000] [--items 1000000]
                          [--import-rows 5000] [--samples 300] [--runs 3]

Creates (and migrates) its own database, bs_lists_bench, and uses Redis DB 13 (unless
DATABASE_URL / CELERY_BROKER_URL say otherwise). Fills it by COPY up to the given sizes
(members with their four built-in lists and two of their own, books with authors, list
items spread over the lists), then measures, `--runs` times:
  * the one-click add-to-list, remove-from-list and Reading → Read requests (htmx POST,
    in process, including the after-commit send to Redis; so every list event has fresh
    samples), and the list, book and profile pages (signed-in member, in process), with
    /about/ as the same-run baseline (pages are also reported as a ratio to it),
  * each consumer subscribed to the list events (the function, in its transaction), and
    the import consumer per batch of rows, with a one-row UPDATE + COMMIT as the
    same-run floor (the disk flush every delivery waits for),
  * a `--import-rows` Goodreads file end to end: the upload's work (read + rows stored +
    job published), then a real bulk worker (manage.py worker bulk's queues) applying it
    in batches, while a separate email worker's queue latency is sampled.
Prints a table with the median and range over the runs, writes bench/results/lists.json.
Goals (issue 7): every page p50 <= 30 ms; each consumer p95 <= 10 ms; import >= 200 rows/s.
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

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import pct, print_table, progress, setup_django, write_json  # noqa: E402

GOALS = {"page_p50_ms": 30.0, "consumer_p95_ms": 10.0, "import_rows_per_s": 200.0}
PAGES = ("list_page", "book_page", "profile_page")


def _copy(cur, table: str, columns: str, rows) -> None:
    with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def generate(*, members: int, books: int, items: int) -> None:
    """Top the database up to the sizes asked for (idempotent: counts what is there)."""
    from django.db import connection
    from django.utils import timezone

    from accounts.models import User
    from books.models import Author, Book
    from books.services import book_match_key
    from books.text import normalize
    from lists.models import ListItem, ReadingList

    rng = random.Random(7)
    now = timezone.now()
    raw = connection.connection
    have_users = User.objects.filter(username__startswith="lb").count()
    if have_users < members:
        progress(f"members: {have_users} → {members}")
        User.objects.bulk_create(
            [
                User(username=f"lb{i}", email=f"lb{i}@example.org", email_verified_at=now)
                for i in range(have_users, members)
            ],
            batch_size=2000,
            ignore_conflicts=True,
        )
    member_ids = list(
        User.objects.filter(username__startswith="lb").order_by("id").values_list("id", flat=True)
    )
    # Built-in lists for members made by bulk_create (no post_save), two custom lists each.
    have_lists = set(ReadingList.objects.values_list("owner_id", flat=True).distinct())
    missing = [m for m in member_ids if m not in have_lists]
    if missing:
        progress(f"lists for {len(missing)} members")
        rows = []
        for m in missing:
            for kind, name, public in (
                ("want_to_read", "Want to read", True),
                ("reading", "Reading", True),
                ("read", "Read", True),
                ("favourites", "Favourites", True),
                ("custom", "Holiday reads", True),
                ("custom", "Private picks", False),
            ):
                rows.append((m, kind, name, "", public, now, now))
        with raw.cursor() as cur:
            _copy(
                cur,
                "lists_readinglist",
                "owner_id, kind, name, description, is_public, created_at, updated_at",
                rows,
            )
        raw.commit()
    if Author.objects.count() < 2000:
        Author.objects.bulk_create(
            [
                Author(name=f"Writer {i:04d}", name_key=normalize(f"Writer {i:04d}"))
                for i in range(2000)
            ],
            ignore_conflicts=True,
        )
    author_ids = list(Author.objects.order_by("id").values_list("id", "name"))
    have_books = Book.objects.count()
    if have_books < books:
        progress(f"books: {have_books} → {books}")
        with connection.cursor() as c:
            c.execute("SELECT coalesce(max(id), 0) FROM books_book")
            next_id = c.fetchone()[0] + 1
        book_rows, credit_rows = [], []
        for i in range(have_books, books):
            title = f"Generated Book {i}"
            aid, aname = author_ids[i % len(author_ids)]
            cover = f"https://covers.example/{i}.jpg" if i % 2 else ""
            book_rows.append(
                (next_id, title, "", None, "", None, "en", "", cover, "",
                 book_match_key(title=title, first_author=aname), now)
            )  # fmt: skip
            credit_rows.append((next_id, aid, 0))
            next_id += 1
        with raw.cursor() as cur:
            _copy(
                cur,
                "books_book",
                "id, title, subtitle, isbn13, publisher, year, language, description, "
                "cover_url, cover, match_key, created_at",
                book_rows,
            )
            _copy(cur, "books_bookauthor", "book_id, author_id, position", credit_rows)
            cur.execute(
                "SELECT setval(pg_get_serial_sequence('books_book', 'id'), "
                "(SELECT max(id) FROM books_book))"
            )
        raw.commit()
    have_items = ListItem.objects.count()
    if have_items < items:
        progress(f"list items: {have_items} → {items}")
        book_ids = list(Book.objects.values_list("id", flat=True))
        lists_by_owner: dict[int, dict[str, list[int]]] = {}
        for pk, owner_id, kind in ReadingList.objects.filter(owner_id__in=member_ids).values_list(
            "pk", "owner_id", "kind"
        ):
            lists_by_owner.setdefault(owner_id, {}).setdefault(kind, []).append(pk)
        used = set(ListItem.objects.values_list("owner_id", "book_id"))
        per_member = max(1, items // max(1, len(member_ids)))
        todo = items - have_items
        started = time.monotonic()
        batch = []
        written = 0
        for m in member_ids:
            if written >= todo:
                break
            lists = lists_by_owner[m]
            picks = [
                b
                for b in rng.sample(book_ids, min(len(book_ids), per_member + 5))
                if (m, b) not in used
            ]
            for n, book_id in enumerate(picks[:per_member]):
                slot = n % 10
                if slot < 6:
                    kind = ("want_to_read", "reading", "read")[slot % 3]
                    list_id, status = lists[kind][0], kind
                elif slot == 6:
                    list_id, status = lists["favourites"][0], ""
                else:
                    list_id, status = lists["custom"][slot % 2], ""
                batch.append((list_id, book_id, m, status, n, "", now, None))
            if len(batch) >= 50000:
                with raw.cursor() as cur:
                    _copy(
                        cur,
                        "lists_listitem",
                        "list_id, book_id, owner_id, status, position, note, added_at, read_on",
                        batch,
                    )
                raw.commit()
                written += len(batch)
                batch = []
                progress(f"  {written}/{todo} items ({time.monotonic() - started:.0f}s)")
        if batch:
            with raw.cursor() as cur:
                _copy(
                    cur,
                    "lists_listitem",
                    "list_id, book_id, owner_id, status, position, note, added_at, read_on",
                    batch,
                )
            raw.commit()
    with connection.cursor() as c:
        c.execute("ANALYZE")


def _timed(fn, n: int) -> list[float]:
    samples = []
    for i in range(n):
        t = time.perf_counter()
        fn(i)
        samples.append((time.perf_counter() - t) * 1000)
    return samples


def _p(samples: list[float]) -> dict:
    return {
        "p50": round(pct(samples, 0.5), 2),
        "p95": round(pct(samples, 0.95), 2),
        "n": len(samples),
    }


def measure_requests(samples: int, seed: int) -> dict:
    from django.test import Client
    from django.urls import reverse

    from accounts.models import User
    from books.models import Book
    from lists.models import ReadingList

    rng = random.Random(seed)
    viewer = User.objects.filter(username__startswith="lb").order_by("?").first()
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(viewer)
    holiday = ReadingList.objects.get(owner=viewer, name="Holiday reads")
    max_book = Book.objects.order_by("-id").values_list("id", flat=True).first()
    min_book = Book.objects.order_by("id").values_list("id", flat=True).first()
    public_lists = list(
        ReadingList.objects.filter(is_public=True, owner__username__startswith="lb")
        .order_by("?")
        .values_list("pk", flat=True)[: samples * 2]
    )
    members = list(
        User.objects.filter(username__startswith="lb")
        .order_by("?")
        .values_list("username", flat=True)[:samples]
    )
    reading = ReadingList.objects.get(owner=viewer, kind="reading")
    read = ReadingList.objects.get(owner=viewer, kind="read")
    headers = {"HTTP_HX_REQUEST": "true"}
    added: list[int] = []

    def click(book_id: int, **data):
        response = client.post(reverse("lists:book_update", args=[book_id]), data, **headers)
        assert response.status_code == 200, response.status_code

    def add(i):
        book_id = rng.randint(min_book, max_book)
        click(book_id, add=holiday.pk)
        added.append(book_id)

    def remove(i):  # a book the add step put on the list: BookRemovedFromList
        click(added[i], remove=holiday.pk)

    def move(i):  # Reading → Read, one click: ReadingStatusChanged
        click(added[i], add=read.pk)

    def page(url):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)

    for _ in range(20):  # warm up
        page(reverse("lists:detail", args=[public_lists[0]]))
    add_times = _timed(add, samples)
    remove_times = _timed(remove, samples)
    for book_id in added:  # not timed: what the status move starts from
        click(book_id, add=reading.pk)
    return {
        "add_to_list": _p(add_times),
        "remove_from_list": _p(remove_times),
        "move_reading_to_read": _p(_timed(move, samples)),
        "list_page": _p(
            _timed(lambda i: page(reverse("lists:detail", args=[public_lists[i]])), samples)
        ),
        "book_page": _p(
            _timed(
                lambda i: page(
                    reverse("books:book_detail", args=[rng.randint(min_book, max_book)])
                ),
                samples,
            )
        ),
        "profile_page": _p(
            _timed(
                lambda i: page(reverse("accounts:profile", args=[members[i % len(members)]])),
                samples,
            )
        ),
        # The same-run baseline: a static page with the signed-in member's header (session,
        # user, menu), i.e. the floor every page above pays. Pages are also reported as a
        # ratio to it, so runs on a faster or slower machine can be compared.
        "baseline_page": _p(_timed(lambda i: page(reverse("about")), samples)),
    }


def measure_consumers(samples: int) -> dict:
    """Each consumer of the list events, run as its delivery runs it (inside a
    transaction), on real recent events; and the import consumer per batch."""
    from django.db import transaction

    from bookshare.eventbus.models import StoredEvent
    from bookshare.eventbus.registry import consumers_for
    from bookshare.eventbus.schema import Event  # noqa: F401
    from lists.events import BookAddedToList, BookRemovedFromList, ReadingStatusChanged

    results = {}
    for cls in (BookAddedToList, BookRemovedFromList, ReadingStatusChanged):
        stored = list(StoredEvent.objects.filter(type=cls.event_type).order_by("-seq")[:samples])
        for c in consumers_for(cls.event_type):
            times = []
            for ev in stored:
                event = cls(**ev.data)
                envelope = {"id": str(ev.id), "type": ev.type, "data": ev.data, "delivery": {}}
                t = time.perf_counter()
                with transaction.atomic():
                    c.func(event, envelope)
                times.append((time.perf_counter() - t) * 1000)
            results[f"{c.name} ({cls.event_type})"] = _p(times)
    results["lists.import_batch (per row)"] = _import_batch_per_row(batches=3)
    results["floor: one-row UPDATE + COMMIT"] = _commit_floor(samples)
    return results


def _commit_floor(samples: int) -> dict:
    """The same-run floor under every consumer: a transaction that updates one row and
    commits (the WAL flush each delivery waits for), through Django as the consumers
    run. On a machine with slow disk flushes the consumers' p95 moves with this."""
    from django.db import connection, transaction

    from lists.models import ReadingList

    pk = ReadingList.objects.order_by("pk").values_list("pk", flat=True).first()
    table = connection.ops.quote_name(ReadingList._meta.db_table)

    def one(_):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET name = name WHERE id = %s", [pk])  # noqa: S608

    return _p(_timed(one, samples))


def _import_batch_per_row(*, batches: int) -> dict:
    """The import consumer's work, in process: ms per row of a batch (half the rows match
    known books, half create theirs), each batch in one transaction as delivered."""
    from django.conf import settings
    from django.db import transaction
    from django.utils import timezone

    from accounts.models import User
    from lists import importer
    from lists.models import ImportJob, ImportRow
    from lists.tests.csvfiles import GOODREADS_HEADER, goodreads_row, to_csv

    size = settings.LISTS_IMPORT_BATCH_SIZE
    stamp = time.time_ns()
    user = User.objects.create(
        username=f"batch{stamp}",
        email=f"batch{stamp}@example.org",
        email_verified_at=timezone.now(),
    )
    rows = []
    for i in range(size * batches):
        if i % 2:
            n = random.randint(0, 50000)
            title, author = f"Generated Book {n}", f"Writer {n % 2000:04d}"
        else:
            title, author = f"Batch Book {stamp}-{i}", f"Batch Writer {i % 300}"
        rows.append(goodreads_row(title=title, author=author, shelf=("to-read", "read")[i % 2]))
    # The job's rows without its LibraryImportStarted: the bench's worker must not run it.
    parsed = importer.parse_upload(to_csv(GOODREADS_HEADER, rows))
    job = ImportJob.objects.create(owner=user, format=parsed.format, total_rows=len(rows))
    ImportRow.objects.bulk_create(
        [ImportRow(job=job, number=r.number, data=r.data, raw=r.raw) for r in parsed.records]
    )
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    per_row, statements, events = [], [], []
    for batch in range(batches):
        t = time.perf_counter()
        with CaptureQueriesContext(connection) as ctx, transaction.atomic():
            importer.run_batch(job_id=job.pk, batch=batch)
        per_row.append((time.perf_counter() - t) * 1000 / size)
        sql = [q["sql"] for q in ctx.captured_queries]
        statements.append(len(sql))
        events.append(sum(1 for s in sql if "eventbus_storedevent" in s))
    # Its last BatchDue waits for a worker: finished, so that delivery does nothing.
    ImportJob.objects.filter(pk=job.pk).update(state=ImportJob.State.DONE)
    # Statements are a figure the machine's load does not change (events: one each).
    return {
        **_p(per_row),
        "statements_per_batch": statements,
        "event_statements_per_batch": events,
    }


def measure_import(rows: int, run: int, email_probe: bool = True) -> dict:
    from django.db import transaction
    from django.utils import timezone

    from accounts.models import User
    from bookshare.eventbus.models import Delivery
    from lists import services
    from lists.models import ImportJob
    from lists.tests.csvfiles import GOODREADS_HEADER, goodreads_row, to_csv

    user, _ = User.objects.get_or_create(
        username=f"importer{run}-{int(time.time())}",
        defaults={
            "email": f"imp{run}-{time.time()}@example.org",
            "email_verified_at": timezone.now(),
        },
    )
    shelves = ["to-read", "currently-reading", "read"]
    data = []
    for i in range(rows):
        if i % 2:  # half the rows match generated books by title + first author
            n = random.randint(0, 50000)
            title, author = f"Generated Book {n}", f"Writer {n % 2000:04d}"
        else:
            title, author = f"Imported Book {run}-{i}-{time.time_ns()}", f"Import Writer {i % 300}"
        data.append(
            goodreads_row(
                title=title,
                author=author,
                shelf=shelves[i % 3],
                shelves="imported-shelf" if i % 10 == 0 else "",
                rating=i % 6,
                date_read="2022/05/01" if i % 3 == 2 else "",
                book_id=i,
            )
        )
    content = to_csv(GOODREADS_HEADER, data)
    t0 = time.perf_counter()
    with transaction.atomic():
        job = services.import_start(user=user, filename="bench.csv", content=content)
    upload_s = time.perf_counter() - t0
    email_latencies: list[float] = []
    stop = threading.Event()

    def probe():
        import redis
        from django.conf import settings

        from bookshare.eventbus.tasks import noop

        r = redis.Redis.from_url(settings.CELERY_BROKER_URL)
        while not stop.is_set():
            t = time.perf_counter()
            noop.apply_async(queue="email")
            while r.llen("email") and time.perf_counter() - t < 10:
                time.sleep(0.002)
            email_latencies.append((time.perf_counter() - t) * 1000)
            stop.wait(0.25)

    thread = threading.Thread(target=probe, daemon=True)
    if email_probe:
        thread.start()
    while True:
        job.refresh_from_db()
        if job.state == ImportJob.State.DONE:
            break
        if time.perf_counter() - t0 > 1800:
            raise SystemExit("import did not finish within 30 minutes")
        time.sleep(0.1)
    total_s = time.perf_counter() - t0
    stop.set()
    batches = list(
        Delivery.objects.filter(
            consumer="lists.import_batch", event__data__job_id=job.pk
        ).values_list("latency_ms", flat=True)
    )
    return {
        "rows": rows,
        "upload_s": round(upload_s, 3),
        "end_to_end_s": round(total_s, 2),
        "rows_per_s": round(rows / total_s, 1),
        "batches": len(batches),
        "imported": job.imported,
        "matched": job.matched,
        "created": job.created,
        "skipped": job.skipped,
        "email_queue_wait_ms": _p(email_latencies) if email_latencies else None,
    }


def median_range(values: list[float]) -> str:
    return f"{statistics.median(values):.1f} ({min(values):.1f}–{max(values):.1f})"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--members", type=int, default=10000)
    parser.add_argument("--books", type=int, default=100000)
    parser.add_argument("--items", type=int, default=1000000)
    parser.add_argument("--import-rows", type=int, default=5000)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    setup_django(db_name="bs_lists_bench", redis_db=13)
    from bookshare.testing.worker import Worker, group_queues, purge_broker

    purge_broker()
    generate(members=args.members, books=args.books, items=args.items)
    from lists.models import ListItem

    progress(f"{ListItem.objects.count()} list items in the database")
    runs = []
    for run in range(args.runs):
        progress(f"run {run + 1}/{args.runs}: requests …")
        requests = measure_requests(args.samples, seed=run)
        progress("consumers (in process, before the workers start) …")
        consumers = measure_consumers(args.samples)
        bulk = Worker(queues=group_queues("bulk"), concurrency=2, name="bench-bulk")
        email = Worker(queues=group_queues("email"), concurrency=1, name="bench-email")
        try:
            bulk.start()
            email.start()
            progress(f"import of {args.import_rows} rows …")
            imported = measure_import(args.import_rows, run)
        finally:
            bulk.stop()
            email.stop()
        runs.append(
            {
                "requests": requests,
                "consumers": consumers,
                "import": imported,
                "load_average_after": [round(x, 2) for x in os.getloadavg()],
            }
        )
        progress(f"  import: {imported['rows_per_s']} rows/s")

    rows = []
    clicks = ("add_to_list", "remove_from_list", "move_reading_to_read")
    for name in (*clicks, *PAGES, "baseline_page"):
        p50 = [r["requests"][name]["p50"] for r in runs]
        p95 = [r["requests"][name]["p95"] for r in runs]
        goal = "p50 <= 30 ms" if name in PAGES else ""
        if name in PAGES:
            ratio = [
                r["requests"][name]["p50"] / r["requests"]["baseline_page"]["p50"] for r in runs
            ]
            goal += f"; {median_range(ratio)}× /about/"
        rows.append((name, median_range(p50), median_range(p95), goal))
    for name in sorted(runs[0]["consumers"]):
        p50 = [r["consumers"][name]["p50"] for r in runs]
        p95 = [r["consumers"][name]["p95"] for r in runs]
        rows.append(
            (name, median_range(p50), median_range(p95), "" if "floor" in name else "p95 <= 10 ms")
        )
    print_table(
        f"Lists ({args.members} members, {args.books} books, {args.items} items; "
        f"{args.runs} runs: median (min–max), ms)",
        rows,
        ("measure", "p50", "p95", "goal"),
    )
    rate = [r["import"]["rows_per_s"] for r in runs]
    upload = [r["import"]["upload_s"] for r in runs]
    email_p95 = [
        r["import"]["email_queue_wait_ms"]["p95"]
        for r in runs
        if r["import"]["email_queue_wait_ms"]
    ]
    imp_rows = [
        ("import rows/s end to end", median_range(rate), ">= 200"),
        ("upload request work (s)", median_range(upload), ""),
        (
            "email queue wait p95 during import (ms)",
            median_range(email_p95) if email_p95 else "n/a",
            "",
        ),
    ]
    from django.conf import settings

    batch_sql = runs[0]["consumers"]["lists.import_batch (per row)"]
    imp_rows.append(
        (
            f"statements per batch of {settings.LISTS_IMPORT_BATCH_SIZE} rows (event inserts)",
            f"{statistics.median(batch_sql['statements_per_batch'])} "
            f"({statistics.median(batch_sql['event_statements_per_batch'])})",
            "",
        )
    )
    print_table(
        f"Import of {args.import_rows} Goodreads rows", imp_rows, ("measure", "value", "goal")
    )
    if not any("(" in name and "per row" not in name for name in runs[0]["consumers"]):
        print("\n(no consumer subscribes to the list events on this branch)")
    write_json(
        "lists",
        {
            "params": vars(args),
            "runs": runs,
            "goals": GOALS,
            "summary": {
                "import_rows_per_s_median": statistics.median(rate),
                "pages_p50_median_ms": {
                    name: statistics.median(r["requests"][name]["p50"] for r in runs)
                    for name in (*PAGES, "baseline_page")
                },
                "add_to_list_p50_median_ms": statistics.median(
                    r["requests"]["add_to_list"]["p50"] for r in runs
                ),
            },
        },
    )


if __name__ == "__main__":
    main()
