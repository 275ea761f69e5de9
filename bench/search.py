"""Benchmark: search, indexing and similar-post suggestions on PostgreSQL.

    python bench/search.py [--posts 100000] [--small 10000] [--million]

Creates (and migrates) its own database, `bookshare_bench_search` unless DATABASE_URL
says otherwise, fills it with generated posts by COPY, and measures at a small size and
at the full size:
  * search latency (count + first page, as the search page does) over 500 varied queries,
  * indexing one new post (the `search` consumer's work),
  * updating suggestions for one new post (the `suggestions` consumer's work),
  * post page and search page request latency (Django test client, in process).
Prints a table and writes bench/results/search.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _common import ensure_database, pct, write_json  # noqa: E402 - bench/ is on the path

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/bookshare_bench_search"

GOALS = {"search_p95_ms": 20.0, "suggest_ms": 50.0, "search_p95_ms_million": 60.0}


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "bookshare.settings"
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789-abcdefghijklmnop")
    os.environ.setdefault("DEBUG", "false")
    os.environ["SECURE_SSL_REDIRECT"] = "false"
    os.environ["IGNORE_DOTENV"] = "1"
    os.environ.setdefault("VAR_DIR", str(ROOT / "var" / "bench"))
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("CELERY_BROKER_URL", "memory://")  # nothing is published here
    import django

    django.setup()
    from django.test.utils import override_settings

    # Pages render without a collected static manifest (DEBUG stays off: no query log).
    override_settings(
        STORAGES={
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
    ).enable()


def progress(label: str, done: int, total: int, started: float) -> None:
    percent = 100 * done // max(total, 1)
    bar = "#" * (percent // 4) + "-" * (25 - percent // 4)
    sys.stdout.write(f"\r  {label:<22} [{bar}] {done}/{total} {time.monotonic() - started:.0f}s")
    sys.stdout.flush()
    if done >= total:
        sys.stdout.write("\n")


# -- data generation --------------------------------------------------------------------


class Generator:
    """Plausible-looking books from the demo's word lists plus invented words."""

    def __init__(self, seed: int = 7):
        from books import synthetic as demo

        self.rng = random.Random(seed)
        self.demo = demo
        syllables = [
            "ka",
            "lo",
            "mer",
            "dan",
            "vi",
            "tor",
            "el",
            "rua",
            "sen",
            "bri",
            "ost",
            "qua",
            "nim",
            "fel",
            "dra",
            "go",
            "har",
            "wen",
            "ly",
            "mar",
            "thi",
            "cor",
        ]
        words = set()
        while len(words) < 6000:
            n = self.rng.choice((2, 2, 3, 3, 4))
            words.add("".join(self.rng.choice(syllables) for _ in range(n)))
        self.words = sorted(words)
        # Zipf-like: early words are common, later ones rare.
        self.weights = [1 / (i + 1) ** 0.9 for i in range(len(self.words))]
        self.slugs = list(demo.VOCAB)

    def word(self) -> str:
        return self.rng.choices(self.words, self.weights)[0]

    def book(self):
        rng = self.rng
        slug = rng.choice(self.slugs)
        patterns, nouns, adjectives, sentences = self.demo.VOCAB[slug]
        place = rng.choice(self.demo.PLACES)
        title = rng.choice(patterns).format(n=rng.choice(nouns), a=rng.choice(adjectives), p=place)
        if rng.random() < 0.8:
            title = f"{title} {self.word().title()}"
        if rng.random() < 0.3:
            title = f"{self.word().title()} {title}"
        description = " ".join(s.format(p=place) for s in rng.sample(sentences, 2))
        description += " " + " ".join(self.word() for _ in range(rng.randint(6, 20))) + "."
        return slug, title, description


def generate(target_posts: int, *, batch: int = 20000) -> None:
    """Add generated books and posts (and their index entries, vocabulary and features)
    until there are `target_posts` posts."""
    from django.db import connection
    from django.utils import timezone

    from accounts.models import User
    from books.models import Author, BookPost, Genre
    from books.search.indexing import vocabulary_of
    from books.services import book_match_key
    from books.suggestions import post_features
    from books.text import normalize

    have = BookPost.objects.count()
    if have >= target_posts:
        return
    gen = Generator(seed=have + 7)
    for name, slug, description in gen.demo.GENRES:
        Genre.objects.get_or_create(slug=slug, defaults={"name": name, "description": description})
    genres = {g.slug: g for g in Genre.objects.all()}
    if User.objects.count() < 1000:
        now = timezone.now()
        User.objects.bulk_create(
            [
                User(username=f"bench{i}", email=f"bench{i}@example.org", email_verified_at=now)
                for i in range(1000)
            ],
            ignore_conflicts=True,
        )
    users = list(User.objects.values_list("id", "username"))
    if Author.objects.count() < 5000:
        names = {
            f"{f} {chr(65 + i)}. {last}"
            for f in gen.demo.FIRST
            for last in gen.demo.LAST
            for i in range(26)
        }
        Author.objects.bulk_create(
            [Author(name=n, name_key=normalize(n)) for n in sorted(names)], ignore_conflicts=True
        )
    authors = list(Author.objects.values_list("id", "name"))
    vocabulary: set[str] = set()
    started = time.monotonic()
    raw = connection.connection
    with connection.cursor() as c:
        c.execute("SELECT coalesce(max(id), 0) FROM books_book")
        next_book = c.fetchone()[0] + 1
        c.execute("SELECT coalesce(max(id), 0) FROM books_bookpost")
        next_post = c.fetchone()[0] + 1
    recent_books: list[tuple] = []
    remaining = target_posts - have
    done = 0
    while remaining > 0:
        n = min(batch, remaining)
        books, credits, book_genres, posts, entries, features = [], [], [], [], [], []
        now = timezone.now()
        for _ in range(n):
            if recent_books and gen.rng.random() < 0.25:
                book = gen.rng.choice(recent_books)  # another copy of a known book
            else:
                slug, title, description = gen.book()
                book_authors = [gen.rng.choice(authors)]
                if gen.rng.random() < 0.15:
                    book_authors.append(gen.rng.choice(authors))
                    if book_authors[0] == book_authors[1]:
                        book_authors.pop()
                gs = {slug} | ({gen.rng.choice(gen.slugs)} if gen.rng.random() < 0.2 else set())
                book = (next_book, title, description, book_authors, sorted(gs))
                next_book += 1
                books.append(
                    (
                        book[0],
                        title,
                        "",
                        None,
                        "",
                        None,
                        "en",
                        description,
                        "",
                        "",
                        book_match_key(title=title, first_author=book_authors[0][1]),
                        now,
                    )
                )
                for pos, (aid, _) in enumerate(book_authors):
                    credits.append((book[0], aid, pos))
                for g in gs:
                    book_genres.append((book[0], genres[g].pk))
                recent_books.append(book)
                if len(recent_books) > 5000:
                    recent_books = recent_books[-2500:]
            bid, title, description, book_authors, gs = book
            uid, uname = gen.rng.choice(users)
            offer = gen.rng.choice(("give", "lend", "swap"))
            status = gen.rng.choices(("available", "reserved", "gone"), (85, 5, 10))[0]
            pid = next_post
            next_post += 1
            posts.append((pid, bid, uid, offer, "good", "Leeds", "", status, now, now))
            genre_names = sorted(genres[g].name for g in gs)
            entry = (
                pid,
                bid,
                uid,
                uname,
                title,
                "",
                normalize(title)[:300],
                ", ".join(a[1] for a in book_authors),
                ", ".join(genre_names),
                "|" + "|".join(gs) + "|",
                description,
                "",
                "Leeds",
                "",
                "en",
                offer,
                "good",
                status,
                None,
                "",
                now,
                now,
            )
            entries.append(entry)
            if status == "available":
                for f in _features(
                    post_features, bid, book_authors, gs, genres, title, description
                ):
                    features.append((f, pid))
            vocabulary |= vocabulary_of(_EntryView(title, entry[7], entry[8], description))
        with raw.cursor() as cur:
            _copy(
                cur,
                "books_book",
                "id, title, subtitle, isbn13, publisher, year, language, "
                "description, cover_url, cover, match_key, created_at",
                books,
            )
            _copy(cur, "books_bookauthor", "book_id, author_id, position", credits)
            _copy(cur, "books_book_genres", "book_id, genre_id", book_genres)
            _copy(
                cur,
                "books_bookpost",
                "id, book_id, owner_id, offer, condition, location, "
                "note, status, created_at, updated_at",
                posts,
            )
            _copy(
                cur,
                "books_searchentry",
                "post_id, book_id, owner_id, owner_name, title, "
                "subtitle, title_key, authors, genres, genre_slugs, description, note, "
                "location, isbn13, language, offer, condition, status, year, cover, "
                "created_at, indexed_at",
                entries,
            )
            _copy(cur, "books_postfeature", "feature, post_id", features)
        raw.commit()
        remaining -= n
        done += n
        progress("generating posts", done, target_posts - have, started)
    with raw.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bench_words")
        cur.execute("CREATE TEMP TABLE bench_words (word text)")
        _copy(cur, "bench_words", "word", [(w,) for w in sorted(vocabulary)])
        cur.execute(
            "INSERT INTO books_searchterm (word) SELECT word FROM bench_words "
            "ON CONFLICT DO NOTHING"
        )
        cur.execute("DROP TABLE bench_words")
        for table in ("book", "bookpost", "author", "bookauthor", "postfeature", "book_genres"):
            sql = (
                f"SELECT setval(pg_get_serial_sequence('books_{table}', 'id'), "  # noqa: S608
                f"(SELECT coalesce(max(id), 1) FROM books_{table}))"
            )
            cur.execute(sql)
    raw.commit()
    with connection.cursor() as c:
        c.execute("ANALYZE")


class _EntryView:
    subtitle = ""

    def __init__(self, title, authors, genres, description):
        self.title, self.authors, self.genres, self.description = (
            title,
            authors,
            genres,
            description,
        )


class _Fake:
    """Just enough of a post for books.suggestions.post_features()."""

    def __init__(self, book_id, authors, genre_ids, title, description):
        self.book = _FakeBook(book_id, authors, genre_ids, title, description)


class _FakeBook:
    subtitle = ""

    def __init__(self, pk, authors, genre_ids, title, description):
        self.pk, self.title, self.description = pk, title, description
        self._authors, self._genres = authors, genre_ids

    @property
    def credits(self):
        return _List([type("C", (), {"author_id": a})() for a, _ in self._authors])

    @property
    def genres(self):
        return _List([type("G", (), {"pk": g})() for g in self._genres])


class _List(list):
    def all(self):
        return self


def _features(post_features, bid, book_authors, gs, genres, title, description):
    return post_features(_Fake(bid, book_authors, [genres[g].pk for g in gs], title, description))


def _copy(cur, table: str, columns: str, rows: list[tuple]) -> None:
    if not rows:
        return
    with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def build_recent_lists(count: int) -> float:
    """Similar lists for the newest `count` available posts (the candidates new posts
    meet), so the 'join their lists' step works on full lists. Returns seconds."""
    from django.db import transaction

    from books import suggestions
    from books.models import BookPost, SimilarPost

    ids = list(
        BookPost.objects.filter(status="available")
        .exclude(similar_entries__isnull=False)
        .order_by("-id")
        .values_list("id", flat=True)[:count]
    )
    started = time.monotonic()
    for i, pid in enumerate(ids, 1):
        post = suggestions._post(pid)
        with transaction.atomic():
            suggestions._store_list(
                pid, suggestions._scored_candidates(pid, suggestions.post_features(post))
            )
        if i % 250 == 0 or i == len(ids):
            progress("similar lists", i, len(ids), started)
    print(f"  {SimilarPost.objects.count()} similar-post rows")
    return time.monotonic() - started


# -- measurements -----------------------------------------------------------------------


def queries(n: int = 500, seed: int = 11) -> list[tuple[str, str, dict]]:
    from books.models import SearchEntry, SearchTerm
    from books.text import content_words

    rng = random.Random(seed)
    sample = list(
        SearchEntry.objects.order_by("?").values_list("title", "authors", "genre_slugs")[:300]
    )
    vocab = list(SearchTerm.objects.order_by("?").values_list("word", flat=True)[:500])
    out = []
    kinds = ["title", "words", "author", "prefix", "typo", "phrase", "filtered", "rare"]
    for i in range(n):
        kind = kinds[i % len(kinds)]
        title, authors, slugs = rng.choice(sample)
        words = content_words(title) or ["lantern"]
        filters: dict = {}
        if kind == "title":
            q = title
        elif kind == "words":
            q = " ".join(rng.sample(words, min(2, len(words))))
        elif kind == "author":
            q = authors.split(",")[0].split()[-1]
        elif kind == "prefix":
            w = max(words, key=len)
            q = w[: max(3, len(w) - 3)]
        elif kind == "typo":
            w = max(words, key=len)
            j = rng.randrange(1, len(w) - 1)
            q = w[:j] + w[j + 1] + w[j] + w[j + 2 :]  # swap two letters
        elif kind == "phrase":
            q = '"' + " ".join(words[:2]) + '"'
        elif kind == "filtered":
            q = rng.choice(words)
            filters = {"genre": slugs.strip("|").split("|")[0], "offer": "give"}
        else:
            q = rng.choice(vocab)
        out.append((kind, q, filters))
    return out


def measure_search(n: int) -> dict:
    from books.search import Filters, search_posts

    timings: dict[str, list[float]] = {}
    all_ms = []
    for kind, q, filters in queries(n):
        started = time.perf_counter()
        results = search_posts(q, filters=Filters(**filters))
        results.count()
        list(results[0:20])
        ms = (time.perf_counter() - started) * 1000
        all_ms.append(ms)
        timings.setdefault(kind, []).append(ms)
    return {
        "queries": n,
        "p50_ms": round(pct(all_ms, 0.50), 2),
        "p95_ms": round(pct(all_ms, 0.95), 2),
        "max_ms": round(max(all_ms), 2),
        "by_kind_p95_ms": {k: round(pct(v, 0.95), 2) for k, v in sorted(timings.items())},
    }


def new_posts(n: int) -> list[int]:
    """Posts as a member would add them, saved without the bus (nothing to deliver here)."""
    from books.models import Book, BookPost, Genre
    from books.services import book_create

    gen = Generator(seed=int(time.time()))
    owner_id = __import__("accounts.models", fromlist=["User"]).User.objects.first().pk
    genres = {g.slug: g for g in Genre.objects.all()}
    existing = list(Book.objects.order_by("-id").values_list("id", flat=True)[:2000])
    ids = []
    for i in range(n):
        if i % 4 == 3:
            book_id = random.choice(existing)  # another copy of a known book
        else:
            slug, title, description = gen.book()
            book_id = book_create(
                title=title,
                authors=[f"Bench Author {gen.word()}"],
                description=description,
                genres=[genres[slug]],
            ).pk
        post = BookPost(book_id=book_id, owner_id=owner_id, offer="give", location="York")
        BookPost.objects.bulk_create([post])  # no post_save: we time the consumers' work
        ids.append(post.pk)
    return ids


def measure_consumers(n: int = 40) -> dict:
    from django.db import transaction

    from books.search import index_posts
    from books.suggestions import post_refresh

    ids = new_posts(n)
    index_ms, suggest_ms = [], []
    for pid in ids:
        started = time.perf_counter()
        with transaction.atomic():
            index_posts([pid])
        index_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        with transaction.atomic():
            post_refresh(pid)
        suggest_ms.append((time.perf_counter() - started) * 1000)
    return {
        "posts": n,
        "index_p50_ms": round(pct(index_ms, 0.50), 2),
        "index_p95_ms": round(pct(index_ms, 0.95), 2),
        "suggest_p50_ms": round(pct(suggest_ms, 0.50), 2),
        "suggest_p95_ms": round(pct(suggest_ms, 0.95), 2),
    }


def measure_pages(n: int = 100) -> dict:
    from django.test import Client

    from books.models import BookPost

    client = Client(HTTP_HOST="127.0.0.1")
    post_ids = list(
        BookPost.objects.filter(status="available").order_by("-id").values_list("id", flat=True)[:n]
    )
    post_ms, search_ms = [], []
    qs = [q for _, q, _ in queries(n, seed=5)]
    for pid, q in zip(post_ids, qs, strict=False):
        started = time.perf_counter()
        r = client.get(f"/posts/{pid}/")
        post_ms.append((time.perf_counter() - started) * 1000)
        assert r.status_code == 200, r.status_code
        started = time.perf_counter()
        r = client.get("/search/", {"q": q})
        search_ms.append((time.perf_counter() - started) * 1000)
        assert r.status_code in (200, 302), r.status_code
    return {
        "requests": len(post_ms),
        "post_page_p50_ms": round(pct(post_ms, 0.50), 2),
        "post_page_p95_ms": round(pct(post_ms, 0.95), 2),
        "search_page_p50_ms": round(pct(search_ms, 0.50), 2),
        "search_page_p95_ms": round(pct(search_ms, 0.95), 2),
    }


def run_size(size: int, n_queries: int) -> dict:
    from books.models import BookPost

    started = time.monotonic()
    generate(size)
    gen_s = time.monotonic() - started
    lists_s = build_recent_lists(3000)
    total = BookPost.objects.count()
    print(f"  measuring at {total} posts …")
    result = {
        "posts": total,
        "generate_s": round(gen_s, 1),
        "recent_lists_s": round(lists_s, 1),
        "search": measure_search(n_queries),
        "consumers": measure_consumers(),
        "pages": measure_pages(),
    }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=10_000, help="the smaller size to compare")
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--million", action="store_true", help="also run at 1,000,000 posts")
    args = parser.parse_args()

    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL") or DEFAULT_DB
    if not url.startswith("postgres"):
        sys.exit("bench/search.py needs PostgreSQL: set DATABASE_URL=postgres://…")
    ensure_database(url)
    setup_django(url)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    sizes = sorted(
        {min(args.small, args.posts), args.posts} | ({1_000_000} if args.million else set())
    )
    runs = []
    for size in sizes:
        print(f"== {size} posts")
        runs.append(run_size(size, args.queries))
    report(runs, url)


def report(runs: list[dict], url: str) -> None:
    rows = [
        ("posts", lambda r: f"{r['posts']:,}"),
        ("search p50 ms", lambda r: r["search"]["p50_ms"]),
        ("search p95 ms", lambda r: r["search"]["p95_ms"]),
        ("index one post p50 ms", lambda r: r["consumers"]["index_p50_ms"]),
        ("suggestions one post p50 ms", lambda r: r["consumers"]["suggest_p50_ms"]),
        ("suggestions one post p95 ms", lambda r: r["consumers"]["suggest_p95_ms"]),
        ("post page p50 ms", lambda r: r["pages"]["post_page_p50_ms"]),
        ("post page p95 ms", lambda r: r["pages"]["post_page_p95_ms"]),
        ("search page p50 ms", lambda r: r["pages"]["search_page_p50_ms"]),
        ("search page p95 ms", lambda r: r["pages"]["search_page_p95_ms"]),
    ]
    print()
    print(f"{'':30}" + "".join(f"{r['posts']:>14,}" for r in runs))
    for label, get in rows[1:]:
        print(f"{label:30}" + "".join(f"{get(r):>14}" for r in runs))
    for r in runs:
        print(f"search p95 by kind at {r['posts']:,}: {r['search']['by_kind_p95_ms']}")
    big = runs[-1]
    small = runs[0]
    goals = {
        "search_p95_ms": {"goal": GOALS["search_p95_ms"], "at_100k": None},
        "suggest_ms": {"goal": GOALS["suggest_ms"], "at_100k": None},
    }
    for r in runs:
        if r["posts"] >= 100_000 and goals["search_p95_ms"]["at_100k"] is None:
            goals["search_p95_ms"]["at_100k"] = r["search"]["p95_ms"]
            goals["suggest_ms"]["at_100k"] = r["consumers"]["suggest_p50_ms"]
            goals["search_p95_ms"]["ratio"] = round(
                r["search"]["p95_ms"] / GOALS["search_p95_ms"], 2
            )
            goals["suggest_ms"]["ratio"] = round(
                r["consumers"]["suggest_p50_ms"] / GOALS["suggest_ms"], 2
            )
        if r["posts"] >= 1_000_000:
            goals["search_p95_ms_million"] = {
                "goal": GOALS["search_p95_ms_million"],
                "value": r["search"]["p95_ms"],
                "ratio": round(r["search"]["p95_ms"] / GOALS["search_p95_ms_million"], 2),
            }
    growth = {
        "catalogue": round(big["posts"] / small["posts"], 1),
        "suggestions": round(
            big["consumers"]["suggest_p50_ms"] / max(small["consumers"]["suggest_p50_ms"], 0.01), 2
        ),
        "search_p95": round(big["search"]["p95_ms"] / max(small["search"]["p95_ms"], 0.01), 2),
    }
    print(f"goals: {json.dumps(goals)}")
    print(f"growth {small['posts']:,} → {big['posts']:,}: {json.dumps(growth)}")
    write_json(
        "search",
        {"database": url.rsplit("@", 1)[-1], "runs": runs, "goals": goals, "growth": growth},
    )


if __name__ == "__main__":
    main()
