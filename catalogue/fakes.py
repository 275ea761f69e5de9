"""Stand-in providers on localhost, answering in each API's documented shape.

Used by the tests (every provider client runs for real against it) and by `make run`
through `python manage.py catalogue fake_providers` (see the README). One server serves
all three providers under path prefixes:

    /openlibrary/...   /isbn/{isbn}.json, /works/{id}.json, /authors/{id}.json,
                       /api/volumes/brief/isbn/{isbn}.json
    /covers/...        /b/id/{id}-L.jpg (Open Library's cover host)
    /google/...        /volumes?q=isbn:{isbn}
    /isbndb/...        /book/{isbn}?with_prices=1
    /images/{name}     images for members' cover URLs (cover.jpg, polyglot.jpg, bomb.png, …)

`server.modes[provider]` switches a provider to "found" (default), "not_found",
"malformed", "429", "500", "slow" or "huge"; `server.delay[provider]` adds latency
(a number, or a (low, high) range in seconds). `server.hits` lists the paths asked.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import random
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

SAMPLES = {
    "9780547928227": {
        "title": "The Hobbit",
        "subtitle": "or There and Back Again",
        "authors": [("OL26320A", "J.R.R. Tolkien")],
        "publisher": "Mariner Books",
        "date": "September 18, 2012",
        "pages": 300,
        "work": "OL262758W",
        "description": "Bilbo Baggins is a hobbit who enjoys a comfortable, unambitious life.",
        "subjects": ["Fantasy fiction", "Dragons", "Middle Earth (Imaginary place)"],
        "cover": 8406786,
        "ebook": ("9.99", "GBP"),
        "print": [("new", "14.99"), ("used", "4.50")],
        "borrow": "lendable",
    },
    "9780441013593": {
        "title": "Dune",
        "subtitle": "",
        "authors": [("OL79034A", "Frank Herbert")],
        "publisher": "Ace Books",
        "date": "2005",
        "pages": 528,
        "work": "OL893415W",
        "description": "A desert planet, a noble family and the spice that everyone wants.",
        "subjects": ["Science fiction", "Deserts"],
        "cover": 11481354,
        "ebook": ("7.49", "GBP"),
        "print": [("new", "10.99")],
        "borrow": "checked out",
    },
    "9780060850524": {
        "title": "Brave New World",
        "subtitle": "",
        "authors": [("OL27349A", "Aldous Huxley")],
        "publisher": "Harper Perennial",
        "date": "2006",
        "pages": 288,
        "work": "OL64468W",
        "description": "A world state where everyone is happy, by design.",
        "subjects": ["Dystopias", "Science fiction"],
        "cover": 0,
        "ebook": None,
        "print": [],
        "borrow": None,
    },
}
HUGE_BYTES = 4 * 1024 * 1024
SLOW_SECONDS = 6.0


def sample_image(*, size=(120, 180), fmt="JPEG", colour=(120, 60, 30)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format=fmt)
    return out.getvalue()


@functools.cache
def bomb_png(side: int = 30000) -> bytes:
    """A side×side PNG of one colour: small on the wire, side² pixels (900 million)."""
    import struct
    import zlib

    width = height = side
    row = b"\x00" + b"\x00" * (width // 8 + 1)
    raw = zlib.compress(row * height, 1)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def polyglot_jpeg() -> bytes:
    """A JPEG that is also an HTML page: starts like a JPEG, carries markup."""
    return b"\xff\xd8\xff\xe0" + b"<html><script>alert(1)</script></html>" * 20


def generic(isbn: str) -> dict:
    return {
        "title": f"Sample Book {isbn[-5:]}",
        "subtitle": "",
        "authors": [("OL1A", "Sam Sample")],
        "publisher": "Stand-in Press",
        "date": "2020",
        "pages": 200,
        "work": "OL1W",
        "description": "A made-up book for benchmarks.",
        "subjects": ["Fiction"],
        "cover": 1,
        "ebook": (f"{3 + int(isbn[-2:]) / 10:.2f}", "GBP"),
        "print": [("new", f"{8 + int(isbn[-3:-1]) / 10:.2f}")],
        "borrow": "lendable",
    }


class Handler(BaseHTTPRequestHandler):
    server: FakeProviders

    def sample(self, isbn: str) -> dict | None:
        book = SAMPLES.get(isbn)
        if book is None and self.server.any_isbn and isbn.isdigit() and len(isbn) == 13:
            book = generic(isbn)
        return book

    def log_message(self, *args):  # quiet
        return

    def do_GET(self):  # noqa: N802 - http.server's name
        parts = urlsplit(self.path)
        segments = parts.path.strip("/").split("/", 1)
        provider, rest = segments[0], "/" + (segments[1] if len(segments) > 1 else "")
        self.server.hits.append(self.path)
        self.server.requests.append((self.path, dict(self.headers)))
        delay = self.server.delay.get(provider)
        if delay:
            low, high = delay if isinstance(delay, tuple) else (delay, delay)
            time.sleep(random.uniform(low, high))  # noqa: S311 - test latency
        mode = self.server.modes.get(provider, "found")
        if mode == "429":
            return self._send(429, b'{"error": "slow down"}', extra={"Retry-After": "1"})
        if mode == "500":
            return self._send(500, b"<html>Internal error: db01.internal:5432 refused</html>")
        if mode == "slow":
            time.sleep(SLOW_SECONDS)
        if mode == "huge":
            return self._send(200, b'{"pad": "' + b"x" * HUGE_BYTES + b'"}')
        if mode == "malformed":
            return self._send(200, b'{"title": "The Hob')
        query = parse_qs(parts.query)
        found = mode != "not_found"
        route = getattr(self, f"_{provider}", None)
        if route is None:
            return self._send(404, b'{"error": "not found"}')
        return route(rest, query, found)

    # -- responses ------------------------------------------------------------------------
    def _send(self, status: int, body: bytes, *, ctype="application/json", extra=None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(body)

    def _json(self, data, status=200):
        return self._send(status, json.dumps(data).encode())

    def _not_found(self):
        return self._json({"error": "notfound", "key": self.path}, status=404)

    def _openlibrary(self, rest: str, query, found: bool):
        base = self.server.base("openlibrary")
        if rest.startswith("/isbn/"):
            isbn = rest.removeprefix("/isbn/").removesuffix(".json")
            book = self.sample(isbn) if found else None
            if book is None:
                return self._not_found()
            edition = {
                "key": f"/books/{book['work'].replace('W', 'M')}",
                "title": book["title"],
                "publishers": [book["publisher"]],
                "publish_date": book["date"],
                "number_of_pages": book["pages"],
                "isbn_13": [isbn],
                "works": [{"key": f"/works/{book['work']}"}],
                "authors": [{"key": f"/authors/{key}"} for key, _ in book["authors"]],
                "covers": [book["cover"]] if book["cover"] else [],
            }
            if book["subtitle"]:
                edition["subtitle"] = book["subtitle"]
            return self._json(edition)
        if rest.startswith("/works/"):
            work_id = rest.removeprefix("/works/").removesuffix(".json")
            book = next((b for b in SAMPLES.values() if b["work"] == work_id), None)
            if book is None:
                return self._not_found()
            return self._json(
                {
                    "key": f"/works/{work_id}",
                    "title": book["title"],
                    "description": {"type": "/type/text", "value": book["description"]},
                    "subjects": book["subjects"],
                    "authors": [
                        {"author": {"key": f"/authors/{k}"}, "type": {"key": "/type/author_role"}}
                        for k, _ in book["authors"]
                    ],
                }
            )
        if rest.startswith("/authors/"):
            key = rest.removeprefix("/authors/").removesuffix(".json")
            for book in SAMPLES.values():
                for author_key, name in book["authors"]:
                    if author_key == key:
                        return self._json({"key": f"/authors/{key}", "name": name})
            return self._not_found()
        if rest.startswith("/api/volumes/brief/isbn/"):
            isbn = rest.removeprefix("/api/volumes/brief/isbn/").removesuffix(".json")
            book = self.sample(isbn) if found else None
            if book is None or not book["borrow"]:
                return self._json([] if book is None else {"records": {}, "items": []})
            return self._json(
                {
                    "records": {f"/books/{book['work']}": {"isbns": [isbn]}},
                    "items": [
                        {
                            "match": "exact",
                            "status": book["borrow"],
                            "itemURL": f"{base}/books/{book['work']}/borrow",
                            "fromRecord": f"/books/{book['work']}",
                        }
                    ],
                }
            )
        return self._not_found()

    def _covers(self, rest: str, query, found: bool):
        if not found or not rest.startswith("/b/"):
            return self._not_found()
        return self._send(200, sample_image(), ctype="image/jpeg")

    def _images(self, rest: str, query, found: bool):
        name = rest.strip("/")
        bodies = {
            "cover.jpg": (sample_image, "image/jpeg"),
            "cover.png": (lambda: sample_image(fmt="PNG"), "image/png"),
            "polyglot.jpg": (polyglot_jpeg, "image/jpeg"),
            # 36 million pixels: three times CATALOGUE_COVER_MAX_PIXELS, quick to make.
            "bomb.png": (lambda: bomb_png(6000), "image/png"),
            "page.html": (lambda: b"<html><body>not an image</body></html>", "text/html"),
        }
        if name in ("redirect.jpg", "redirect"):  # to an image, or to `?to=` (any address)
            target = (query.get("to") or [f"{self.server.base('images')}/cover.jpg"])[0]
            self.send_response(302)
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        if name not in bodies or not found:
            return self._not_found()
        make, ctype = bodies[name]
        return self._send(200, make(), ctype=ctype)

    def _google(self, rest: str, query, found: bool):
        if rest != "/volumes":
            return self._not_found()
        q = (query.get("q") or [""])[0]
        isbn = q.removeprefix("isbn:")
        book = self.sample(isbn) if found else None
        if book is None:
            return self._json({"kind": "books#volumes", "totalItems": 0})
        sale = {"country": (query.get("country") or ["GB"])[0], "saleability": "NOT_FOR_SALE"}
        if book["ebook"]:
            amount, currency = book["ebook"]
            sale.update(
                saleability="FOR_SALE",
                isEbook=True,
                listPrice={"amount": float(amount) + 2, "currencyCode": currency},
                retailPrice={"amount": float(amount), "currencyCode": currency},
                buyLink=f"https://play.google.com/store/books/details?id=fake{isbn}",
            )
        volume = {
            "kind": "books#volume",
            "id": f"fake{isbn}",
            "volumeInfo": {
                "title": book["title"],
                "subtitle": book["subtitle"] or None,
                "authors": [name for _, name in book["authors"]],
                "publisher": book["publisher"],
                "publishedDate": book["date"][-4:],
                "description": book["description"],
                "industryIdentifiers": [{"type": "ISBN_13", "identifier": isbn}],
                "pageCount": book["pages"],
                "categories": book["subjects"][:1],
                "language": "en",
                "infoLink": f"https://books.google.com/books?id=fake{isbn}",
            },
            "saleInfo": sale,
        }
        return self._json({"kind": "books#volumes", "totalItems": 1, "items": [volume]})

    def _isbndb(self, rest: str, query, found: bool):
        if not rest.startswith("/book/"):
            return self._not_found()
        if self.headers.get("Authorization") in (None, ""):
            return self._json({"message": "Unauthorized"}, status=401)
        isbn = rest.removeprefix("/book/")
        book = self.sample(isbn) if found else None
        if book is None:
            return self._json({"errorType": "NotFound", "errorMessage": "Not Found"}, status=404)
        return self._json(
            {
                "book": {
                    "title": book["title"],
                    "isbn13": isbn,
                    "authors": [name for _, name in book["authors"]],
                    "publisher": book["publisher"],
                    "date_published": book["date"][-4:],
                    "pages": book["pages"],
                    "msrp": "19.99",
                    "prices": [
                        {
                            "condition": condition,
                            "merchant": "Fake Books",
                            "price": price,
                            "total": price,
                            "link": f"https://shop.example/{isbn}?c={condition}",
                        }
                        for condition, price in book["print"]
                    ],
                }
            }
        )


class FakeProviders(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int = 0, host: str = "127.0.0.1"):
        super().__init__((host, port), Handler)
        self.modes: dict[str, str] = {}
        self.delay: dict[str, float | tuple[float, float]] = {}
        # Answer for any ISBN with a made-up book (benchmarks).
        self.any_isbn = False
        self.hits: list[str] = []
        self.requests: list[tuple[str, dict]] = []
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def port(self) -> int:
        return self.server_address[1]

    def base(self, provider: str) -> str:
        return f"{self.url}/{provider}"

    def settings(self, *, isbndb: bool = True) -> dict[str, str]:
        """Settings (or environment variables) that point every provider here."""
        values = {
            "OPENLIBRARY_URL": self.base("openlibrary"),
            "OPENLIBRARY_COVERS_URL": self.base("covers"),
            "GOOGLE_BOOKS_URL": self.base("google"),
            "ISBNDB_URL": self.base("isbndb"),
            "ISBNDB_API_KEY": "fake-key" if isbndb else "",
        }
        return values

    def reset(self) -> None:
        self.modes.clear()
        self.delay.clear()
        self.hits.clear()
        self.requests.clear()

    def hits_for(self, provider: str) -> list[str]:
        return [h for h in self.hits if h.startswith(f"/{provider}/")]

    def start(self) -> FakeProviders:
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
