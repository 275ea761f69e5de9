"""Notifications from other apps' events: in the site (`notifications` queue) and by
email at once (`mail` queue, its own worker). Both route the same way (routing.py)."""

from books.events import BookPostCreated
from bookshare.eventbus import consumer
from exchanges import events as ex
from reactions.events import PostLiked

from .routing import route
from .services import email_now, notify

EVENTS = (
    ex.CopyRequested,
    ex.RequestAccepted,
    ex.RequestDeclined,
    ex.RequestCancelled,
    ex.CopyHandedOver,
    ex.CopyReceived,
    ex.LoanReturned,
    ex.RequestMessagePosted,
    PostLiked,
    BookPostCreated,  # the wishlist alert (needs the lists app's ListItem)
)


@consumer(*EVENTS, queue="notifications", name="notifications.notify", batch_size=20)
def notify_members(event, envelope: dict) -> None:
    notify(event_id=envelope["id"], targets=route(event))


@consumer(*EVENTS, queue="mail", name="notifications.email_now", atomic=False)
def email_members(event, envelope: dict) -> None:
    """Outside the delivery's transaction: each message through call_once (services)."""
    email_now(event_id=envelope["id"], targets=route(event), key=envelope["delivery"]["key"])
