"""Discovery's consumers, on the `suggestions` queue. Each applies one fact to the read
models (order-safe and idempotent by the Signal key, see taste.record): the signal log and
trending (O(1)), in a handful of statements whatever the data's size. What the fact means
for the member (their basket, its pairs, their list) is left to one coalesced job per
member (`taste.refresh_pending`, tasks.py); the event only marks them."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from books.events import BookPostCreated, BookPostRemoved
from bookshare.eventbus import consumer
from exchanges.events import CopyRequested
from lists.events import BookAddedToList, BookRemovedFromList, ReadingStatusChanged
from reactions.events import (
    PostLiked,
    PostUnliked,
    ReviewRemoved,
    ReviewSubmitted,
    ReviewUpdated,
)

from . import genres, taste
from .events import GenreJoined, GenreLeft

K = taste.K


def occurred_at(envelope: dict) -> dt.datetime:
    value = envelope.get("occurred_at")
    if isinstance(value, dt.datetime):
        return value
    parsed = parse_datetime(value) if isinstance(value, str) else None
    return parsed or timezone.now()


def apply_event(event, at: dt.datetime) -> None:
    """Record the event's fact (taste.record also marks the member for a refresh)."""
    if isinstance(event, (BookAddedToList, BookRemovedFromList)):
        taste.record(
            key=f"item:{event.item_id}", user_id=event.user_id, book_id=event.book_id,
            kind=event.list_kind, public=event.list_public, at=at,
            active=isinstance(event, BookAddedToList),
        )  # fmt: skip
    elif isinstance(event, ReadingStatusChanged):
        taste.record(
            key=f"item:{event.item_id}", user_id=event.user_id, book_id=event.book_id,
            kind=event.status, public=event.list_public, at=at,
        )  # fmt: skip
    elif isinstance(event, (PostLiked, PostUnliked)):
        taste.record(
            key=f"like:{event.user_id}:{event.post_id}", user_id=event.user_id,
            book_id=event.book_id, kind=K.LIKE, at=at, active=isinstance(event, PostLiked),
        )  # fmt: skip
    elif isinstance(event, (ReviewSubmitted, ReviewUpdated, ReviewRemoved)):
        taste.record(
            key=f"review:{event.review_id}", user_id=event.user_id, book_id=event.book_id,
            kind=K.REVIEW, rating=event.rating, at=at,
            active=not isinstance(event, ReviewRemoved),
        )  # fmt: skip
    elif isinstance(event, (BookPostCreated, BookPostRemoved)):
        taste.record(
            key=f"post:{event.post_id}", user_id=event.owner_id, book_id=event.book_id,
            kind=K.POST, at=at, active=isinstance(event, BookPostCreated),
        )  # fmt: skip
    elif isinstance(event, CopyRequested):
        taste.record(
            key=f"request:{event.request_id}", user_id=event.requester_id,
            book_id=event.book_id, kind=K.REQUEST, at=at,
        )  # fmt: skip
    else:  # pragma: no cover - the decorator lists the types
        return None
    return (
        getattr(event, "user_id", None)
        or getattr(event, "requester_id", None)
        or getattr(event, "owner_id", None)
    )


SIGNAL_EVENTS = (
    BookAddedToList,
    BookRemovedFromList,
    ReadingStatusChanged,
    PostLiked,
    PostUnliked,
    ReviewSubmitted,
    ReviewUpdated,
    ReviewRemoved,
    BookPostCreated,
    BookPostRemoved,
    CopyRequested,
)


@consumer(*SIGNAL_EVENTS, queue="suggestions", name="discovery.record")
def record(event, envelope: dict) -> None:
    """Signal log and trending; marks the acting member for their coalesced job."""
    apply_event(event, occurred_at(envelope))


@consumer(GenreJoined, GenreLeft, queue="suggestions", name="discovery.genre_membership")
def genre_membership(event, envelope: dict) -> None:
    """When members joined (for the genre page); their recommendations' genre boost comes
    with their next refresh (marked here)."""
    taste.member_lock(event.user_id)
    genres.membership_apply(
        user_id=event.user_id,
        genre_id=event.genre_id,
        joined=isinstance(event, GenreJoined),
        at=occurred_at(envelope),
    )
    taste.mark_dirty(event.user_id)
