"""Read paths for the exchanges pages."""

from __future__ import annotations

from django.db.models import Count, Q

from books.models import BookPost

from .models import CopyRequest, RequestMessage

State = CopyRequest.State


def _base():
    return CopyRequest.objects.select_related("book", "post", "owner", "requester")


def request_for_viewer(*, pk: int, user) -> CopyRequest | None:
    """The request if `user` may see it: one of the two members, or staff."""
    if not user.is_authenticated:
        return None
    req = _base().select_related("offered_post__book").filter(pk=pk).first()
    if req is None or not (req.is_party(user) or user.is_staff):
        return None
    return req


def request_messages(*, req: CopyRequest):
    return RequestMessage.objects.filter(request=req).select_related("author")


def requests_made(*, user):
    return _base().filter(requester=user)


def requests_received(*, user):
    return _base().filter(owner=user)


def requests_for_post(*, post: BookPost):
    return _base().filter(post=post).order_by("created_at", "id")


def active_request(*, post: BookPost, user) -> CopyRequest | None:
    if not user.is_authenticated:
        return None
    return (
        CopyRequest.objects.filter(post=post, requester=user)
        .exclude(state__in=[State.DECLINED, State.CANCELLED])
        .order_by("-created_at")
        .first()
    )


def open_request_count(*, post: BookPost) -> int:
    return CopyRequest.objects.filter(post=post, state=State.OPEN).count()


def swap_candidates(*, user):
    """The member's own available posts, to offer in a swap."""
    return (
        BookPost.objects.filter(owner=user, status=BookPost.Status.AVAILABLE)
        .select_related("book")
        .order_by("book__title", "id")
    )


def member_exchange_counts(*, user) -> dict[str, int]:
    """Books given (gifts and swaps received by others), lent, and received: a trust
    signal on the profile. One query."""
    done_given = Q(owner=user, state=State.RECEIVED)
    done_lent = Q(owner=user, state__in=[State.ON_LOAN, State.RETURNED])
    done_received = Q(requester=user, state__in=[State.RECEIVED, State.ON_LOAN, State.RETURNED])
    return CopyRequest.objects.filter(Q(owner=user) | Q(requester=user)).aggregate(
        given=Count("pk", filter=done_given),
        lent=Count("pk", filter=done_lent),
        received=Count("pk", filter=done_received),
    )
