"""Feeding events straight to discovery's consumer at a chosen time (a controlled clock)."""

import datetime as dt
import itertools

from discovery import consumers, taste
from discovery.models import PendingRefresh
from lists.events import BookAddedToList, BookRemovedFromList
from reactions.events import PostLiked, PostUnliked, ReviewSubmitted

T0 = dt.datetime(2026, 11, 2, 12, 0, tzinfo=dt.UTC)
_ids = itertools.count(1000)


def feed(event, at=T0, *, refresh=True):
    """Apply the event as its consumer does, then (unless refresh=False) run the refresh
    job it asked for, as the worker would a couple of seconds later."""
    consumers.record(event, {"occurred_at": at.isoformat()})
    if refresh:
        run_refreshes()
    return event


def run_refreshes():
    """Run every pending member refresh now (the job `discovery.refresh_member`)."""
    for user_id in PendingRefresh.objects.values_list("user_id", flat=True):
        taste.refresh_pending(user_id)


def add(user, book, *, kind="want_to_read", public=True, at=T0, item_id=None):
    return feed(
        BookAddedToList(
            item_id=item_id or next(_ids), list_id=1, book_id=book.pk, user_id=user.pk,
            list_kind=kind, list_public=public,
        ),
        at,
    )  # fmt: skip


def remove(added, at=T0):
    return feed(
        BookRemovedFromList(
            item_id=added.item_id, list_id=added.list_id, book_id=added.book_id,
            user_id=added.user_id, list_kind=added.list_kind, list_public=added.list_public,
        ),
        at,
    )  # fmt: skip


def like(user, post, at=T0):
    return feed(
        PostLiked(like_id=next(_ids), post_id=post.pk, book_id=post.book_id, user_id=user.pk,
                  post_owner_id=post.owner_id),
        at,
    )  # fmt: skip


def unlike(user, post, at=T0):
    return feed(
        PostUnliked(post_id=post.pk, book_id=post.book_id, user_id=user.pk,
                    post_owner_id=post.owner_id),
        at,
    )  # fmt: skip


def review(user, book, rating, at=T0):
    return feed(
        ReviewSubmitted(review_id=next(_ids), book_id=book.pk, user_id=user.pk, rating=rating),
        at,
    )
