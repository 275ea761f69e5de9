"""Notifications benchmark (partial until the lists app lands; see docs/notifications.md).

    python bench/notifications.py [--members 10000] [--fanout 2000] [--notifications 10000]

1. fan-out — `notify()` for one event with --fanout recipients (the wishlist alert's
   write path: batched bulk_create, unique per event and recipient), timed in-process,
   three runs with fresh events; and the same event again (the idempotent repeat).
2. page — `/notifications/` for a member with --notifications notifications, through
   Django's test client in this process (no network), 200 requests after 10 warm-ups:
   p50 and p95 (goal: p50 ≤ 30 ms), the number of queries per page, and as a baseline
   the p50 of an empty signed-in list page (`/requests/mine/`) in the same run.

Not measured yet: the time for the wishlist alert to reach 2,000 members through a real
worker after a post, with the `email` queue's code-arrival p95 at the same time (the
lists app landed on main too late for this run).

Needs PostgreSQL and Redis: database bs_ex_bench and Redis DB 15 unless DATABASE_URL /
CELERY_BROKER_URL say otherwise. The database is created and migrated if missing.
Prints a table and writes bench/results/notifications.json.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common  # noqa: E402


def make_members(count: int) -> list[int]:
    from accounts.models import User

    have = User.objects.filter(username__startswith="bench-n-").count()
    if have < count:
        from django.utils import timezone

        now = timezone.now()
        User.objects.bulk_create(
            [
                User(
                    username=f"bench-n-{i}",
                    email=f"bench-n-{i}@example.org",
                    email_verified_at=now,
                    password="!",  # noqa: S106 - unusable
                )
                for i in range(have, count)
            ],
            batch_size=2000,
        )
    return list(
        User.objects.filter(username__startswith="bench-n-")
        .order_by("pk")
        .values_list("pk", flat=True)[:count]
    )


def fanout(member_ids: list[int], fanout_count: int, runs: int = 3) -> dict:
    from django.db import transaction

    from books.models import Book, BookPost
    from notifications.models import Notification
    from notifications.routing import Target
    from notifications.services import notify

    book = Book.objects.filter(title="Bench Wishlist Book").first() or Book.objects.create(
        title="Bench Wishlist Book", match_key="bench wishlist book|bench"
    )
    poster = member_ids[0]
    post = BookPost.objects.filter(book=book, owner_id=poster).first()
    if post is None:
        with transaction.atomic():
            post = BookPost.objects.create(book=book, owner_id=poster)
    recipients = member_ids[1 : fanout_count + 1]
    times, repeat_times = [], []
    for run in range(runs):
        event_id = uuid.uuid4()
        targets = [
            Target(
                recipient_id=r,
                kind="wishlist_posted",
                actor_id=poster,
                book_id=book.pk,
                post_id=post.pk,
            )
            for r in recipients
        ]
        start = time.perf_counter()
        with transaction.atomic():
            made = notify(event_id=event_id, targets=targets)
        times.append(time.perf_counter() - start)
        assert made == len(recipients), made
        start = time.perf_counter()
        with transaction.atomic():
            again = notify(event_id=event_id, targets=targets)
        repeat_times.append(time.perf_counter() - start)
        assert again == 0
        _common.progress(f"fan-out run {run + 1}: {times[-1] * 1000:.0f} ms for {made}")
    Notification.objects.filter(kind="wishlist_posted", post=post).delete()
    return {
        "recipients": len(recipients),
        "runs_ms": [round(t * 1000, 1) for t in times],
        "median_ms": round(statistics.median(times) * 1000, 1),
        "repeat_median_ms": round(statistics.median(repeat_times) * 1000, 1),
    }


def page(member_id: int, count: int, requests: int = 200) -> dict:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from accounts.models import User
    from notifications.models import Notification

    user = User.objects.get(pk=member_id)
    have = Notification.objects.filter(recipient=user).count()
    if have < count:
        now = timezone.now()
        Notification.objects.bulk_create(
            [
                Notification(
                    recipient=user,
                    kind="copy_requested",
                    event_id=uuid.uuid4(),
                    title=f"Bench book {i}",
                    created_at=now,
                    updated_at=now,
                )
                for i in range(have, count)
            ],
            batch_size=2000,
        )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE notifications_notification")
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    for _ in range(10):
        assert client.get("/notifications/").status_code == 200
    times = []
    for _ in range(requests):
        start = time.perf_counter()
        response = client.get("/notifications/?page=3")
        times.append(time.perf_counter() - start)
        assert response.status_code == 200
    with CaptureQueriesContext(connection) as ctx:
        client.get("/notifications/")
    queries = len(ctx)
    # Baseline in the same run: an empty list page on the same base template (the
    # floor for any signed-in page on this machine at this moment).
    base = []
    for _ in range(requests):
        start = time.perf_counter()
        assert client.get("/requests/mine/").status_code == 200
        base.append(time.perf_counter() - start)
    return {
        "notifications": count,
        **_common.summary_ms(times),
        "queries": queries,
        "baseline_empty_page_p50_ms": _common.summary_ms(base)["p50_ms"],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--fanout", type=int, default=2_000)
    parser.add_argument("--notifications", type=int, default=10_000)
    args = parser.parse_args()
    _common.setup_django(db_name="bs_ex_bench", redis_db=15)
    _common.progress(f"making {args.members} members …")
    members = make_members(args.members)
    result_fanout = fanout(members, args.fanout)
    _common.progress(f"page with {args.notifications} notifications …")
    result_page = page(members[-1], args.notifications)
    _common.print_table(
        "notifications",
        [
            (
                f"fan-out to {result_fanout['recipients']}",
                f"median {result_fanout['median_ms']} ms",
                f"runs {result_fanout['runs_ms']}",
                f"repeat {result_fanout['repeat_median_ms']} ms",
            ),
            (
                f"page, {result_page['notifications']} rows",
                f"p50 {result_page['p50_ms']} ms",
                f"p95 {result_page['p95_ms']} ms",
                f"{result_page['queries']} queries; empty page p50 "
                f"{result_page['baseline_empty_page_p50_ms']} ms",
            ),
        ],
        ("what", "time", "detail", "more"),
    )
    _common.write_json("notifications", {"fanout": result_fanout, "page": result_page})


if __name__ == "__main__":
    main()
