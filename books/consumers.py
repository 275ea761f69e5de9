"""Reactions to book events. Each runs inside the transaction that marks its delivery
done, reads the post's *current* state (so order and repeats don't matter) and copes
with the post having been deleted meanwhile."""

from bookshare.eventbus import consumer

from . import suggestions
from .events import BookPostCreated, BookPostRemoved, BookPostUpdated
from .search import index_posts

POST_EVENTS = (BookPostCreated, BookPostUpdated, BookPostRemoved)


@consumer(*POST_EVENTS, queue="search", name="books.index_post", batch_size=50)
def index_post(event, envelope: dict) -> None:
    """Upsert the post's search entry, or delete it if the post is gone."""
    index_posts([event.post_id])


@consumer(*POST_EVENTS, queue="suggestions", name="books.suggest_similar")
def suggest_similar(event, envelope: dict) -> None:
    """Recompute the post's similar posts and its place in its neighbours' lists."""
    suggestions.post_refresh(event.post_id)
