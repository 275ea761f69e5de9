"""Every change to a request: who may do it, from which state, under row locks.

Lock order is always the post first, then request rows, so two transitions on one post
queue behind each other instead of deadlocking. Each service publishes its event inside
its own transaction; a refused transition raises ExchangeError with a message for the
member (views show it; nothing is written).
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone

from books.models import BookPost
from bookshare.eventbus import publish

from . import events
from .models import CopyRequest, RequestMessage

State = CopyRequest.State
AUTO_DECLINE_REASON = (
    "Thank you for asking. The owner has promised this copy to another member, "
    "so this request is closed."
)
REMOVED_REASON = "The owner removed this post, so this request is closed."
MAX_MESSAGE = 2000


class ExchangeError(Exception):
    """A transition that is not allowed now; `str(error)` is shown to the member."""


def _payload(req: CopyRequest) -> dict:
    return {
        "request_id": req.pk,
        "post_id": req.post_number,
        "book_id": req.book_id,
        "requester_id": req.requester_id,
        "owner_id": req.owner_id,
        "offer": req.offer,
    }


def _lock(request_id: int) -> tuple[CopyRequest, BookPost | None]:
    """The request and its post, both locked (post first)."""
    post_id = CopyRequest.objects.filter(pk=request_id).values_list("post_id", flat=True).first()
    post = None
    if post_id is not None:
        post = BookPost.objects.select_for_update().filter(pk=post_id).first()
    req = CopyRequest.objects.select_for_update().filter(pk=request_id).first()
    if req is None:
        raise ExchangeError("That request no longer exists.")
    if post is not None and req.post_id != post.pk:  # the post was removed meanwhile
        post = None
    return req, post


def _state_error(req: CopyRequest, wanted: str) -> ExchangeError:
    return ExchangeError(
        f"This request is {req.get_state_display().lower()} now, so it can't be {wanted}. "
        "The page you used may have been out of date."
    )


def _set_post_status(post: BookPost | None, status: str) -> None:
    """Through the model, so books' signal publishes BookPostUpdated."""
    if post is not None and post.status != status:
        post.status = status
        post.save(update_fields=["status", "updated_at"])


def _require_owner(req: CopyRequest, actor, action: str) -> None:
    if actor.pk != req.owner_id:
        raise ExchangeError(f"Only the owner of the book can {action} a request.")


def _require_requester(req: CopyRequest, actor, action: str) -> None:
    if actor.pk != req.requester_id:
        raise ExchangeError(f"Only the member who asked can {action} a request.")


@transaction.atomic
def request_create(
    *, requester, post: BookPost, message: str = "", offered_post: BookPost | None = None
) -> CopyRequest:
    if not requester.is_authenticated or not requester.is_verified:
        raise ExchangeError("Please confirm your email address before asking for a book.")
    locked = BookPost.objects.select_for_update().filter(pk=post.pk).first()
    if locked is None:
        raise ExchangeError("This post has been removed.")
    if locked.owner_id == requester.pk:
        raise ExchangeError("This is your own post.")
    if locked.status != BookPost.Status.AVAILABLE:
        raise ExchangeError(
            f"This copy is {locked.get_status_display().lower()}, so it can't be requested."
        )
    if CopyRequest.objects.filter(
        post=locked, requester=requester, state__in=CopyRequest.ACTIVE_STATES
    ).exists():
        raise ExchangeError("You have already asked for this copy.")
    if offered_post is not None:
        if locked.offer != BookPost.Offer.SWAP:
            raise ExchangeError("Only a swap takes a book in exchange.")
        offered_post = BookPost.objects.filter(pk=offered_post.pk).first()
        if (
            offered_post is None
            or offered_post.owner_id != requester.pk
            or offered_post.status != BookPost.Status.AVAILABLE
        ):
            raise ExchangeError("Offer one of your own available posts in exchange.")
    message = (message or "").strip()
    if len(message) > 1000:
        raise ExchangeError("Please keep the message under 1,000 characters.")
    try:
        with transaction.atomic():
            req = CopyRequest.objects.create(
                post=locked,
                post_number=locked.pk,
                book_id=locked.book_id,
                owner_id=locked.owner_id,
                requester=requester,
                offer=locked.offer,
                offered_post=offered_post,
                message=message,
            )
    except IntegrityError:  # pragma: no cover - the post lock makes this a backstop
        raise ExchangeError("You have already asked for this copy.") from None
    publish(
        events.CopyRequested(
            **_payload(req), offered_post_id=offered_post.pk if offered_post else None
        )
    )
    return req


@transaction.atomic
def request_accept(*, actor, request_id: int) -> CopyRequest:
    """Accept one request: the post is reserved, the other open requests are declined."""
    req, post = _lock(request_id)
    _require_owner(req, actor, "accept")
    if req.state != State.OPEN:
        raise _state_error(req, "accepted")
    if post is None:
        raise ExchangeError("This post has been removed.")
    if post.status != BookPost.Status.AVAILABLE:
        raise ExchangeError(
            f"This copy is already {post.get_status_display().lower()}; "
            "only one request can be accepted."
        )
    now = timezone.now()
    req.state = State.ACCEPTED
    req.accepted_at = now
    req.save(update_fields=["state", "accepted_at", "updated_at"])
    _set_post_status(post, BookPost.Status.RESERVED)
    if req.offered_post_id:
        offered = BookPost.objects.select_for_update().filter(pk=req.offered_post_id).first()
        if offered is not None and offered.status == BookPost.Status.AVAILABLE:
            _set_post_status(offered, BookPost.Status.RESERVED)
    publish(events.RequestAccepted(**_payload(req)))
    others = list(
        CopyRequest.objects.select_for_update()
        .filter(post=post, state=State.OPEN)
        .exclude(pk=req.pk)
        .order_by("pk")
    )
    for other in others:
        other.state = State.DECLINED
        other.decline_reason = AUTO_DECLINE_REASON
        other.declined_automatically = True
        other.closed_at = now
        other.save(
            update_fields=[
                "state",
                "decline_reason",
                "declined_automatically",
                "closed_at",
                "updated_at",
            ]
        )
        publish(
            events.RequestDeclined(**_payload(other), reason=AUTO_DECLINE_REASON, automatic=True)
        )
    return req


@transaction.atomic
def request_decline(*, actor, request_id: int, reason: str = "") -> CopyRequest:
    req, _post = _lock(request_id)
    _require_owner(req, actor, "decline")
    if req.state != State.OPEN:
        raise _state_error(req, "declined")
    reason = " ".join((reason or "").split())
    if len(reason) > 300:
        raise ExchangeError("Please keep the reason under 300 characters.")
    req.state = State.DECLINED
    req.decline_reason = reason
    req.closed_at = timezone.now()
    req.save(update_fields=["state", "decline_reason", "closed_at", "updated_at"])
    publish(events.RequestDeclined(**_payload(req), reason=reason, automatic=False))
    return req


@transaction.atomic
def request_cancel(*, actor, request_id: int) -> CopyRequest:
    """The requester withdraws, before the hand-over. An accepted request frees the post."""
    req, post = _lock(request_id)
    _require_requester(req, actor, "cancel")
    if req.state not in (State.OPEN, State.ACCEPTED):
        raise _state_error(req, "cancelled")
    was_accepted = req.state == State.ACCEPTED
    req.state = State.CANCELLED
    req.closed_at = timezone.now()
    req.save(update_fields=["state", "closed_at", "updated_at"])
    if was_accepted:
        if post is not None and post.status == BookPost.Status.RESERVED:
            _set_post_status(post, BookPost.Status.AVAILABLE)
        _release_offered(req)
    publish(events.RequestCancelled(**_payload(req)))
    return req


def _release_offered(req: CopyRequest) -> None:
    if req.offered_post_id:
        offered = BookPost.objects.select_for_update().filter(pk=req.offered_post_id).first()
        if offered is not None and offered.status == BookPost.Status.RESERVED:
            _set_post_status(offered, BookPost.Status.AVAILABLE)


@transaction.atomic
def request_hand_over(*, actor, request_id: int, due_date: dt.date | None = None) -> CopyRequest:
    """The owner gave or posted the copy. For a loan, an optional return date."""
    req, post = _lock(request_id)
    _require_owner(req, actor, "hand over")
    if req.state != State.ACCEPTED:
        raise _state_error(req, "handed over")
    if post is None:
        raise ExchangeError("This post has been removed.")
    if due_date is not None:
        if req.offer != BookPost.Offer.LEND:
            raise ExchangeError("Only a loan has a return date.")
        if due_date <= timezone.localdate():
            raise ExchangeError("The return date must be in the future.")
    req.state = State.HANDED_OVER
    req.handed_over_at = timezone.now()
    req.due_date = due_date
    req.save(update_fields=["state", "handed_over_at", "due_date", "updated_at"])
    publish(events.CopyHandedOver(**_payload(req)))
    return req


@transaction.atomic
def request_confirm_received(*, actor, request_id: int) -> CopyRequest:
    """The requester has the copy: a gift or swap is gone, a loan is on loan."""
    req, post = _lock(request_id)
    _require_requester(req, actor, "confirm receipt of")
    if req.state != State.HANDED_OVER:
        raise _state_error(req, "confirmed as received")
    now = timezone.now()
    req.received_at = now
    if req.offer == BookPost.Offer.LEND:
        req.state = State.ON_LOAN
    else:
        req.state = State.RECEIVED
        req.closed_at = now
        _set_post_status(post, BookPost.Status.GONE)
        if req.offered_post_id:
            offered = BookPost.objects.select_for_update().filter(pk=req.offered_post_id).first()
            _set_post_status(offered, BookPost.Status.GONE)
    req.save(update_fields=["state", "received_at", "closed_at", "updated_at"])
    publish(
        events.CopyReceived(
            **_payload(req), due_date=req.due_date.isoformat() if req.due_date else None
        )
    )
    return req


@transaction.atomic
def loan_confirm_returned(*, actor, request_id: int) -> CopyRequest:
    """The owner has the lent copy back: the post is available again."""
    req, post = _lock(request_id)
    _require_owner(req, actor, "confirm the return of")
    if req.state != State.ON_LOAN:
        raise _state_error(req, "confirmed as returned")
    req.state = State.RETURNED
    req.closed_at = timezone.now()
    req.save(update_fields=["state", "closed_at", "updated_at"])
    if post is not None and post.status == BookPost.Status.RESERVED:
        _set_post_status(post, BookPost.Status.AVAILABLE)
    publish(events.LoanReturned(**_payload(req)))
    return req


@transaction.atomic
def request_message_post(*, author, request_id: int, body: str) -> RequestMessage:
    req = CopyRequest.objects.select_for_update().filter(pk=request_id).first()
    if req is None:
        raise ExchangeError("That request no longer exists.")
    if author.pk not in (req.owner_id, req.requester_id):
        raise ExchangeError("Only the two members of a request can write in its thread.")
    body = (body or "").strip()
    if not body:
        raise ExchangeError("Write a message first.")
    if len(body) > MAX_MESSAGE:
        raise ExchangeError(f"Please keep a message under {MAX_MESSAGE:,} characters.")
    message = RequestMessage.objects.create(request=req, author=author, body=body)
    publish(
        events.RequestMessagePosted(
            message_id=message.pk,
            request_id=req.pk,
            post_id=req.post_number,
            author_id=author.pk,
            recipient_id=req.other_party_id(author.pk),
        )
    )
    return message


@transaction.atomic
def requests_close_for_removed_post(*, post_id: int) -> int:
    """The owner removed a post: its open and accepted requests are declined (the post
    is gone, so they can't go on). Idempotent: closed requests are left alone."""
    closed = 0
    for req in CopyRequest.objects.select_for_update().filter(
        post__isnull=True, post_number=post_id, state__in=CopyRequest.ACTIVE_STATES
    ):
        req.state = State.DECLINED
        req.decline_reason = REMOVED_REASON
        req.declined_automatically = True
        req.closed_at = timezone.now()
        req.save()
        publish(events.RequestDeclined(**_payload(req), reason=REMOVED_REASON, automatic=True))
        closed += 1
    return closed
