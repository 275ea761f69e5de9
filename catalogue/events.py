"""Events the catalogue app publishes (external book data and price quotes)."""

from bookshare.eventbus import Event, event


@event
class BookDetailsRequested(Event):
    """A book was created from a bare ISBN: fetch its details and cover (`catalogue`)."""

    event_type = "BookDetailsRequested"
    version = 1
    source = "catalogue"

    book_id: int
    isbn13: str


@event
class PriceComparisonRequested(Event):
    """A member asked for prices and the stored quotes are stale (`prices` queue)."""

    event_type = "PriceComparisonRequested"
    version = 1
    source = "catalogue"

    comparison_id: int
    book_id: int
    isbn13: str
    requested_by_id: int | None = None
