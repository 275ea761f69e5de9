import datetime

import pytest
from django.db import transaction
from django.test import override_settings

from books.models import Book
from bookshare.eventbus.models import StoredEvent
from bookshare.testing.worker import wait_until
from lists import importer, services
from lists.importer import ImportFileError, parse_upload
from lists.models import ImportJob, ImportRow, ListItem, ReadingList

from .csvfiles import (
    GOODREADS_HEADER,
    STORYGRAPH_HEADER,
    goodreads_row,
    storygraph_row,
    to_csv,
)
from .factories import BookFactory, UserFactory

MULTILINE_REVIEW = 'Loved it.<br/><br/>Second paragraph,\nwith a real line break and "quotes".'


def library_file() -> bytes:
    rows = [
        # matched by ISBN-13
        goodreads_row(
            title="Dune", author="Frank Herbert", isbn="0441172717", isbn13="9780441172719",
            shelf="read", shelves="space-opera, favorites", rating=5, review=MULTILINE_REVIEW,
            date_read="2024/02/03", date_added="2023/12/24", book_id=1,
        ),
        # matched by its ISBN-10 only (no ISBN-13 in the row: ="")
        goodreads_row(
            title="Some Other Title", author="Someone", isbn="0306406152", shelf="to-read",
            book_id=2,
        ),
        # no ISBN at all: matched by normalised title + first author
        goodreads_row(
            title="the left hand of darkness", author="Ursula K. Le Guin",
            shelf="currently-reading", rating=0, book_id=3,
        ),
        # unknown to the site: created from the row, unknown shelf becomes a list
        goodreads_row(
            title="A Brand New Book", author="New Writer", shelf="to-read",
            shelves="to-read, strange-shelf", book_id=4,
        ),
        # a custom exclusive shelf: a list of that name, no reading status
        goodreads_row(title="Abandoned", author="Slow Writer", shelf="did-not-finish", book_id=5),
    ]  # fmt: skip
    broken = (
        '6,"The "Broken" Title",Bad Quote,"Quote, Bad",,="",="",0,3.5,X,Paperback,1,2000,2000,,'
        "2024/01/01,,,to-read,,,,0,0"
    )
    return to_csv(GOODREADS_HEADER, rows, extra_lines=[broken])


def run_all(job_id: int) -> None:
    """Apply a job in this process, batch by batch, as the `imports` consumer does."""
    batch = 0
    while True:
        with transaction.atomic():
            more = importer.run_batch(job_id=job_id, batch=batch)
        batch += 1
        if not more:
            return


def known_books():
    dune = BookFactory(title="Dune", authors=["Frank Herbert"], isbn13="9780441172719")
    other = BookFactory(title="Prime Numbers", authors=["A. Counter"], isbn13="9780306406157")
    left = BookFactory(title="The Left Hand of Darkness", authors=["Ursula K. Le Guin"])
    return dune, other, left


# -- Reading files -------------------------------------------------------------------------


def test_goodreads_rows_are_mapped_with_isbn_quirks_rating_zero_and_review_lines():
    parsed = parse_upload(library_file())
    assert parsed.format == "goodreads"
    good = [r for r in parsed.records if not r.error]
    assert [r.data["title"] for r in good][:2] == ["Dune", "Some Other Title"]
    dune = good[0].data
    assert dune["isbns"] == ["9780441172719"]
    assert dune["status"] == "read" and dune["shelves"] == ["space-opera", "favorites"]
    assert dune["rating"] == 5
    assert dune["review"] == (
        'Loved it.\n\nSecond paragraph,\nwith a real line break and "quotes".'
    )
    assert dune["date_read"] == "2024-02-03" and dune["date_added"] == "2023-12-24"
    assert good[1].data["isbns"] == ["9780306406157"]  # ISBN-10 → ISBN-13; ="" ignored
    assert good[2].data["isbns"] == [] and good[2].data["rating"] is None  # 0 = unrated
    assert good[3].data["shelves"] == ["strange-shelf"]
    assert good[4].data["status"] is None and good[4].data["shelves"] == ["did-not-finish"]


def test_a_row_with_broken_quoting_is_reported_on_its_line_and_the_rest_is_read():
    parsed = parse_upload(library_file())
    broken = [r for r in parsed.records if r.error]
    assert len(broken) == 1 and "Broken quoting" in broken[0].error
    assert broken[0].raw.startswith('6,"The "Broken"')
    assert len(parsed.records) == 6
    # the record after a multi-line review starts on the right line
    assert [r.number for r in parsed.records][:2] == [2, 4]


def test_an_unclosed_quote_costs_one_row_not_the_rest_of_the_file():
    rows = [goodreads_row(title=f"Book {i}", author="A. Writer", book_id=i) for i in range(3)]
    text = to_csv(GOODREADS_HEADER, rows[:1]).decode()
    text += '9,"Never closed,Writer,,,="",="",0,,,,,,,,,,,to-read,,,,0,0\r\n'
    text += to_csv(GOODREADS_HEADER, rows[1:]).decode().split("\r\n", 1)[1]
    parsed = parse_upload(text.encode())
    assert [r.data.get("title") for r in parsed.records if not r.error] == [
        "Book 0",
        "Book 1",
        "Book 2",
    ]
    assert [r.number for r in parsed.records if r.error] == [3]


def test_storygraph_is_recognised_and_mapped():
    rows = [
        storygraph_row(
            title="Piranesi", authors="Susanna Clarke", isbn="9781526622426", status="read",
            rating="4.5", review="Strange<br>and lovely", tags="magic, houses",
        ),
        storygraph_row(title="Paused One", authors="P. Writer, Co Author", status="paused"),
    ]  # fmt: skip
    parsed = parse_upload(to_csv(STORYGRAPH_HEADER, rows))
    assert parsed.format == "storygraph"
    first, second = (r.data for r in parsed.records)
    assert first["status"] == "read" and first["rating"] == 5 and first["date_read"] == "2023-04-01"
    assert first["review"] == "Strange\nand lovely" and first["shelves"] == ["magic", "houses"]
    assert second["status"] is None and second["shelves"] == ["Paused"]
    assert second["authors"] == ["P. Writer", "Co Author"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "doesn't look like a CSV"),
        (b"just one line of prose without commas", "doesn't look like a CSV"),
        (b"Name,Email,Phone\r\nAda,ada@example.org,1\r\n", "don't recognise"),
        (to_csv(GOODREADS_HEADER, []), "no books"),
        (b"x" * (10 * 1024 * 1024 + 1), "larger than 10 MB"),
    ],
)
def test_bad_files_get_a_clear_message(content, message):
    with pytest.raises(ImportFileError, match=message):
        parse_upload(content)


# -- Applying rows -------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_bad_file_changes_nothing():
    user = UserFactory()
    with pytest.raises(ImportFileError):
        services.import_start(user=user, filename="x.csv", content=b"a,b\r\n1,2\r\n")
    assert not ImportJob.objects.exists() and not ImportRow.objects.exists()
    assert not StoredEvent.objects.filter(type="LibraryImportStarted").exists()


@pytest.mark.django_db
@override_settings(LISTS_IMPORT_BATCH_SIZE=2)
def test_rows_are_applied_in_bounded_batches_each_publishing_the_next():
    user = UserFactory()
    known_books()
    job = services.import_start(user=user, filename="lib.csv", content=library_file())
    assert job.total_rows == 6 and job.done_rows == 1 and job.skipped == 1
    assert StoredEvent.objects.filter(type="LibraryImportStarted").count() == 1
    with transaction.atomic():
        assert importer.run_batch(job_id=job.pk, batch=0)
    job.refresh_from_db()
    assert job.state == "running" and job.done_rows == 3
    assert [e.data["batch"] for e in StoredEvent.objects.filter(type="LibraryImportBatchDue")] == [
        1
    ]
    run_all(job.pk)
    job.refresh_from_db()
    assert job.state == "done" and job.done_rows == 6
    assert StoredEvent.objects.filter(type="LibraryImportFinished").count() == 1


@pytest.mark.django_db
def test_import_puts_books_on_the_right_lists_with_dates_and_matches():
    user = UserFactory()
    dune, other, left = known_books()
    books_before = Book.objects.count()
    job = services.import_start(user=user, filename="lib.csv", content=library_file())
    run_all(job.pk)
    job.refresh_from_db()
    assert (job.imported, job.unchanged, job.matched, job.created, job.skipped) == (5, 0, 3, 2, 1)
    assert Book.objects.count() == books_before + 2
    status = dict(
        ListItem.objects.filter(owner=user).exclude(status="").values_list("book", "status")
    )
    created = Book.objects.get(title="A Brand New Book")
    assert status == {
        dune.pk: "read",
        other.pk: "want_to_read",
        left.pk: "reading",
        created.pk: "want_to_read",
    }
    assert created.author_names == "New Writer"
    dune_item = ListItem.objects.get(owner=user, book=dune, status="read")
    assert dune_item.read_on == datetime.date(2024, 2, 3)
    assert dune_item.added_at.date() == datetime.date(2023, 12, 24)
    names = {
        rl.name: set(rl.items.values_list("book__title", flat=True))
        for rl in ReadingList.objects.filter(owner=user)
    }
    assert names["Favourites"] == {"Dune"}
    assert names["space-opera"] == {"Dune"}
    assert names["strange-shelf"] == {"A Brand New Book"}
    assert names["did-not-finish"] == {"Abandoned"}
    assert not ReadingList.objects.get(owner=user, name="strange-shelf").is_public
    # each item published its event like any other
    assert (
        StoredEvent.objects.filter(type="BookAddedToList").count()
        == ListItem.objects.filter(owner=user).count()
    )
    assert importer.failed_rows_csv(job).splitlines()[1].startswith("8,Broken quoting")


@pytest.mark.django_db
def test_importing_the_same_file_twice_changes_nothing_the_second_time():
    user = UserFactory()
    known_books()
    run_all(services.import_start(user=user, filename="a.csv", content=library_file()).pk)
    items = set(
        ListItem.objects.filter(owner=user).values_list("pk", "list_id", "book_id", "position")
    )
    books = Book.objects.count()
    lists = ReadingList.objects.filter(owner=user).count()
    events = (
        StoredEvent.objects.filter(source="lists").exclude(type__startswith="LibraryImport").count()
    )
    second = services.import_start(user=user, filename="a.csv", content=library_file())
    run_all(second.pk)
    second.refresh_from_db()
    assert (second.imported, second.unchanged, second.skipped) == (0, 5, 1)
    assert (
        set(ListItem.objects.filter(owner=user).values_list("pk", "list_id", "book_id", "position"))
        == items
    )
    assert Book.objects.count() == books and ReadingList.objects.filter(owner=user).count() == lists
    assert (
        StoredEvent.objects.filter(source="lists").exclude(type__startswith="LibraryImport").count()
        == events
    )


@pytest.mark.django_db
def test_a_row_moved_to_another_shelf_in_a_later_export_is_one_status_change():
    user = UserFactory()
    first = [goodreads_row(title="Moving Book", author="M. Writer", shelf="currently-reading")]
    later = [
        goodreads_row(title="Moving Book", author="M. Writer", shelf="read", date_read="2024/05/05")
    ]
    run_all(
        services.import_start(
            user=user, filename="1.csv", content=to_csv(GOODREADS_HEADER, first)
        ).pk
    )
    run_all(
        services.import_start(
            user=user, filename="2.csv", content=to_csv(GOODREADS_HEADER, later)
        ).pk
    )
    (change,) = StoredEvent.objects.filter(type="ReadingStatusChanged")
    assert (change.data["previous_status"], change.data["status"]) == ("reading", "read")


@pytest.mark.django_db
def test_ratings_and_reviews_become_reviews():
    from reactions.models import Review

    user = UserFactory()
    dune, _other, left = known_books()
    run_all(services.import_start(user=user, filename="a.csv", content=library_file()).pk)
    review = Review.objects.get(user=user, book=dune)
    assert review.rating == 5 and review.text.count("\n") >= 2
    assert not Review.objects.filter(user=user, book=left).exists()  # rating 0 = unrated
    count = Review.objects.count()
    run_all(services.import_start(user=user, filename="a.csv", content=library_file()).pk)
    assert Review.objects.count() == count


@pytest.mark.flow
@pytest.mark.django_db(transaction=True)
def test_flow_import_runs_on_the_imports_queue_through_a_real_worker(settled_bus):
    user = UserFactory()
    dune, _other, _left = known_books()
    with transaction.atomic():
        job = services.import_start(user=user, filename="lib.csv", content=library_file())
    wait_until(
        lambda: ImportJob.objects.get(pk=job.pk).is_done, timeout=90, message="the import to finish"
    )
    job.refresh_from_db()
    assert (job.imported, job.skipped, job.done_rows, job.total_rows) == (5, 1, 6, 6)
    assert ListItem.objects.filter(owner=user, book=dune, status="read").exists()
    with transaction.atomic():
        again = services.import_start(user=user, filename="lib.csv", content=library_file())
    wait_until(
        lambda: ImportJob.objects.get(pk=again.pk).is_done, timeout=90, message="the second import"
    )
    again.refresh_from_db()
    assert (again.imported, again.unchanged) == (0, 5)


@pytest.mark.django_db
def test_a_book_twice_in_one_file_is_created_once_and_a_known_book_keeps_its_facts():
    """A row's ISBN never rewrites a shared book (issue 13 item 9): a known title and
    author with an ISBN the book lacks is another edition, created with that ISBN."""
    user = UserFactory()
    known = BookFactory(title="Known Without Isbn", authors=["K. Writer"])
    rows = [
        goodreads_row(title="Twice Listed", author="T. Writer", shelf="read", book_id=1),
        goodreads_row(title="twice listed!", author="t writer", shelves="again", book_id=2),
        goodreads_row(title="Known Without Isbn", author="K. Writer", isbn13="9780306406157"),
    ]
    job = services.import_start(user=user, filename="x.csv", content=to_csv(GOODREADS_HEADER, rows))
    run_all(job.pk)
    job.refresh_from_db()
    assert (job.created, job.matched, job.skipped) == (2, 1, 0)
    assert Book.objects.filter(title="Twice Listed").count() == 1
    known.refresh_from_db()
    assert not known.isbn13
    assert Book.objects.get(isbn13="9780306406157").title == "Known Without Isbn"


@pytest.mark.django_db
def test_one_import_at_a_time_per_member():
    user = UserFactory()
    content = to_csv(GOODREADS_HEADER, [goodreads_row(title="One", author="A. Writer")])
    job = services.import_start(user=user, filename="a.csv", content=content)
    with pytest.raises(ImportFileError, match="still running"):
        services.import_start(user=user, filename="a.csv", content=content)
    services.import_start(user=UserFactory(), filename="a.csv", content=content)
    run_all(job.pk)
    services.import_start(user=user, filename="a.csv", content=content)


# -- Bulk batches -----------------------------------------------------------------------------


def _bulk_file(n: int, *, writers: str = "New Writer", isbn: str = "9780306406157") -> bytes:
    """n rows: half match known books by title + author, half create theirs (with an
    ISBN on every fourth), all rated, every third on a shelf of its own."""
    rows = []
    for i in range(n):
        if i % 2:
            title, author = f"Known Title {(i // 2) % 6}", "Known Writer"
        else:
            title, author = f"New Title {i}", f"{writers} {i % 4}"
        rows.append(
            goodreads_row(
                title=title,
                author=author,
                isbn13=isbn if i == 4 else "",
                shelf=("to-read", "read", "currently-reading")[i % 3],
                shelves="bulk-shelf" if i % 3 == 0 else "",
                rating=i % 5 + 1,
                book_id=i,
            )
        )
    return to_csv(GOODREADS_HEADER, rows)


def _batch_queries(user, content, django_capture) -> tuple[int, ImportJob]:
    """Queries of one batch that are not event inserts (one per event by design)."""
    job = services.import_start(user=user, filename="b.csv", content=content)
    with django_capture() as ctx, transaction.atomic():
        importer.run_batch(job_id=job.pk, batch=0)
    sql = [q["sql"] for q in ctx.captured_queries]
    return len([s for s in sql if "eventbus_" not in s]), job


@pytest.mark.django_db
def test_a_batch_is_applied_in_bulk_whatever_its_number_of_rows(caplog):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for i in range(6):
        BookFactory(title=f"Known Title {i}", authors=["Known Writer"])

    def capture():
        return CaptureQueriesContext(connection)

    small, _ = _batch_queries(UserFactory(), _bulk_file(6, writers="Few"), capture)
    big, job = _batch_queries(
        UserFactory(), _bulk_file(40, writers="Many", isbn="9780441172719"), capture
    )
    assert big == small
    assert "row by row" not in caplog.text
    job.refresh_from_db()
    assert (job.imported, job.matched, job.created, job.skipped) == (40, 20, 20, 0)


@pytest.mark.django_db
def test_bulk_batches_publish_every_items_reviews_and_books_events():
    from reactions.models import Review

    user = UserFactory()
    for i in range(6):
        BookFactory(title=f"Known Title {i}", authors=["Known Writer"])
    run_all(services.import_start(user=user, filename="b.csv", content=_bulk_file(12)).pk)
    items = ListItem.objects.filter(owner=user)
    added = StoredEvent.objects.filter(type="BookAddedToList", data__user_id=user.pk)
    assert sorted(e.data["item_id"] for e in added) == sorted(items.values_list("pk", flat=True))
    assert items.count() == 12 + 4  # a status each, and four on bulk-shelf
    reviews = Review.objects.filter(user=user)
    submitted = StoredEvent.objects.filter(type="ReviewSubmitted", data__user_id=user.pk)
    assert sorted(e.data["review_id"] for e in submitted) == sorted(
        reviews.values_list("pk", flat=True)
    )
    assert reviews.count() == 12 and reviews.get(book__title="New Title 4").rating == 5
    created = Book.objects.get(isbn13="9780306406157")
    assert created.title == "New Title 4" and created.author_names == "New Writer 0"
    assert StoredEvent.objects.filter(
        type="BookDetailsRequested", data__book_id=created.pk
    ).exists()
    assert StoredEvent.objects.filter(type="BookDetailsRequested").count() == 1


@pytest.mark.django_db
def test_a_later_export_moves_items_and_updates_reviews_in_a_bulk_batch():
    from reactions.models import Review

    user = UserFactory()
    first = [
        goodreads_row(title="Mover", author="M. Writer", shelf="to-read", rating=2, book_id=1),
        goodreads_row(title="Stayer", author="S. Writer", shelf="read", rating=4, book_id=2),
    ]
    second = [
        goodreads_row(title="Mover", author="M. Writer", shelf="read", rating=5, book_id=1),
        goodreads_row(title="Stayer", author="S. Writer", shelf="read", rating=4, book_id=2),
        goodreads_row(title="Fresh", author="F. Writer", shelf="to-read", book_id=3),
    ]
    run_all(
        services.import_start(
            user=user, filename="1.csv", content=to_csv(GOODREADS_HEADER, first)
        ).pk
    )
    mover = ListItem.objects.get(owner=user, book__title="Mover")
    job = services.import_start(
        user=user, filename="2.csv", content=to_csv(GOODREADS_HEADER, second)
    )
    run_all(job.pk)
    job.refresh_from_db()
    assert (job.imported, job.unchanged) == (2, 1)
    moved = ListItem.objects.get(owner=user, book__title="Mover")
    assert moved.pk == mover.pk and moved.status == "read"
    changes = StoredEvent.objects.filter(type="ReadingStatusChanged", data__item_id=mover.pk)
    assert [(e.data["previous_status"], e.data["status"]) for e in changes] == [
        ("want_to_read", "read")
    ]
    assert Review.objects.get(user=user, book__title="Mover").rating == 5
    updated = StoredEvent.objects.filter(type="ReviewUpdated", data__user_id=user.pk)
    assert [(e.data["previous_rating"], e.data["rating"]) for e in updated] == [(2, 5)]


@pytest.mark.django_db
def test_when_the_bulk_path_fails_the_batch_is_applied_row_by_row(monkeypatch, caplog):
    from django.db import IntegrityError

    import books.services

    def clash(**kwargs):
        raise IntegrityError("a book made meanwhile")

    user = UserFactory()
    dune, other, left = known_books()
    monkeypatch.setattr(books.services, "books_create_many", clash)
    job = services.import_start(user=user, filename="lib.csv", content=library_file())
    run_all(job.pk)
    job.refresh_from_db()
    assert "row by row" in caplog.text
    assert (job.imported, job.unchanged, job.matched, job.created, job.skipped) == (5, 0, 3, 2, 1)
    assert ListItem.objects.filter(owner=user, book=dune).exclude(status="").get().status == "read"
    assert (
        StoredEvent.objects.filter(type="BookAddedToList").count()
        == ListItem.objects.filter(owner=user).count()
    )
