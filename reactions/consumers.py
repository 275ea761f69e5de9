"""Reactions to review events. The rating consumer recomputes from the review rows (under
a row lock), so repeats and reordering cannot make it wrong."""

from bookshare.eventbus import consumer

from .events import ReviewRemoved, ReviewSubmitted, ReviewUpdated
from .ratings import book_rating_refresh


@consumer(
    ReviewSubmitted,
    ReviewUpdated,
    ReviewRemoved,
    queue="suggestions",
    name="reactions.book_rating",
    batch_size=50,
)
def book_rating(event, envelope: dict) -> None:
    """Keep the book's BookRating (count, average) equal to its reviews."""
    book_rating_refresh(event.book_id)
