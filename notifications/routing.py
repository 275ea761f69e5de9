"""Who is told about an event, as what kind, by whom, about which object.

Pure functions of the event (plus, for the wishlist alert, a query of the Want to read
lists): the in-site consumer and the email consumer route the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from django.apps import apps

from books.events import BookPostCreated
from exchanges import events as ex
from reactions.events import PostLiked

from .models import Kind


@dataclass(frozen=True)
class Target:
    recipient_id: int
    kind: str
    actor_id: int | None
    book_id: int | None = None
    post_id: int | None = None
    request_id: int | None = None
    detail: str = ""
    group_key: str = ""


def _to_owner(event, kind):
    return Target(
        recipient_id=event.owner_id,
        kind=kind,
        actor_id=event.requester_id,
        book_id=event.book_id,
        post_id=event.post_id or None,
        request_id=event.request_id,
    )


def _to_requester(event, kind, detail=""):
    return Target(
        recipient_id=event.requester_id,
        kind=kind,
        actor_id=event.owner_id,
        book_id=event.book_id,
        post_id=event.post_id or None,
        request_id=event.request_id,
        detail=detail,
    )


def route(event) -> list[Target]:
    """The targets of one event, never the member who did it."""
    targets = _route(event)
    return [t for t in targets if t.recipient_id and t.recipient_id != t.actor_id]


def _route(event) -> list[Target]:
    if isinstance(event, ex.CopyRequested):
        return [_to_owner(event, Kind.COPY_REQUESTED)]
    if isinstance(event, ex.RequestAccepted):
        return [_to_requester(event, Kind.REQUEST_ACCEPTED)]
    if isinstance(event, ex.RequestDeclined):
        return [_to_requester(event, Kind.REQUEST_DECLINED, detail=event.reason[:300])]
    if isinstance(event, ex.RequestCancelled):
        return [_to_owner(event, Kind.REQUEST_CANCELLED)]
    if isinstance(event, ex.CopyHandedOver):
        return [_to_requester(event, Kind.COPY_HANDED_OVER)]
    if isinstance(event, ex.CopyReceived):
        return [replace(_to_owner(event, Kind.COPY_RECEIVED), detail=event.due_date or "")]
    if isinstance(event, ex.LoanReturned):
        return [_to_requester(event, Kind.LOAN_RETURNED)]
    if isinstance(event, ex.RequestMessagePosted):
        return [
            Target(
                recipient_id=event.recipient_id,
                kind=Kind.REQUEST_MESSAGE,
                actor_id=event.author_id,
                post_id=event.post_id or None,
                request_id=event.request_id,
            )
        ]
    if isinstance(event, BookPostCreated):
        return wishlist_targets(event)
    if isinstance(event, PostLiked):
        return [
            Target(
                recipient_id=event.post_owner_id,
                kind=Kind.POST_LIKED,
                actor_id=event.user_id,
                book_id=event.book_id,
                post_id=event.post_id,
                group_key=f"post_liked:{event.post_id}",
            )
        ]
    return []


WISHLIST_BATCH = 2000


def _list_item_model():
    """The lists app's ListItem, or None while that app has no such model yet."""
    try:
        return apps.get_model("lists", "ListItem")
    except LookupError:
        return None


def wishlist_targets(event: BookPostCreated) -> list[Target]:
    """Everyone with the posted book on their Want to read list, except the poster.

    The member is told about their own list, so a private list reveals nothing to anyone
    else. Reads member ids in primary-key batches (no large OFFSETs); notify() then
    writes in batches of its own.
    """
    ListItem = _list_item_model()
    if ListItem is None:
        return []
    items = ListItem.objects.filter(book_id=event.book_id, status="want_to_read").exclude(
        owner_id=event.owner_id
    )
    targets: list[Target] = []
    last = 0
    while True:
        batch = list(
            items.filter(pk__gt=last).order_by("pk").values_list("pk", "owner_id")[:WISHLIST_BATCH]
        )
        if not batch:
            return targets
        last = batch[-1][0]
        targets.extend(
            Target(
                recipient_id=owner_id,
                kind=Kind.WISHLIST_POSTED,
                actor_id=event.owner_id,
                book_id=event.book_id,
                post_id=event.post_id,
            )
            for _pk, owner_id in batch
        )
