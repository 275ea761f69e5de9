"""Reactions to book events. Each runs inside the transaction that marks its delivery
done, reads the post's *current* state (so order and repeats don't matter) and copes
with the post having been deleted meanwhile."""

from bookshare.eventbus import consumer

from . import suggestions
from .events import BookPostCreated, BookPostRemoved, BookPostUpdated
from .search import index_posts

# -- search index (queue "search") ------------------------------------------------------


@consumer(BookPostCreated, queue="search", name="books.index_post")
def index_new_post(event: BookPostCreated, envelope: dict) -> None:
    index_posts([event.post_id])


@consumer(BookPostUpdated, queue="search", name="books.reindex_post")
def reindex_post(event: BookPostUpdated, envelope: dict) -> None:
    index_posts([event.post_id])


@consumer(BookPostRemoved, queue="search", name="books.unindex_post")
def unindex_post(event: BookPostRemoved, envelope: dict) -> None:
    index_posts([event.post_id])  # the post is gone, so its entry is deleted


# -- similar posts (queue "suggestions") ------------------------------------------------


@consumer(BookPostCreated, queue="suggestions", name="books.suggest_similar")
def suggest_for_new_post(event: BookPostCreated, envelope: dict) -> None:
    suggestions.post_refresh(event.post_id)


@consumer(BookPostUpdated, queue="suggestions", name="books.resuggest_similar")
def resuggest_post(event: BookPostUpdated, envelope: dict) -> None:
    suggestions.post_refresh(event.post_id)


@consumer(BookPostRemoved, queue="suggestions", name="books.drop_similar")
def drop_post_suggestions(event: BookPostRemoved, envelope: dict) -> None:
    suggestions.post_refresh(event.post_id)
