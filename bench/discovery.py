"""Benchmark: discovery's consumers, pages and recommendation quality on PostgreSQL.

    python bench/discovery.py [--members 10000] [--books 100000] [--items 1000000]
                              [--runs 3] [--events 300] [--requests 100]

The defaults are the issue's size; shrink with the flags. Broker and cache are Redis DB 12
unless CELERY_BROKER_URL / CACHE_URL say otherwise (the genre_cold figure empties that
cache). Each run empties its own database (`bs_disc_bench` unless DATABASE_URL says
otherwise), generates members with planted taste clusters (COPY, with progress lines),
and measures:

  * per-event consumer time (discovery.record, in a transaction as the worker runs it,
    commit included) for a list add, a like and a review: p50 / p95;
  * the member job those events ask for (taste.refresh_pending: the member's basket and
    pairs brought in line, and their list recomputed if a seed changed), timed
    SEPARATELY: it is its own task, coalesced per member, not part of any event's
    consumer;
  * page latency (Django test client, in process) of /for-you/, /trending/ and a genre
    page: p50 / p95;
  * quality: of each member's favourites, 10% are held out as the test split and another
    10% as a validation split, before anything is built. Hit rate at 10 = share of
    evaluated members with a held-out favourite among their top 10 recommendations.
    Reported on the test split for the (alpha, shrinkage) that did best on the
    validation split, for the site's defaults, and for "most popular" (most members'
    baskets, minus what the member already has) in the same run.

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

from _common import cache_like_broker, ensure_database, pct, print_table, progress, write_json  # noqa: E402

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/bs_disc_bench"
GOALS = {"consumer_p95_ms": 10.0, "page_p50_ms": 30.0}
GENRES = 20
CLUSTERS = 60


def setup_django() -> None:
    os.environ.setdefault("DATABASE_URL", DEFAULT_DB)
    os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/12")
    cache_like_broker()
    os.environ["DJANGO_SETTINGS_MODULE"] = "bookshare.settings"
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-Zq8vN3xR7mK2pL9wT4yB6cH1dF5gJ0sA")
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


def copy_rows(model, fields: list[str], rows) -> int:
    """Insert many rows fast: COPY on PostgreSQL, bulk_create in big batches elsewhere.
    `rows` yields tuples in the order of `fields` (column names as Django stores them)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        objs = [model(**dict(zip(fields, r, strict=True))) for r in rows]
        model.objects.bulk_create(objs, batch_size=5000)
        return len(objs)
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(model._meta.get_field(f).column) for f in fields)
    n = 0
    sql = f"COPY {table} ({columns}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)
            n += 1
    return n


def reset_sequence(model) -> None:
    from django.core.management.color import no_style
    from django.db import connection

    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), [model]):
            cursor.execute(sql)


class World:
    """Books in taste clusters (each cluster within one genre), a few global bestsellers,
    and members who mostly pick from one or two clusters and join their clusters' genres.
    Their list items are real `ListItem` rows (lists' tables, which the recommender's
    exclusions read) with the matching `Signal` rows; 10% of the items also get a review."""

    def __init__(self, *, members: int, books: int, items: int, seed: int):
        self.rng = random.Random(seed)
        self.n_members, self.n_books, self.n_items = members, books, items
        self.now = dt.datetime.now(dt.UTC)

    def build(self) -> None:
        import itertools

        from django.contrib.auth.hashers import make_password
        from django.core.management import call_command

        from accounts.models import User
        from books.models import Book, BookPost, Genre
        from discovery.models import GenreMember

        rng = self.rng
        progress("emptying the database …")
        call_command("flush", verbosity=0, interactive=False)
        genres = Genre.objects.bulk_create(
            [Genre(name=f"Genre {g}", slug=f"genre-{g}") for g in range(GENRES)]
        )
        self.genre_ids = [g.pk for g in genres]
        self.genre_slugs = [g.slug for g in genres]
        password = make_password(None)
        progress(f"{self.n_members} members …")
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
        progress(f"{self.n_books} books …")
        books = Book.objects.bulk_create(
            [Book(title=f"Book {i}", match_key=f"book {i}|") for i in range(self.n_books)],
            batch_size=5000,
        )
        self.book_ids = [b.pk for b in books]
        # Clusters: each book in one; cluster c lives in genre c % GENRES.
        self.cluster_books: list[list[int]] = [[] for _ in range(CLUSTERS)]
        book_genre = []
        for b in self.book_ids:
            c = rng.randrange(CLUSTERS)
            self.cluster_books[c].append(b)
            book_genre.append((b, self.genre_ids[c % GENRES]))
        copy_rows(Book.genres.through, ["book_id", "genre_id"], book_genre)
        # Cumulative weights: each draw is a bisection, not a pass over every book.
        self.cluster_cum = [
            list(itertools.accumulate(1 / (i + 1) ** 0.8 for i in range(len(bs))))
            for bs in self.cluster_books
        ]
        self.global_cum = list(
            itertools.accumulate(1 / (i + 1) ** 1.1 for i in range(len(self.book_ids)))
        )
        # Some available posts, so the genre page and "available from" have work to do.
        progress("posts …")
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
        # Members join their clusters' genres (favourite genres = communities).
        joins = {(u, self.genre_ids[c % GENRES]) for u, cs in self.member_clusters.items()
                 for c in cs}  # fmt: skip
        copy_rows(User.favourite_genres.through, ["user_id", "genre_id"], sorted(joins))
        copy_rows(
            GenreMember,
            ["user_id", "genre_id", "joined_at"],
            ((u, g, self.now - dt.timedelta(seconds=rng.uniform(0, 90 * 86400)))
             for u, g in sorted(joins)),
        )  # fmt: skip

    def pick(self, user_id: int) -> int:
        rng = self.rng
        if rng.random() < 0.2:  # taste outside the clusters: the global bestsellers
            return rng.choices(self.book_ids, cum_weights=self.global_cum)[0]
        c = rng.choice(self.member_clusters[user_id])
        return rng.choices(self.cluster_books[c], cum_weights=self.cluster_cum[c])[0]

    def items(self) -> dict[str, dict[int, set[int]]]:
        """Lists, list items, reviews and their Signal rows, written by COPY. Of each
        member's favourites, 10% are held out as the TEST split and another 10% as the
        VALIDATION split (parameters may be tuned on it, never on the test split): neither
        is written anywhere, so the read models never see them."""
        from discovery.models import Signal
        from discovery.taste import trend_weight as weight
        from lists.models import ListItem, ReadingList
        from reactions.models import Review

        rng = self.rng
        per_member = max(1, self.n_items // self.n_members)
        kinds = ["favourites"] * 15 + ["read"] * 40 + ["want_to_read"] * 35 + ["custom"] * 10
        # One list of each kind per member; the custom list is private (about 10% of items).
        lists = ReadingList.objects.bulk_create(
            [
                ReadingList(owner_id=u, kind=k, name=k, is_public=k != "custom")
                for u in self.user_ids
                for k in ("favourites", "read", "want_to_read", "custom")
            ],
            batch_size=5000,
        )
        list_of = {(rl.owner_id, rl.kind): rl.pk for rl in lists}
        held = {"test": {}, "validation": {}}
        item_rows, signal_rows, review_rows = [], [], []
        item_id = review_id = 0
        for n, u in enumerate(self.user_ids, 1):
            seen: set[int] = set()
            for _ in range(per_member * 5):
                if len(seen) >= per_member:
                    break
                b = self.pick(u)
                if b in seen:  # one item per book and member: draw again
                    continue
                seen.add(b)
                kind = rng.choice(kinds)
                at = self.now - dt.timedelta(seconds=rng.uniform(0, 60 * 86400))
                if kind == "favourites":
                    r = rng.random()
                    split = "test" if r < 0.1 else "validation" if r < 0.2 else None
                    if split:
                        held[split].setdefault(u, set()).add(b)
                        continue
                item_id += 1
                status = kind if kind in ("read", "want_to_read") else ""
                item_rows.append((item_id, list_of[(u, kind)], b, u, status, item_id, "", at))
                public = kind != "custom"
                signal_rows.append(
                    (
                        f"item:{item_id}",
                        u,
                        b,
                        kind,
                        public,
                        None,
                        True,
                        at,
                        weight(kind, public),
                        at,
                    )
                )
                if rng.random() < 0.1:  # a review too, mostly of books they liked
                    review_id += 1
                    rating = rng.choice((5, 5, 4, 4, 3, 2)) if kind != "custom" else 3
                    review_rows.append((review_id, b, u, rating, "", at, at))
                    signal_rows.append(
                        (f"review:{review_id}", u, b, "review", True, rating, True, at,
                         weight("review", True), at)
                    )  # fmt: skip
            if n % 2000 == 0:
                progress(f"drawn the items of {n}/{self.n_members} members")
        progress(f"writing {len(item_rows)} list items, {len(review_rows)} reviews …")
        copy_rows(
            ListItem,
            ["id", "list_id", "book_id", "owner_id", "status", "position", "note", "added_at"],
            item_rows,
        )
        reset_sequence(ListItem)
        copy_rows(
            Review,
            ["id", "book_id", "user_id", "rating", "text", "created_at", "updated_at"],
            review_rows,
        )
        reset_sequence(Review)
        progress(f"writing {len(signal_rows)} signals …")
        copy_rows(
            Signal,
            ["key", "user_id", "book_id", "kind", "public", "rating", "active", "added_at",
             "trend_weight", "changed_at"],
            signal_rows,
        )  # fmt: skip
        self.counts = {"list_items": len(item_rows), "reviews": len(review_rows)}
        return held


def build_read_models(world: World) -> tuple[dict, dict]:
    from django.db import connection

    from discovery import rebuild

    started = time.monotonic()
    held = world.items()
    timings = {**world.counts, "items_s": round(time.monotonic() - started, 1)}
    progress("building trending …")
    started = time.monotonic()
    rebuild.rebuild_trending()
    timings["trending_s"] = round(time.monotonic() - started, 1)
    progress("building co-occurrence …")
    started = time.monotonic()
    rebuild.rebuild_baskets(batch_size=1000)
    timings["cooccurrence_s"] = round(time.monotonic() - started, 1)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return held, timings


# -- measurements ---------------------------------------------------------------------------

# Parameters the validation split may choose from: (similarity alpha, shrinkage).
GRID = [(a, s) for a in (0.5, 0.7, 0.9) for s in (0.0, 3.0, 10.0)]


def hit_rate(world: World, held: dict[int, set[int]], members: list[int]) -> float:
    from discovery import taste

    hits = 0
    for u in members:
        recs = {c.book_id for c in taste.compute(u, now=world.now)[:10]}
        hits += bool(held[u] & recs)
    return round(hits / len(members), 4) if members else float("nan")


def quality(world: World, held: dict, *, sample: int) -> dict:
    """Hit rate @10 on the TEST split for (a) the site's settings as they are and (b) the
    (alpha, shrinkage) that did best on the VALIDATION split of this run; "most popular"
    on the test split as the baseline. The test split is never used to choose anything."""
    from django.db.models import Q
    from django.test.utils import override_settings

    from discovery import conf, taste
    from discovery.models import BookStat, Signal

    rng = random.Random(99)
    test = rng.sample(sorted(held["test"]), min(sample, len(held["test"])))
    validation = rng.sample(sorted(held["validation"]), min(sample, len(held["validation"])))
    started = time.monotonic()
    tuned = {}
    for alpha, shrink in GRID:
        with override_settings(DISCOVERY_SIMILARITY_ALPHA=alpha, DISCOVERY_SHRINKAGE=shrink):
            tuned[(alpha, shrink)] = hit_rate(world, held["validation"], validation)
    best = max(GRID, key=lambda p: (tuned[p], p == (conf.similarity_alpha(), conf.shrinkage())))
    progress(f"validation: best alpha, shrinkage = {best} ({tuned[best]})")
    defaults_hit = hit_rate(world, held["test"], test)
    with override_settings(DISCOVERY_SIMILARITY_ALPHA=best[0], DISCOVERY_SHRINKAGE=best[1]):
        tuned_hit = hit_rate(world, held["test"], test)
    popular = list(
        BookStat.objects.order_by("-members", "book_id").values_list("book_id", flat=True)[:500]
    )
    base_hits = 0
    for u in test:
        have = set(
            Signal.objects.filter(user_id=u, active=True)
            .filter(Q(kind__in=taste.HAVE_KINDS))
            .values_list("book_id", flat=True)
        )
        base_hits += bool(held["test"][u] & set([b for b in popular if b not in have][:10]))
    return {
        "members_evaluated": len(test),
        "validation_members": len(validation),
        "validation_grid": {f"{a}/{s}": v for (a, s), v in tuned.items()},
        "chosen_on_validation": {"alpha": best[0], "shrinkage": best[1]},
        "hit_rate_at_10": tuned_hit,
        "hit_rate_at_10_site_defaults": defaults_hit,
        "site_defaults": {"alpha": conf.similarity_alpha(), "shrinkage": conf.shrinkage()},
        "most_popular_hit_rate_at_10": round(base_hits / len(test), 4),
        "seconds": round(time.monotonic() - started, 1),
    }


def consumer_times(world: World, *, events: int) -> dict:
    """Each event through `discovery.record` in its own transaction, as the worker runs it
    (the commit included). The refresh jobs those events ask for are timed separately, as
    the worker runs them: `taste.refresh_pending`, one transaction each. Sending the job to
    the broker (on commit, one message per member and window) is replaced by a list here,
    so its cost (a Redis publish, see bench/events.py) is in neither figure."""
    from django.db import transaction

    from discovery import taste
    from discovery.consumers import record
    from discovery.models import PendingRefresh
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
    sent: list[int] = []
    real_send = taste.send_refresh
    taste.send_refresh = sent.append
    PendingRefresh.objects.all().delete()
    refresh_times: list[float] = []
    try:
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
                # The job each marked member gets (events for random members rarely
                # share one, so this is about one job per seed-changing event).
                while sent:
                    user_id = sent.pop()
                    started = time.perf_counter()
                    taste.refresh_pending(user_id)
                    refresh_times.append(time.perf_counter() - started)
            out[name] = {
                "p50_ms": round(pct(times, 0.5) * 1000, 2),
                "p95_ms": round(pct(times, 0.95) * 1000, 2),
            }
            progress(f"consumer {name}: {out[name]}")
    finally:
        taste.send_refresh = real_send
    out["refresh_job"] = {
        "n": len(refresh_times),
        "p50_ms": round(pct(refresh_times, 0.5) * 1000, 2),
        "p95_ms": round(pct(refresh_times, 0.95) * 1000, 2),
    }
    progress(f"refresh job (separate): {out['refresh_job']}")
    return out


def page_times(world: World, *, requests: int) -> dict:
    from django.test import Client

    from accounts.models import User
    from discovery import taste

    rng = random.Random(11)
    client = Client()
    members = list(User.objects.filter(pk__in=rng.sample(world.user_ids, 20)))
    # Give the sampled members stored recommendations (the refresh job does this).
    for m in members:
        taste.refresh(m.pk)
    out = {}
    pages = {
        "for_you": lambda: "/for-you/",
        "trending": lambda: "/trending/",
        "genre": lambda: f"/genres/{rng.choice(world.genre_slugs)}/",
    }
    from django.core.cache import cache

    # "genre_cold": every cache emptied before each request (the genre counts, the
    # cards, the community columns, top reviewers): what the first view after a change,
    # or a genre nobody has looked at for a while, costs.
    pages["genre_cold"] = pages["genre"]
    for name, url in pages.items():
        times = []
        for i in range(requests):
            client.force_login(members[i % len(members)])
            if name == "genre_cold":
                cache.clear()
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
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--books", type=int, default=100_000)
    parser.add_argument("--items", type=int, default=1_000_000)
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
        # Seeds 1001+: not the data the site's defaults were first chosen on (seeds 1–3).
        world = World(members=args.members, books=args.books, items=args.items, seed=1001 + run)
        started = time.monotonic()
        world.build()
        held, build = build_read_models(world)
        build["total_s"] = round(time.monotonic() - started, 1)
        progress(f"built in {build['total_s']} s: {build}")
        result = {"build": build}
        result["quality"] = quality(world, held, sample=args.quality_sample)
        progress(f"quality: {result['quality']}")
        result["consumers"] = consumer_times(world, events=args.events)
        result["pages"] = page_times(world, requests=args.requests)
        runs.append(result)

    def get(d, path):
        for p in path:
            d = d[p]
        return d

    def agg(path):
        values = [get(run, path) for run in runs]
        return {"median": statistics.median(values), "min": min(values), "max": max(values)}

    figures = {
        "hit_rate_at_10 (params chosen on validation)": agg(("quality", "hit_rate_at_10")),
        "hit_rate_at_10 (site defaults)": agg(("quality", "hit_rate_at_10_site_defaults")),
        "most_popular_hit_rate_at_10": agg(("quality", "most_popular_hit_rate_at_10")),
    }
    for name in ("list_add", "like", "review"):
        for q in ("p50_ms", "p95_ms"):
            figures[f"consumer_{name}_{q}"] = agg(("consumers", name, q))
    for q in ("p50_ms", "p95_ms"):
        figures[f"refresh_job_{q} (separate job)"] = agg(("consumers", "refresh_job", q))
    for name in ("for_you", "trending", "genre", "genre_cold"):
        for q in ("p50_ms", "p95_ms"):
            figures[f"page_{name}_{q}"] = agg(("pages", name, q))
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
            "runs": [{**r, "quality": {k: v for k, v in r["quality"].items()}} for r in runs],
        },
    )


if __name__ == "__main__":
    main()
