"""Goodreads and StoryGraph library imports.

Reading the file (`parse_upload`) happens in the upload request: the format is recognised
from the header, each record becomes a dict of the fields we use, and records that can't
be read (broken quoting, wrong number of fields) are kept with their reason. Nothing is
written until the whole file has been read, so a bad file changes nothing.

Applying the rows (`run_batch`) happens on the `imports` queue, one bounded batch per
delivery: each batch is one transaction, and publishes the event for the next one. Every
list change goes through lists.services, so each item publishes its events like any other.
"""

from __future__ import annotations

import csv
import datetime
import io
import logging
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from books.isbn import to_isbn13
from books.services import (
    book_create,
    book_get_or_create,
    book_match_key,
    split_author_names,
)

from .models import ImportJob, ImportRow, ListKind, ReadingList

logger = logging.getLogger(__name__)

MAX_BYTES = 10 * 1024 * 1024
# A quoted field may run over several lines (a review); no record is longer than this,
# so a stray quote costs a bounded amount of reading before its line is reported.
MAX_RECORD_LINES = 200
MAX_RECORD_CHARS = 100_000

GOODREADS_REQUIRED = {"Title", "Author", "ISBN", "ISBN13", "Exclusive Shelf"}
STORYGRAPH_REQUIRED = {"Title", "Authors", "ISBN/UID", "Read Status"}

SHELF_STATUS = {
    "read": ListKind.READ,
    "currently-reading": ListKind.READING,
    "to-read": ListKind.WANT_TO_READ,
}
FAVOURITE_SHELVES = {"favorites", "favourites", "favorite", "favourite"}
STORYGRAPH_OTHER_STATUS = {"did-not-finish": "Did not finish", "paused": "Paused"}


class ImportFileError(ValueError):
    """The file as a whole can't be imported; the message is for the member."""


@dataclass
class ParsedRecord:
    number: int  # line number in the file where the record starts
    raw: str
    data: dict = field(default_factory=dict)
    error: str = ""


@dataclass
class ParsedFile:
    format: str
    records: list[ParsedRecord]


# -- Reading the file ---------------------------------------------------------------------


def _decode(content: bytes) -> str:
    if b"\x00" in content[:4096]:
        raise ImportFileError("This doesn't look like a CSV file (it contains binary data).")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError("This doesn't look like a CSV file (it isn't text).")


def detect_format(header: list[str]) -> str:
    names = {h.strip() for h in header}
    if names >= GOODREADS_REQUIRED:
        return ImportJob.Format.GOODREADS
    if names >= STORYGRAPH_REQUIRED:
        return ImportJob.Format.STORYGRAPH
    raise ImportFileError(
        "We don't recognise this file. Upload the CSV that Goodreads (My Books → Import and "
        "export → Export library) or StoryGraph (Manage account → Export) gives you, "
        "without changing its first line."
    )


def _records(text: str):
    """(line number, raw text, fields or None, error) for each record after the header.

    A record ends at a line end outside quotes. A record whose quotes never balance, or
    that the csv module rejects, is reported on its own first line and reading goes on
    from the next line, so one stray quote costs one row, not the rest of the file.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    i = 1
    while i < len(lines):
        if not lines[i].strip():
            i += 1
            continue
        j = i
        buf = lines[i]
        while (
            buf.count('"') % 2
            and j + 1 < len(lines)
            and j - i < MAX_RECORD_LINES
            and len(buf) < MAX_RECORD_CHARS
        ):
            j += 1
            buf += "\n" + lines[j]
        try:
            rows = list(csv.reader(io.StringIO(buf), strict=True))
        except csv.Error:
            rows = None
        if buf.count('"') % 2 or rows is None or len(rows) != 1:
            yield i + 1, lines[i], None, "Broken quoting: this line could not be read."
            i += 1
            continue
        yield i + 1, buf, rows[0], ""
        i = j + 1


def parse_upload(content: bytes) -> ParsedFile:
    if len(content) > MAX_BYTES:
        raise ImportFileError("The file is larger than 10 MB. Export again, or split it.")
    text = _decode(content)
    first_line = text.replace("\r\n", "\n").split("\n", 1)[0]
    try:
        header = next(csv.reader([first_line], strict=True), [])
    except csv.Error:
        header = []
    if len(header) < 2:
        raise ImportFileError("This doesn't look like a CSV file (no header line of columns).")
    fmt = detect_format(header)
    header = [h.strip() for h in header]
    mapper = _map_goodreads if fmt == ImportJob.Format.GOODREADS else _map_storygraph
    records: list[ParsedRecord] = []
    for number, raw, fields, error in _records(text):
        if fields is None:
            records.append(ParsedRecord(number=number, raw=raw, error=error))
            continue
        if len(fields) != len(header):
            records.append(
                ParsedRecord(
                    number=number,
                    raw=raw,
                    error=f"This line has {len(fields)} columns; the header has {len(header)}.",
                )
            )
            continue
        data = mapper(dict(zip(header, fields, strict=True)))
        records.append(ParsedRecord(number=number, raw=raw, data=data))
    if not records:
        raise ImportFileError("The file has a header but no books.")
    return ParsedFile(format=fmt, records=records)


def _unquote_isbn(value: str) -> str:
    """Goodreads writes `="0441172717"` (and `=""` for none)."""
    value = (value or "").strip()
    if value.startswith("="):
        value = value[1:]
    return value.strip().strip('"').strip()


def _isbn13_or_none(value: str) -> str | None:
    value = _unquote_isbn(value)
    if not value:
        return None
    try:
        return to_isbn13(value)
    except ValidationError:
        return None


def _isbns(*values: str) -> list[str]:
    """Distinct valid ISBN-13s, in the order given (an ISBN-10 becomes its ISBN-13)."""
    found = []
    for value in values:
        isbn13 = _isbn13_or_none(value)
        if isbn13 and isbn13 not in found:
            found.append(isbn13)
    return found


def _date(value: str) -> str | None:
    value = (value or "").strip()
    for fmt in ("%Y/%m/%d", "%Y-%m-%d", "%Y/%m", "%Y"):
        try:
            return datetime.datetime.strptime(value, fmt).date().isoformat()
        except ValueError:
            continue
    return None


def _rating(value: str) -> int | None:
    """1–5 stars; 0, blank or nonsense is "unrated". Half stars round up."""
    try:
        stars = Decimal((value or "").strip()).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    except InvalidOperation:
        return None
    return int(stars) if 1 <= stars <= 5 else None


_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")


def _review_text(value: str) -> str:
    text = _BR.sub("\n", value or "")
    text = _TAG.sub("", text)
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def _shelf_names(value: str) -> list[str]:
    names, seen = [], set()
    for part in (value or "").split(","):
        name = " ".join(part.split())[:100]
        if name and name.lower() not in seen:
            seen.add(name.lower())
            names.append(name)
    return names


def _map_goodreads(row: dict) -> dict:
    exclusive = (row.get("Exclusive Shelf") or "").strip().lower()
    shelves = [
        s
        for s in _shelf_names(row.get("Bookshelves", ""))
        if s.lower() not in SHELF_STATUS and s.lower() != exclusive
    ]
    if exclusive and exclusive not in SHELF_STATUS:
        shelves.insert(0, exclusive)  # a custom exclusive shelf: a list of that name
    authors = [row.get("Author", "")] + split_author_names(
        (row.get("Additional Authors") or "").replace(",", ";")
    )
    return {
        "title": " ".join((row.get("Title") or "").split()),
        "authors": [a.strip() for a in authors if a.strip()],
        "isbns": _isbns(row.get("ISBN13", ""), row.get("ISBN", "")),
        "status": SHELF_STATUS.get(exclusive),
        "shelves": shelves,
        "rating": _rating(row.get("My Rating", "")),
        "review": _review_text(row.get("My Review", "")),
        "date_added": _date(row.get("Date Added", "")),
        "date_read": _date(row.get("Date Read", "")),
        "publisher": (row.get("Publisher") or "").strip()[:200],
        "year": _year(row.get("Original Publication Year") or row.get("Year Published")),
    }


def _map_storygraph(row: dict) -> dict:
    read_status = (row.get("Read Status") or "").strip().lower()
    shelves = _shelf_names(row.get("Tags", ""))
    if read_status in STORYGRAPH_OTHER_STATUS:
        shelves.insert(0, STORYGRAPH_OTHER_STATUS[read_status])
    last_read = (row.get("Last Date Read") or "").strip()
    if not last_read:
        dates = (row.get("Dates Read") or "").strip()
        last_read = dates.rsplit("-", 1)[-1] if dates.count("/") >= 2 else ""
    return {
        "title": " ".join((row.get("Title") or "").split()),
        "authors": [a.strip() for a in (row.get("Authors") or "").split(",") if a.strip()],
        "isbns": _isbns(row.get("ISBN/UID", "")),
        "status": SHELF_STATUS.get(read_status),
        "shelves": shelves,
        "rating": _rating(row.get("Star Rating", "")),
        "review": _review_text(row.get("Review", "")),
        "date_added": _date(row.get("Date Added", "")),
        "date_read": _date(last_read),
        "publisher": "",
        "year": None,
    }


def _year(value) -> int | None:
    try:
        year = int(str(value or "").strip())
    except ValueError:
        return None
    return year if 1450 <= year <= 2100 else None


# -- Applying the rows ---------------------------------------------------------------------


def batch_size() -> int:
    return getattr(settings, "LISTS_IMPORT_BATCH_SIZE", 200)


def _aware(day: str | None) -> datetime.datetime | None:
    if not day:
        return None
    d = datetime.date.fromisoformat(day)
    return datetime.datetime(d.year, d.month, d.day, 12, tzinfo=datetime.UTC)


class _KnownBooks:
    """The books a batch's rows may match, read in two queries up front (by ISBN-13 and
    by match key) instead of one or two per row; books the batch creates join them."""

    def __init__(self, rows: list[ImportRow]):
        from books.models import Book

        isbns = {i for r in rows for i in r.data.get("isbns", [])}
        keys = {k for k in (self.key(r.data) for r in rows) if k}
        self.by_isbn = {b.isbn13: b for b in Book.objects.filter(isbn13__in=isbns)}
        self.by_key: dict[str, object] = {}
        for b in Book.objects.filter(match_key__in=keys).order_by("-id"):
            self.by_key[b.match_key] = b  # the oldest wins, as books.services.book_find

    @staticmethod
    def key(data: dict) -> str | None:
        if data.get("title") and data.get("authors"):
            return book_match_key(title=data["title"], first_author=data["authors"][0])
        return None

    def add(self, book) -> None:
        if book.isbn13:
            self.by_isbn[book.isbn13] = book
        self.by_key.setdefault(book.match_key, book)


def _require_title_and_author(data: dict) -> None:
    """A row no ISBN matched must name its book: both ways of matching (row by row and
    per batch) refuse it the same way."""
    if not data["title"]:
        raise ValidationError("The row has no title.")
    if not data["authors"]:
        raise ValidationError("The row has no author, and its ISBN is not known here.")


def _match_book(data: dict, known: _KnownBooks):
    """(book, created): by ISBN-13, then the ISBN-10's ISBN-13, then normalised title +
    first author (the same rules as books.services.book_find); a row nothing matches
    creates its book (books.services.book_create)."""
    for isbn13 in data["isbns"]:
        book = known.by_isbn.get(isbn13)
        if book is not None:
            return book, False
    _require_title_and_author(data)
    book = known.by_key.get(known.key(data))
    isbn = data["isbns"][0] if data["isbns"] else None
    if book is not None and not (isbn and not book.isbn13):
        return book, False
    if book is not None:  # known without an ISBN, which the row supplies: books' rules
        book, created = book_get_or_create(isbn=isbn, title=data["title"], authors=data["authors"])
    else:
        details = {"publisher": data.get("publisher", "")}
        if data.get("year"):
            details["year"] = data["year"]
        book = book_create(title=data["title"], authors=data["authors"], isbn13=isbn, **details)
        created = True
    known.add(book)
    return book, created


class _Shelves:
    """The member's lists by name, made on first use (imported lists start private)."""

    def __init__(self, user):
        from .services import lists_ensure_builtin

        self.user = user
        self.builtin = lists_ensure_builtin(user=user)
        self.by_name = {
            rl.name.lower(): rl for rl in ReadingList.objects.filter(owner=user, kind="custom")
        }

    def get(self, name: str) -> ReadingList:
        from .services import list_create

        if name.lower() in FAVOURITE_SHELVES:
            return self.builtin[ListKind.FAVOURITES]
        found = self.by_name.get(name.lower())
        if found is None:
            builtin_names = {rl.name.lower(): rl for rl in self.builtin.values()}
            if name.lower() in builtin_names:
                return builtin_names[name.lower()]
            found = list_create(owner=self.user, name=name, is_public=False)
            self.by_name[name.lower()] = found
        return found


def apply_review(*, user, book, rating: int | None, text: str, created_at) -> bool:
    """My Rating / My Review → the member's review of the book. Returns whether it changed.

    Reviews belong to the `reactions` app: this calls
    `reactions.services.review_submit(user, book, rating, text, created_at)`, which
    creates or updates the one review per member and book and publishes its events.
    A review needs 1–5 stars: text without a rating stays on the row. Raises
    ValidationError (e.g. a text over the review length limit) for the caller to note.
    """
    if rating is None:
        return False
    from reactions.services import review_submit

    before = book.reviews.filter(user=user).values_list("rating", "text").first()
    review = review_submit(user=user, book=book, rating=rating, text=text, created_at=created_at)
    return before != (review.rating, review.text)


def _apply_row(row: ImportRow, shelves: _Shelves, user, known: _KnownBooks) -> None:
    from .services import list_add_book, status_set

    data = row.data
    book, created = _match_book(data, known)
    row.book = book
    row.book_created = created
    changed = False
    added_at = _aware(data.get("date_added"))
    read_on = datetime.date.fromisoformat(data["date_read"]) if data.get("date_read") else None
    notes = []
    if data.get("status"):
        _item, did = status_set(
            user=user,
            book=book,
            status=data["status"],
            added_at=added_at,
            read_on=read_on if data["status"] == ListKind.READ else None,
            builtin=shelves.builtin,
            locked=True,
        )
        changed |= did
    for name in data.get("shelves", []):
        try:
            reading_list = shelves.get(name)
        except ValidationError as exc:
            notes.append(f"shelf “{name}” not added: {exc.messages[0]}")
            continue
        _item, did = list_add_book(reading_list=reading_list, book=book, added_at=added_at)
        changed |= did
    if data.get("rating") is not None or data.get("review"):
        if data.get("rating") is None:
            notes.append("review text without a star rating kept on the import, not imported")
        else:
            try:
                changed |= apply_review(
                    user=user,
                    book=book,
                    rating=data["rating"],
                    text=data.get("review", ""),
                    created_at=added_at,
                )
            except ValidationError as exc:
                notes.append(f"review not imported: {' '.join(exc.messages)}")
    row.outcome = ImportRow.Outcome.IMPORTED if changed else ImportRow.Outcome.UNCHANGED
    row.reason = "; ".join(notes)[:300]


def _skip(row: ImportRow, reason: str) -> None:
    row.outcome = ImportRow.Outcome.SKIPPED
    row.reason = reason[:300]
    row.book = None
    row.book_created = False


class _BulkBatch:
    """A batch applied with a few statements instead of a few per row.

    The rows are first *planned* in memory, in file order, against the member's items and
    reviews of the batch's books (read in one query each), with exactly the rules of
    `_apply_row` (books by ISBN-13, ISBN-10's ISBN-13, title + first author, created
    when nothing matches; status moves; a book once per list; one review per book). Then
    the new books, items and reviews are inserted in one statement each, and each new
    item and review publishes its event, as a single save does. Items that move between
    status lists and changed reviews (rare in an import) are saved one by one, so their
    signals publish ReadingStatusChanged and ReviewUpdated.
    """

    def __init__(self, *, rows, shelves: _Shelves, user, known: _KnownBooks):
        self.rows, self.shelves, self.user, self.known = rows, shelves, user, known
        self.now = timezone.now()
        self.new_items = []
        self.reviews: dict[int, tuple] = {}  # book id -> (book, rating, text, created_at)
        self.changed: dict[int, bool] = {}  # row pk -> changed
        self.notes: dict[int, list[str]] = {}

    # -- books -----------------------------------------------------------------------------

    def plan_books(self) -> None:
        from books.services import books_create_many

        pending_isbn: dict[str, dict] = {}
        pending_key: dict[str, dict] = {}
        specs: list[dict] = []
        targets = {}
        for row in self.rows:
            try:
                targets[row.pk] = self._book_for(row.data, pending_isbn, pending_key, specs)
            except ValidationError as exc:
                _skip(row, " ".join(exc.messages))
        books = books_create_many(specs=specs)
        for spec, book in zip(specs, books, strict=True):
            spec["book"] = book
            self.known.add(book)
        for row in self.rows:
            if row.pk in targets:
                target, first_row = targets[row.pk]
                row.book = target["book"] if isinstance(target, dict) else target
                row.book_created = first_row

    def _book_for(self, data, pending_isbn, pending_key, specs):
        """(known Book or the spec of a book to create, whether this row creates it)."""
        known = self.known
        for isbn13 in data["isbns"]:
            found = known.by_isbn.get(isbn13) or pending_isbn.get(isbn13)
            if found is not None:
                return found, False
        _require_title_and_author(data)
        key = known.key(data)
        found = known.by_key.get(key) or pending_key.get(key)
        isbn = data["isbns"][0] if data["isbns"] else None
        found_isbn = (
            found.get("isbn13") if isinstance(found, dict) else getattr(found, "isbn13", None)
        )
        if found is not None and not (isbn and not found_isbn):
            return found, False
        spec = {
            "title": data["title"],
            "authors": data["authors"],
            "isbn13": isbn,
            "publisher": data.get("publisher", ""),
            "year": data.get("year"),
        }
        specs.append(spec)
        if isbn:
            pending_isbn[isbn] = spec
        pending_key.setdefault(key, spec)
        return spec, True

    # -- items and reviews ------------------------------------------------------------------

    def plan_items(self) -> None:
        from reactions.services import clean_rating, clean_text

        from .models import ListItem

        lists = {rl.pk: rl for rl in self.shelves.builtin.values()}
        lists.update({rl.pk: rl for rl in self.shelves.by_name.values()})
        book_ids = {row.book_id for row in self.rows if row.book_id}
        self.on_list = {}
        self.status_item = {}
        for item in ListItem.objects.filter(owner_id=self.user.pk, book_id__in=book_ids):
            if item.list_id in lists:
                item.list = lists[item.list_id]
            self.on_list[(item.list_id, item.book_id)] = item
            if item.status:
                self.status_item[item.book_id] = item
        for row in self.rows:
            if row.outcome == ImportRow.Outcome.SKIPPED:
                continue
            data, book = row.data, row.book
            notes = self.notes.setdefault(row.pk, [])
            changed = False
            added_at = _aware(data.get("date_added"))
            read_on = (
                datetime.date.fromisoformat(data["date_read"]) if data.get("date_read") else None
            )
            if data.get("status"):
                changed |= self._status(
                    book,
                    data["status"],
                    added_at,
                    read_on if data["status"] == ListKind.READ else None,
                )
            for name in data.get("shelves", []):
                try:
                    reading_list = self.shelves.get(name)
                except ValidationError as exc:
                    notes.append(f"shelf “{name}” not added: {exc.messages[0]}")
                    continue
                lists[reading_list.pk] = reading_list
                if reading_list.is_status:
                    changed |= self._status(book, reading_list.kind, added_at, read_on)
                else:
                    changed |= self._add(reading_list, book, added_at)
            if data.get("rating") is not None or data.get("review"):
                if data.get("rating") is None:
                    notes.append(
                        "review text without a star rating kept on the import, not imported"
                    )
                else:
                    try:
                        rating = clean_rating(data["rating"])
                        text = clean_text(data.get("review", ""))
                    except ValidationError as exc:
                        notes.append(f"review not imported: {' '.join(exc.messages)}")
                    else:
                        before = self.reviews.get(book.pk)
                        created_at = before[3] if before else added_at
                        self.reviews[book.pk] = (book, rating, text, created_at)
            self.changed[row.pk] = changed

    def _status(self, book, status, added_at, read_on) -> bool:
        """`services.status_set` on the planned state."""
        from .models import ListItem
        from .services import END

        current = self.status_item.get(book.pk)
        target = self.shelves.builtin[status]
        if current is not None and current.status == status:
            if read_on and current.read_on != read_on:
                current.read_on = read_on
                if current.pk:
                    current.save(update_fields=["read_on"])
                return True
            return False
        if current is not None:  # a move: the item keeps its id (ReadingStatusChanged)
            self.on_list.pop((current.list_id, book.pk), None)
            current.list, current.status, current.position = target, status, END
            if read_on:
                current.read_on = read_on
            if current.pk:
                current.save()
            self.on_list[(target.pk, book.pk)] = current
            return True
        item = ListItem(
            list=target,
            book=book,
            owner_id=self.user.pk,
            status=status,
            position=END,
            added_at=added_at or self.now,
            read_on=read_on,
        )
        self.new_items.append(item)
        self.on_list[(target.pk, book.pk)] = item
        self.status_item[book.pk] = item
        return True

    def _add(self, reading_list, book, added_at) -> bool:
        """`services.list_add_book` (a list that is not a status list) on the planned state."""
        from .models import ListItem
        from .services import END

        if (reading_list.pk, book.pk) in self.on_list:
            return False
        item = ListItem(
            list=reading_list,
            book=book,
            owner_id=self.user.pk,
            position=END,
            added_at=added_at or self.now,
        )
        self.new_items.append(item)
        self.on_list[(reading_list.pk, book.pk)] = item
        return True

    # -- writing -----------------------------------------------------------------------------

    def write(self) -> None:
        from bookshare.eventbus import publish
        from reactions.services import reviews_submit_many

        from .events import BookAddedToList
        from .models import ListItem
        from .signals import item_payload

        if self.new_items:
            ListItem.objects.bulk_create(self.new_items)
            for item in self.new_items:
                item._loaded_status = item.status
                publish(BookAddedToList(**item_payload(item)))
        reviewed = reviews_submit_many(user=self.user, reviews=self.reviews.values())
        for row in self.rows:
            if row.outcome == ImportRow.Outcome.SKIPPED:
                continue
            changed = self.changed.get(row.pk, False) or reviewed.get(row.book_id, False)
            row.outcome = ImportRow.Outcome.IMPORTED if changed else ImportRow.Outcome.UNCHANGED
            row.reason = "; ".join(self.notes.get(row.pk, []))[:300]

    def apply(self) -> None:
        self.plan_books()
        self.plan_items()
        self.write()


def _apply_rows_one_by_one(rows, job, user) -> None:
    """The careful path: each row in a savepoint of its own, so an unexpected error costs
    that row only. Used when the bulk path fails (e.g. a clash with a list item or book
    made meanwhile by another request)."""
    shelves = _Shelves(user)
    known = _KnownBooks(rows)
    for row in rows:
        try:
            with transaction.atomic():
                _apply_row(row, shelves, user, known)
        except Exception as exc:  # one bad row must not stop the import
            if isinstance(exc, ValidationError):
                reason = " ".join(exc.messages)
            else:
                logger.exception("import %s: row %s failed", job.pk, row.number)
                reason = "This row could not be imported (an unexpected error was logged)."
            # Lists and books made in the rolled-back savepoint are gone: read them again.
            shelves = _Shelves(user)
            known = _KnownBooks(rows)
            _skip(row, reason)


def _save_outcomes(rows: list[ImportRow], chunk: int = 500) -> None:
    """The rows' outcome, reason and book in one UPDATE … FROM (VALUES …) per `chunk`
    rows on PostgreSQL (a VALUES list's columns are named column1, column2, …): Django's
    bulk_update builds a CASE per field and row, which cost more than the work."""
    from django.db import connection

    if connection.vendor != "postgresql":  # UPDATE … FROM needs SQLite 3.33+
        ImportRow.objects.bulk_update(rows, ["outcome", "reason", "book", "book_created"])
        return
    table = connection.ops.quote_name(ImportRow._meta.db_table)
    for start in range(0, len(rows), chunk):
        part = rows[start : start + chunk]
        values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(part))
        params = []
        for row in part:
            params += [row.pk, row.outcome, row.reason, row.book_id, row.book_created]
        sql = (
            f"UPDATE {table} SET outcome = v.column2, reason = v.column3, "  # noqa: S608
            "book_id = CAST(v.column4 AS bigint), book_created = v.column5 "
            f"FROM (VALUES {values}) AS v WHERE {table}.id = v.column1"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


def run_batch(*, job_id: int, batch: int) -> bool:
    """Apply the next batch of the job's pending rows, inside the caller's transaction
    (the consumer's delivery). Returns True when rows remain (a next batch is due).

    The rows are applied in bulk (`_BulkBatch`, in one savepoint); if that fails for any
    reason, the savepoint is rolled back and the batch is applied row by row."""
    from bookshare.eventbus import publish

    from .events import LibraryImportBatchDue, LibraryImportFinished

    job = ImportJob.objects.select_for_update().select_related("owner").filter(pk=job_id).first()
    if job is None or job.state == ImportJob.State.DONE:
        return False
    now = timezone.now()
    if job.state == ImportJob.State.QUEUED:
        job.state = ImportJob.State.RUNNING
        job.started_at = now
    user = job.owner
    from .services import lock_member_statuses

    lock_member_statuses(user_id=user.pk)  # held to the end of this batch's transaction
    rows = list(
        job.rows.filter(outcome=ImportRow.Outcome.PENDING).order_by("number")[: batch_size()]
    )
    try:
        with transaction.atomic():
            _BulkBatch(
                rows=rows, shelves=_Shelves(user), user=user, known=_KnownBooks(rows)
            ).apply()
    except Exception:
        logger.warning(
            "import %s: batch %s applied row by row (the bulk path failed)",
            job.pk,
            batch,
            exc_info=True,
        )
        for row in rows:
            row.outcome, row.reason, row.book, row.book_created = "pending", "", None, False
        _apply_rows_one_by_one(rows, job, user)
    _save_outcomes(rows)
    job.done_rows += len(rows)
    for row in rows:
        if row.outcome == ImportRow.Outcome.SKIPPED:
            job.skipped += 1
            continue
        if row.outcome == ImportRow.Outcome.IMPORTED:
            job.imported += 1
        else:
            job.unchanged += 1
        if row.book_created:
            job.created += 1
        else:
            job.matched += 1
    more = job.rows.filter(outcome=ImportRow.Outcome.PENDING).exists()
    if not more:
        job.state = ImportJob.State.DONE
        job.finished_at = timezone.now()
        job.done_rows = job.total_rows
        publish(
            LibraryImportFinished(
                job_id=job.pk,
                user_id=job.owner_id,
                imported=job.imported,
                unchanged=job.unchanged,
                skipped=job.skipped,
            )
        )
    else:
        publish(LibraryImportBatchDue(job_id=job.pk, batch=batch + 1))
    job.save()
    return more


def failed_rows_csv(job: ImportJob) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["line", "reason", "row"])
    for row in job.rows.filter(outcome=ImportRow.Outcome.SKIPPED).order_by("number"):
        writer.writerow([row.number, row.reason, row.raw])
    return out.getvalue()
