"""Events the books app publishes. Consumers read the post's current state from the
database, so the payload carries identifiers and the facts a consumer may want to route
on, not a copy of the post."""

from bookshare.eventbus import Event, event


@event
class BookPostCreated(Event):
    event_type = "BookPostCreated"
    version = 1
    source = "books"

    post_id: int
    book_id: int
    owner_id: int
    offer: str
    status: str
    title: str
    isbn13: str | None = None


@event
class BookPostUpdated(Event):
    event_type = "BookPostUpdated"
    version = 1
    source = "books"

    post_id: int
    book_id: int
    owner_id: int
    offer: str
    status: str
    previous_status: str


@event
class BookPostRemoved(Event):
    """The owner withdrew the post (it was deleted). A post given away stays, as "gone"."""

    event_type = "BookPostRemoved"
    version = 1
    source = "books"

    post_id: int
    book_id: int
    owner_id: int
