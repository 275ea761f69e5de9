"""Events the lists app publishes, from list item signals (see lists/signals.py).

`list_kind` is one of "want_to_read", "reading", "read" (the three reading-status
lists), "favourites" or "custom". A BookAddedToList with list_kind "favourites" is the
plan's `BookAddedToFavorites`. `list_public` is false for a private list: consumers that
show anything to other members (trending, recommendations' reasons, notifications) must
not reveal what is on a private list.
"""

from bookshare.eventbus import Event, event


@event
class BookAddedToList(Event):
    """A list item was created (not a move between reading-status lists)."""

    event_type = "BookAddedToList"
    version = 1
    source = "lists"

    item_id: int
    list_id: int
    book_id: int
    user_id: int
    list_kind: str
    list_public: bool


@event
class BookRemovedFromList(Event):
    """A list item was deleted."""

    event_type = "BookRemovedFromList"
    version = 1
    source = "lists"

    item_id: int
    list_id: int
    book_id: int
    user_id: int
    list_kind: str
    list_public: bool


@event
class ReadingStatusChanged(Event):
    """A book moved between Want to read / Reading / Read: one action, one event.

    Published for a move of an existing item from one status list to another (the item
    row keeps its id and changes list). A book's first status is a BookAddedToList, and
    clearing its status a BookRemovedFromList.
    """

    event_type = "ReadingStatusChanged"
    version = 1
    source = "lists"

    item_id: int
    book_id: int
    user_id: int
    previous_status: str
    status: str
    list_public: bool


@event
class LibraryImportStarted(Event):
    """A member uploaded a Goodreads or StoryGraph file; its rows wait in ImportRow.

    Published by `import_start` in the transaction that creates the job; the `imports`
    consumer works through the rows in bounded batches (see lists/importer.py).
    """

    event_type = "LibraryImportStarted"
    version = 1
    source = "lists"

    job_id: int
    user_id: int
    format: str
    total_rows: int


@event
class LibraryImportBatchDue(Event):
    """The next batch of an import's rows is due (published by the previous batch)."""

    event_type = "LibraryImportBatchDue"
    version = 1
    source = "lists"

    job_id: int
    batch: int


@event
class LibraryImportFinished(Event):
    """An import has worked through all its rows."""

    event_type = "LibraryImportFinished"
    version = 1
    source = "lists"

    job_id: int
    user_id: int
    imported: int
    unchanged: int
    skipped: int
