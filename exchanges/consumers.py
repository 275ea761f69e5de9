"""Reactions of the exchanges app to other apps' events."""

from books.events import BookPostRemoved
from bookshare.eventbus import consumer

from .services import requests_close_for_removed_post


@consumer(BookPostRemoved, queue="default", name="exchanges.close_requests_of_removed_post")
def close_requests_of_removed_post(event: BookPostRemoved, envelope: dict) -> None:
    """A removed post's open and accepted requests are declined, with a reason."""
    requests_close_for_removed_post(post_id=event.post_id)
