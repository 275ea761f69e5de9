"""Benchmark: discovery's consumers, pages and recommendation quality on PostgreSQL.

    python bench/discovery.py [--members 2000] [--books 20000] [--items 200000] [--runs 3]

Each run empties its own database (`bs_disc_bench` unless DATABASE_URL says otherwise),
generates members with planted taste clusters, and measures:

  * per-event consumer time (discovery.record, in a transaction as the worker runs it)
    for a list add, a like and a review: p50 / p95;
  * page latency (Django test client, in process) of /for-you/, /trending/ and a genre
    page: p50;
  * quality: 10% of each member's favourites are held out before the read models are
    built; hit rate at 10 = share of evaluated members with a held-out favourite among
    their top 10 recommendations, against "most popular" (most members' baskets, minus
    what the member already has) as the baseline, in the same run.

The read models are built with the same code as `manage.py discovery rebuild`.
Prints a table (median and range over the runs) and writes bench/results/discovery.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _common import ensure_database, pct, print_table, progress, write_json  # noqa: E402

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/bs_disc_bench"
GOALS = {"consumer_p95_ms": 10.0, "page_p50_ms": 30.0}
GENRES = 20
CLUSTERS = 60


def setup_django() -> None:
    os.environ.setdefault("DATABASE_URL", DEFAULT_DB)
    os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
    os.environ["DJANGO_SETTINGS_MODULE"] = "bookshare.settings"
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789-abcdefghijklmnop")
    os.environ.setdefault("DEBUG", "false")
    os.environ["SECURE_SSL_REDIRECT"] = "false"
    os.environ["IGNORE_DOTENV"] = "1"
    os.environ.setdefault("VAR_DIR", str(ROOT / "var" / "bench"))
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command
    from django.test.utils import override_settings

    override_settings(
        ALLOWED_HOSTS=["*"],
        STORAGES={
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
    ).enable()
    progress("migrating the benchmark database …")
    call_command("migrate", verbosity=0, interactive=False)


# -- generation ---------------------------------------------------------------------------


class World:
    """Books in taste clusters (each cluster within one genre), a few global bestsellers,
    and members who mostly pick from one or two clusters."""

    def __init__(self, *, members: int, books: int, items: int, seed: int):
        self.rng = random.Random(seed)
        self.n_members, self.n_books, self.n_items = members, books, items
        self.now = dt.datetime.now(dt.UTC)

    def build(self) -> None:
        from django.contrib.auth.hashers import make_password
        from django.core.management import call_command
        from django.db import connection

        from accounts.models import User
        from books.models import Book, BookPost, Genre

        rng = self.rng
        progress("emptying the database …")
        call_command("flush", verbosity=0, interactive=False)
        genres = Genre.objects.bulk_create(
            [Genre(name=f"Genre {g}", slug=f"genre-{g}") for g in range(GENRES)]
        )
        self.genre_slugs = [g.slug for g in genres]
        password = make_password(None)
        users = User.objects.bulk_create(
            [
                User(
                    username=f"m{i}",
                    email=f"m{i}@bench.local",
                    password=password,
                    email_verified_at=self.now,
                )  # fmt: skip
                for i in range(self.n_members)
            ],
            batch_size=5000,
        )
        self.user_ids = [u.pk for u in users]
        books = Book.objects.bulk_create(
            [Book(title=f"Book {i}", match_key=f"book {i}|") for i in range(self.n_books)],
            batch_size=5000,
        )
        self.book_ids = [b.pk for b in books]
        # Clusters: each book in one; cluster c lives in genre c % GENRES.
        self.cluster_books: list[list[int]] = [[] for _ in range(CLUSTERS)]
        through = []
        for b in self.book_ids:
            c = rng.randrange(CLUSTERS)
            self.cluster_books[c].append(b)
            through.append(Book.genres.through(book_id=b, genre_id=genres[c % GENRES].pk))
        Book.genres.through.objects.bulk_create(through, batch_size=10000)
        self.cluster_weights = [
            [1 / (i + 1) ** 0.8 for i in range(len(bs))] for bs in self.cluster_books
        ]
        self.global_weights = [1 / (i + 1) ** 1.1 for i in range(len(self.book_ids))]
        # Some available posts, so the genre page and "available from" have work to do.
        owners = self.user_ids
        BookPost.objects.bulk_create(
            [
                BookPost(book_id=rng.choice(self.book_ids), owner_id=rng.choice(owners))
                for _ in range(max(1000, self.n_books // 10))
            ],
            batch_size=5000,
        )
        self.member_clusters = {
            u: rng.sample(range(CLUSTERS), rng.choice((1, 1, 2))) for u in self.user_ids
        }
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    def pick(self, user_id: int) -> int:
        rng = self.rng
        if rng.random() < 0.2:  # taste outside the clusters: the global bestsellers
            return rng.choices(self.book_ids, self.global_weights)[0]
        c = rng.choice(self.member_clusters[user_id])
        return rng.choices(self.cluster_books[c], self.cluster_weights[c])[0]

    def signals(self) -> tuple[list, dict[int, set[int]]]:
        """Signal rows for the list items (10% of each member's favourites held out)."""
        from discovery.models import Signal

        rng = self.rng
        per_member = max(1, self.n_items // self.n_members)
        kinds = ["favourites"] * 15 + ["read"] * 40 + ["want_to_read"] * 35 + ["custom"] * 10
        rows, held_out = [], {}
        item = 0
        for u in self.user_ids:
            seen: set[int] = set()
            favourites, mine = [], []
            for _ in range(per_member * 5):
                if len(seen) >= per_member:
                    break
                b = self.pick(u)
                if b in seen:  # one item per book and member: draw again
                    continue
                seen.add(b)
                kind = rng.choice(kinds)
                at = self.now - dt.timedelta(seconds=rng.uniform(0, 60 * 86400))
                item += 1
                row = Signal(
                    key=f"item:{item}", user_id=u, book_id=b, kind=kind,
                    public=rng.random() < 0.9, active=True, added_at=at, changed_at=at,
                )  # fmt: skip
                if kind == "favourites":
                    favourites.append(row)
                mine.append(row)
            hold = {r.key for r in favourites if rng.random() < 0.1}
            if hold:
                held_out[u] = {r.book_id for r in favourites if r.key in hold}
            rows += [r for r in mine if r.key not in hold]
        return rows, held_out


def build_read_models(world: World) -> tuple[dict[int, set[int]], dict]:
    from discovery import rebuild
    from discovery.models import Signal

    rows, held_out = world.signals()
    started = time.monotonic()
    Signal.objects.bulk_create(rows, batch_size=5000)
    timings = {"signals": len(rows), "insert_s": round(time.monotonic() - started, 1)}
    progress(f"{len(rows)} signals stored; building trending …")
    started = time.monotonic()
    rebuild.rebuild_trending()
    timings["trending_s"] = round(time.monotonic() - started, 1)
    progress("building co-occurrence …")
    started = time.monotonic()
    rebuild.rebuild_baskets(batch_size=200)
    timings["cooccurrence_s"] = round(time.monotonic() - started, 1)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return held_out, timings


# -- measurements ---------------------------------------------------------------------------


def quality(world: World, held_out: dict[int, set[int]], *, sample: int) -> dict:
    from django.db.models import Q

    from discovery import taste
    from discovery.models import BookStat, Signal

    rng = random.Random(99)
    members = rng.sample(sorted(held_out), min(sample, len(held_out)))
    popular = list(
        BookStat.objects.order_by("-members", "book_id").values_list("book_id", flat=True)[:500]
    )
    hits = base_hits = 0
    started = time.monotonic()
    for n, u in enumerate(members, 1):
        recs = [c.book_id for c in taste.compute(u, now=world.now)[:10]]
        have = set(
            Signal.objects.filter(user_id=u, active=True)
            .filter(Q(kind__in=taste.HAVE_KINDS))
            .values_list("book_id", flat=True)
        )
        baseline = [b for b in popular if b not in have][:10]
        hits += bool(held_out[u] & set(recs))
        base_hits += bool(held_out[u] & set(baseline))
        if n % 100 == 0:
            progress(f"quality: {n}/{len(members)} members")
    return {
        "members_evaluated": len(members),
        "hit_rate_at_10": round(hits / len(members), 4),
        "most_popular_hit_rate_at_10": round(base_hits / len(members), 4),
        "compute_ms_mean": round((time.monotonic() - started) * 1000 / len(members), 2),
    }


def consumer_times(world: World, *, events: int) -> dict:
    from django.db import transaction

    from discovery.consumers import record
    from lists.events import BookAddedToList
    from reactions.events import PostLiked, ReviewSubmitted

    rng = random.Random(5)
    out = {}
    base = 10_000_000
    makers = {
        "list_add": lambda i, u, b: BookAddedToList(
            item_id=base + i,
            list_id=1,
            book_id=b,
            user_id=u,
            list_kind=rng.choice(["favourites", "read", "want_to_read"]),
            list_public=True,
        ),  # fmt: skip
        "like": lambda i, u, b: PostLiked(
            like_id=base + i, post_id=base + i, book_id=b, user_id=u, post_owner_id=u
        ),
        "review": lambda i, u, b: ReviewSubmitted(
            review_id=base + i, book_id=b, user_id=u, rating=rng.choice([2, 3, 4, 5, 5])
        ),
    }
    for name, make in makers.items():
        times = []
        for i in range(events):
            u = rng.choice(world.user_ids)
            event = make(i + 1 + events * len(out), u, world.pick(u))
            envelope = {"occurred_at": dt.datetime.now(dt.UTC).isoformat()}
            started = time.perf_counter()
            with transaction.atomic():
                record(event, envelope)
            times.append(time.perf_counter() - started)
        out[name] = {
            "p50_ms": round(pct(times, 0.5) * 1000, 2),
            "p95_ms": round(pct(times, 0.95) * 1000, 2),
        }
        progress(f"consumer {name}: {out[name]}")
    return out


def page_times(world: World, *, requests: int) -> dict:
    from django.test import Client

    from accounts.models import User
    from discovery import rebuild  # noqa: F401 - the same code paths as the site

    rng = random.Random(11)
    client = Client()
    members = User.objects.filter(pk__in=rng.sample(world.user_ids, 20))
    # Give the sampled members stored recommendations (the consumers do this on activity).
    from discovery import taste

    for m in members:
        taste.refresh(m.pk)
    out = {}
    pages = {
        "for_you": lambda: "/for-you/",
        "trending": lambda: "/trending/",
        "genre": lambda: f"/genres/{rng.choice(world.genre_slugs)}/",
    }
    members = list(members)
    for name, url in pages.items():
        times = []
        for i in range(requests):
            client.force_login(members[i % len(members)])
            started = time.perf_counter()
            response = client.get(url())
            times.append(time.perf_counter() - started)
            assert response.status_code == 200, (url(), response.status_code)
        out[name] = {
            "p50_ms": round(pct(times, 0.5) * 1000, 2),
            "p95_ms": round(pct(times, 0.95) * 1000, 2),
        }
        progress(f"page {name}: {out[name]}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--books", type=int, default=20000)
    parser.add_argument("--items", type=int, default=200000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--events", type=int, default=300, help="events per type per run")
    parser.add_argument("--requests", type=int, default=100, help="requests per page per run")
    parser.add_argument("--quality-sample", type=int, default=500)
    args = parser.parse_args()
    setup_django()
    runs = []
    for run in range(args.runs):
        progress(f"run {run + 1}/{args.runs}: generating {args.members} members, "
                 f"{args.books} books, {args.items} list items …")  # fmt: skip
        world = World(members=args.members, books=args.books, items=args.items, seed=run + 1)
        world.build()
        held_out, build = build_read_models(world)
        result = {"build": build}
        result["quality"] = quality(world, held_out, sample=args.quality_sample)
        progress(f"quality: {result['quality']}")
        result["consumers"] = consumer_times(world, events=args.events)
        result["pages"] = page_times(world, requests=args.requests)
        runs.append(result)

    def agg(path):
        values = [r for r in (get(run, path) for run in runs)]
        return {"median": statistics.median(values), "min": min(values), "max": max(values)}

    def get(d, path):
        for p in path:
            d = d[p]
        return d

    figures = {
        "hit_rate_at_10": agg(("quality", "hit_rate_at_10")),
        "most_popular_hit_rate_at_10": agg(("quality", "most_popular_hit_rate_at_10")),
    }
    for name in ("list_add", "like", "review"):
        for q in ("p50_ms", "p95_ms"):
            figures[f"consumer_{name}_{q}"] = agg(("consumers", name, q))
    for name in ("for_you", "trending", "genre"):
        figures[f"page_{name}_p50_ms"] = agg(("pages", name, "p50_ms"))
    print_table(
        f"discovery: {args.members} members, {args.books} books, {args.items} list items, "
        f"{args.runs} runs",
        [(k, v["median"], f"{v['min']} – {v['max']}") for k, v in figures.items()],
        ("figure", "median", "range"),
    )
    write_json(
        "discovery",
        {
            "load_average_at_end": os.getloadavg(),
            "size": {"members": args.members, "books": args.books, "items": args.items},
            "goals": GOALS,
            "figures": figures,
            "runs": runs,
        },
    )


if __name__ == "__main__":
    main()
