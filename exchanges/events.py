"""Events the exchanges app publishes. Every one comes from a service in
exchanges/services.py (the intent lives there), inside the transaction of the change.

All carry the request, its post and book, and both members, so a consumer can route
and notify without a query. `offer` is the post's offer: "give", "lend" or "swap".
"""

from bookshare.eventbus import Event, event


@event
class CopyRequested(Event):
    event_type = "CopyRequested"
    version = 1
    source = "exchanges"

    request_id: int
    post_id: int
    book_id: int
    requester_id: int
    owner_id: int
    offer: str
    offered_post_id: int | None = None  # a swap: the requester's post offered in exchange


@event
class RequestAccepted(Event):
    event_type = "RequestAccepted"
    version = 1
    source = "exchanges"

    request_id: int
    post_id: int
    book_id: int
    requester_id: int
    owner_id: int
    offer: str


@event
class RequestDeclined(Event):
    """The owner declined, or accepting another request declined this one (automatic)."""

    event_type = "RequestDeclined"
    version = 1
    source = "exchanges"

    request_id: int
    post_id: int
    book_id: int
    requester_id: int
    owner_id: int
    offer: str
    reason: str = ""
    automatic: bool = False


@event
class RequestCancelled(Event):
    event_type = "RequestCancelled"
    version = 1
    source = "exchanges"

    request_id: int
    post_id: int
    book_id: int
    requester_id: int
    owner_id: int
    offer: str


@event
class CopyHandedOver(Event):
    event_type = "CopyHandedOver"
    version = 1
    source = "exchanges"

    request_id: int
    post_id: int
    book_id: int
    requester_id: int
    owner_id: int
    offer: str


@event
class CopyReceived(Event):
    """The requester confirmed receipt. A gift is now gone; a loan is on loan."""

    event_type = "CopyReceived"
    version = 1
    source = "exchanges"

    request_id: int
    post_id: int
    book_id: int
    requester_id: int
    owner_id: int
    offer: str
    due_date: str | None = None  # ISO date, for a loan


@event
class LoanReturned(Event):
    event_type = "LoanReturned"
    version = 1
    source = "exchanges"

    request_id: int
    post_id: int
    book_id: int
    requester_id: int
    owner_id: int
    offer: str


@event
class RequestMessagePosted(Event):
    event_type = "RequestMessagePosted"
    version = 1
    source = "exchanges"

    message_id: int
    request_id: int
    post_id: int
    author_id: int
    recipient_id: int
