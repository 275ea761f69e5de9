"""Notifications benchmark (issue #8).

    python bench/notifications.py [--members 10000] [--fanout 2000] [--notifications 10000]
                                  [--runs 3] [--register-every 0.2] [--skip-wishlist]

1. wishlist — the issue's scenario through real workers: --members members, of whom
   --fanout have one book on their Want to read list; a member who does not posts that
   book (`books.services.post_create`, the service the web form calls, publishing
   BookPostCreated on commit). Real workers, one per group in settings.EVENTBUS_WORKERS
   (bulk: in-site notifications and the post's other consumers; email: sign-up codes;
   mail: notification email) as `celery worker` processes on this database and broker
   (bookshare.testing.worker, the queues of `manage.py worker <group>`), with a local
   SMTP server in this process. Measured: the time from the post until all --fanout
   alerts exist, and, at the same time, the `email` queue's code arrival: members
   register (`accounts.services.user_register`, every --register-every seconds from the
   post until the fan-out is over, at least 20 times) and each code's arrival at the
   SMTP server is timed from its registration (goal: p95 < 3 s). --runs runs, each a new
   post by another member: median and range.
2. fan-out in process — `notify()` for one event with --fanout recipients (the alert's
   write path: batched bulk_create, unique per event and recipient), three runs with
   fresh events; and the same event again (the idempotent repeat).
3. page — `/notifications/` for a member with --notifications notifications, through
   Django's test client in this process (no network), 200 requests after 10 warm-ups:
   p50 and p95 (goal: p50 ≤ 30 ms), the number of queries per page, and as a baseline
   the p50 of an empty signed-in list page (`/requests/mine/`) in the same run. The
   cache is Redis (CACHE_URL, default: the broker's Redis server and database), as in
   production.

Needs PostgreSQL and Redis: database bs_ex_bench and Redis DB 15 unless DATABASE_URL /
CELERY_BROKER_URL say otherwise. The database is created and migrated if missing.
Prints a table and writes bench/results/notifications.json.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
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


WISHLIST_TITLE = "Bench Wishlist Book"


def wishlist_setup(member_ids: list[int], fanout_count: int):
    """The book, and `fanout_count` members (the last ones) with it on Want to read.
    Written in bulk, without events: this is the state before the measured post."""
    from django.utils import timezone

    from books.models import Book
    from lists.models import ListItem, ListKind, ReadingList

    # A book per size, so an earlier run at another size adds no wishers.
    title = f"{WISHLIST_TITLE} ({fanout_count} of {len(member_ids)})"
    book = Book.objects.filter(title=title).first() or Book.objects.create(
        title=title, match_key=f"{title.lower()}|bench"
    )
    wishers = member_ids[-fanout_count:]
    have = set(
        ListItem.objects.filter(book=book, status=ListKind.WANT_TO_READ).values_list(
            "owner_id", flat=True
        )
    )
    missing = [m for m in wishers if m not in have]
    if missing:
        ReadingList.objects.bulk_create(
            [
                ReadingList(owner_id=m, kind=ListKind.WANT_TO_READ, name="Want to read")
                for m in missing
            ],
            batch_size=2000,
            ignore_conflicts=True,
        )
        lists = dict(
            ReadingList.objects.filter(
                owner_id__in=missing, kind=ListKind.WANT_TO_READ
            ).values_list("owner_id", "pk")
        )
        now = timezone.now()
        ListItem.objects.bulk_create(
            [
                ListItem(
                    list_id=lists[m],
                    book=book,
                    owner_id=m,
                    status=ListKind.WANT_TO_READ,
                    added_at=now,
                )
                for m in missing
            ],
            batch_size=2000,
            ignore_conflicts=True,
        )
    expected = ListItem.objects.filter(book=book, status=ListKind.WANT_TO_READ).count()
    return book, expected


def _settle(timeout: float = 600) -> None:
    """Wait until the workers have finished every delivery (runs do not overlap)."""
    from bookshare.eventbus.models import Delivery

    deadline = time.monotonic() + timeout
    while Delivery.objects.filter(status__in=Delivery.UNFINISHED).exists():
        if time.monotonic() > deadline:
            raise SystemExit("the workers did not finish within the time limit")
        time.sleep(0.2)


class Registrations(threading.Thread):
    """Registers members every `every` seconds until stopped (and at least `least`
    times), remembering when each registration started."""

    def __init__(self, *, tag: str, every: float, least: int = 20):
        super().__init__(daemon=True)
        self.tag, self.every, self.least = tag, every, least
        self.started: dict[str, float] = {}
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        from django.db import connection

        from accounts.services import user_register

        try:
            i = 0
            while not self.stop.is_set() or i < self.least:
                email = f"{self.tag}-{i}@bench.example.org"
                self.started[email] = time.time()
                user_register(
                    email=email, username=f"{self.tag}{i}", password="bench-pass-2026-not-common"
                )
                i += 1
                time.sleep(self.every)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            self.error = exc
        finally:
            connection.close()


def _quiet_smtp_log() -> None:
    import logging

    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd per-command lines


def wishlist(member_ids: list[int], fanout_count: int, *, runs: int, every: float) -> dict:
    from django.conf import settings

    from accounts.models import User
    from accounts.tests.smtp import SMTPServer
    from books.services import post_create
    from bookshare.testing.services import free_port
    from bookshare.testing.worker import Worker, group_queues, purge_broker
    from notifications.models import Notification

    _quiet_smtp_log()
    book, expected = wishlist_setup(member_ids, fanout_count)
    _common.progress(f"{expected} members want '{book.title}'")
    smtp = SMTPServer(port=free_port()).start()
    env = {
        "EMAIL_URL": smtp.url,
        "CACHE_URL": os.environ["CACHE_URL"],
        "ACCOUNTS_RATELIMIT_ENABLED": "false",
        "LOG_LEVEL": "WARNING",
    }
    purge_broker()
    workers = []
    try:
        for group, spec in settings.EVENTBUS_WORKERS.items():
            _common.progress(f"starting the {group} worker ({group_queues(group)}) …")
            w = Worker(
                queues=group_queues(group),
                concurrency=spec.get("concurrency", 2),
                env={**env, "LOG_LEVEL": "INFO"},
                name=f"bench-{group}",
            )
            workers.append(w.start(timeout=120))
        _settle()
        runs_out = []
        for run in range(runs):
            poster = User.objects.get(pk=member_ids[run])
            tag = f"bn{uuid.uuid4().hex[:6]}"
            reg = Registrations(tag=tag, every=every)
            alerts = Notification.objects.filter(kind="wishlist_posted", post__book=book)
            before = alerts.count()
            reg.start()
            start = time.perf_counter()
            post = post_create(owner=poster, book=book)
            alerts = Notification.objects.filter(kind="wishlist_posted", post=post)
            first = None
            while True:
                made = alerts.count()
                if made and first is None:
                    first = time.perf_counter() - start
                if made >= expected:
                    break
                if time.perf_counter() - start > 600:
                    raise SystemExit(f"only {made}/{expected} alerts after 600 s")
                time.sleep(0.05)
            seconds = time.perf_counter() - start
            fanout_over = time.time()
            reg.stop.set()
            reg.join(timeout=120)
            if reg.error:
                raise reg.error
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not all(smtp.for_address(e) for e in reg.started):
                time.sleep(0.1)
            arrivals = [
                smtp.for_address(e)[0].arrived - t0
                for e, t0 in reg.started.items()
                if smtp.for_address(e)
            ]
            during = [
                smtp.for_address(e)[0].arrived - t0
                for e, t0 in reg.started.items()
                if t0 <= fanout_over and smtp.for_address(e)
            ]
            out = {
                "alerts": made,
                "alerts_before": before,
                "seconds_to_all_alerts": round(seconds, 3),
                "seconds_to_first_alert": round(first or seconds, 3),
                "registrations": len(reg.started),
                "codes_arrived": len(arrivals),
                "code_arrival_p50_s": round(_common.pct(arrivals, 0.5), 3) if arrivals else None,
                "code_arrival_p95_s": round(_common.pct(arrivals, 0.95), 3) if arrivals else None,
                "code_arrival_max_s": round(max(arrivals), 3) if arrivals else None,
                # Only the registrations made while the alerts were being written.
                "registered_during_fanout": len(during),
                "during_fanout_arrival_max_s": round(max(during), 3) if during else None,
            }
            runs_out.append(out)
            _common.progress(
                f"wishlist run {run + 1}: {made} alerts in {seconds:.2f} s; "
                f"{len(arrivals)}/{len(reg.started)} codes, p95 {out['code_arrival_p95_s']} s"
            )
            _settle()
    finally:
        for w in workers:
            w.stop()
        smtp.stop()
    times = [r["seconds_to_all_alerts"] for r in runs_out]
    p95s = [r["code_arrival_p95_s"] for r in runs_out if r["code_arrival_p95_s"] is not None]
    return {
        "members": len(member_ids),
        "wishers": expected,
        "workers": {
            g: {"queues": group_queues(g), "concurrency": s.get("concurrency", 2)}
            for g, s in settings.EVENTBUS_WORKERS.items()
        },
        "runs": runs_out,
        "median_seconds_to_all_alerts": round(statistics.median(times), 3),
        "range_seconds_to_all_alerts": [min(times), max(times)],
        "median_code_arrival_p95_s": round(statistics.median(p95s), 3) if p95s else None,
        "range_code_arrival_p95_s": [min(p95s), max(p95s)] if p95s else None,
        "code_arrival_goal_met": bool(p95s) and max(p95s) < 3,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--fanout", type=int, default=2_000)
    parser.add_argument("--notifications", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--register-every", type=float, default=0.2)
    parser.add_argument("--skip-wishlist", action="store_true")
    args = parser.parse_args()
    # The cache as in production: Redis, the broker's (setup_django's default).
    _common.setup_django(db_name="bs_ex_bench", redis_db=15)
    _common.progress(f"making {args.members} members …")
    members = make_members(args.members)
    result_wishlist = None
    if not args.skip_wishlist:
        result_wishlist = wishlist(members, args.fanout, runs=args.runs, every=args.register_every)
    result_fanout = fanout(members, args.fanout)
    _common.progress(f"page with {args.notifications} notifications …")
    result_page = page(members[len(members) // 2], args.notifications)
    rows = []
    if result_wishlist:
        w = result_wishlist
        rows.append(
            (
                f"wishlist alert to {w['wishers']} (real workers)",
                f"median {w['median_seconds_to_all_alerts']} s",
                f"range {w['range_seconds_to_all_alerts']} s",
                f"code arrival p95 median {w['median_code_arrival_p95_s']} s, range "
                f"{w['range_code_arrival_p95_s']} s (goal < 3 s: "
                f"{'met' if w['code_arrival_goal_met'] else 'NOT met'})",
            )
        )
    rows += [
        (
            f"fan-out to {result_fanout['recipients']} (in process)",
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
    ]
    _common.print_table("notifications", rows, ("what", "time", "detail", "more"))
    _common.write_json(
        "notifications",
        {
            "cache": os.environ["CACHE_URL"],
            "wishlist": result_wishlist,
            "fanout": result_fanout,
            "page": result_page,
        },
    )


if __name__ == "__main__":
    main()
