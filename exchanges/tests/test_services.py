"""The state machine: who may do what from which state, what it does to the post, and
the events it publishes in the same transaction."""

import datetime as dt

import pytest
from django.utils import timezone

from books.models import BookPost
from books.tests.factories import BookPostFactory, UserFactory
from bookshare.eventbus.models import StoredEvent
from exchanges import services
from exchanges.models import CopyRequest
from exchanges.services import ExchangeError

pytestmark = pytest.mark.django_db
State = CopyRequest.State


def events_of(type_):
    return [e.data for e in StoredEvent.objects.filter(type=type_).order_by("seq")]


def make_request(post=None, requester=None, **kwargs):
    post = post or BookPostFactory()
    return services.request_create(requester=requester or UserFactory(), post=post, **kwargs)


def test_create_publishes_copy_requested_with_both_members():
    req = make_request(message="  hello  ")
    assert req.state == State.OPEN and req.message == "hello"
    (data,) = events_of("CopyRequested")
    assert data["request_id"] == req.pk
    assert data["owner_id"] == req.owner_id and data["requester_id"] == req.requester_id


@pytest.mark.parametrize(
    "setup, message",
    [
        (lambda post, user: post.owner, "your own post"),
        (lambda post, user: UserFactory(unverified=True), "confirm your email"),
    ],
)
def test_create_refused_for_owner_and_unverified(setup, message):
    post = BookPostFactory()
    with pytest.raises(ExchangeError, match=message):
        services.request_create(requester=setup(post, None), post=post)
    assert not CopyRequest.objects.exists()


def test_one_active_request_per_member_per_post():
    req = make_request()
    with pytest.raises(ExchangeError, match="already asked"):
        services.request_create(requester=req.requester, post=req.post)
    services.request_cancel(actor=req.requester, request_id=req.pk)
    again = services.request_create(requester=req.requester, post=req.post)
    assert again.pk != req.pk


def test_request_on_reserved_or_gone_post_refused():
    post = BookPostFactory(status=BookPost.Status.GONE)
    with pytest.raises(ExchangeError, match="gone"):
        make_request(post=post)


def test_accept_reserves_post_and_politely_declines_the_others():
    post = BookPostFactory()
    first, second, third = (make_request(post=post) for _ in range(3))
    services.request_accept(actor=post.owner, request_id=second.pk)
    post.refresh_from_db()
    assert post.status == BookPost.Status.RESERVED
    first.refresh_from_db()
    third.refresh_from_db()
    for other in (first, third):
        assert other.state == State.DECLINED and other.declined_automatically
        assert "another member" in other.decline_reason
    declined = events_of("RequestDeclined")
    assert {d["request_id"] for d in declined} == {first.pk, third.pk}
    assert all(d["automatic"] for d in declined)
    assert [d["request_id"] for d in events_of("RequestAccepted")] == [second.pk]
    # books' signal published the post's new status
    assert events_of("BookPostUpdated")[-1]["status"] == "reserved"


def test_only_owner_accepts_and_only_from_open():
    req = make_request()
    with pytest.raises(ExchangeError, match="Only the owner"):
        services.request_accept(actor=req.requester, request_id=req.pk)
    services.request_accept(actor=req.owner, request_id=req.pk)
    with pytest.raises(ExchangeError, match="accepted now"):  # a double click
        services.request_accept(actor=req.owner, request_id=req.pk)
    assert events_of("RequestAccepted").__len__() == 1


def test_gift_full_cycle_post_gone():
    req = make_request()
    services.request_accept(actor=req.owner, request_id=req.pk)
    services.request_hand_over(actor=req.owner, request_id=req.pk)
    with pytest.raises(ExchangeError, match="Only the member who asked"):
        services.request_confirm_received(actor=req.owner, request_id=req.pk)
    services.request_confirm_received(actor=req.requester, request_id=req.pk)
    req.refresh_from_db()
    req.post.refresh_from_db()
    assert req.state == State.RECEIVED
    assert req.post.status == BookPost.Status.GONE
    assert events_of("CopyReceived")[0]["due_date"] is None


def test_loan_cycle_on_loan_then_returned_and_available_again():
    post = BookPostFactory(offer=BookPost.Offer.LEND)
    req = make_request(post=post)
    due = timezone.localdate() + dt.timedelta(days=21)
    services.request_accept(actor=post.owner, request_id=req.pk)
    services.request_hand_over(actor=post.owner, request_id=req.pk, due_date=due)
    services.request_confirm_received(actor=req.requester, request_id=req.pk)
    req.refresh_from_db()
    post.refresh_from_db()
    assert req.state == State.ON_LOAN and post.status == BookPost.Status.RESERVED
    assert events_of("CopyReceived")[0]["due_date"] == due.isoformat()
    with pytest.raises(ExchangeError, match="Only the owner"):
        services.loan_confirm_returned(actor=req.requester, request_id=req.pk)
    services.loan_confirm_returned(actor=post.owner, request_id=req.pk)
    post.refresh_from_db()
    assert post.status == BookPost.Status.AVAILABLE
    assert len(events_of("LoanReturned")) == 1


def test_due_date_only_for_a_loan_and_in_the_future():
    req = make_request()
    services.request_accept(actor=req.owner, request_id=req.pk)
    with pytest.raises(ExchangeError, match="Only a loan"):
        services.request_hand_over(
            actor=req.owner, request_id=req.pk, due_date=timezone.localdate() + dt.timedelta(1)
        )


def test_cancel_after_accept_frees_the_post_but_not_after_hand_over():
    req = make_request()
    services.request_accept(actor=req.owner, request_id=req.pk)
    services.request_cancel(actor=req.requester, request_id=req.pk)
    req.post.refresh_from_db()
    assert req.post.status == BookPost.Status.AVAILABLE
    other = make_request(post=req.post)
    services.request_accept(actor=req.owner, request_id=other.pk)
    services.request_hand_over(actor=req.owner, request_id=other.pk)
    with pytest.raises(ExchangeError, match="handed over now"):
        services.request_cancel(actor=other.requester, request_id=other.pk)


def test_swap_reserves_and_then_consumes_the_offered_post():
    post = BookPostFactory(offer=BookPost.Offer.SWAP)
    requester = UserFactory()
    mine = BookPostFactory(owner=requester)
    req = make_request(post=post, requester=requester, offered_post=mine)
    assert events_of("CopyRequested")[0]["offered_post_id"] == mine.pk
    services.request_accept(actor=post.owner, request_id=req.pk)
    mine.refresh_from_db()
    assert mine.status == BookPost.Status.RESERVED
    services.request_hand_over(actor=post.owner, request_id=req.pk)
    services.request_confirm_received(actor=requester, request_id=req.pk)
    mine.refresh_from_db()
    assert mine.status == BookPost.Status.GONE


def test_swap_offer_must_be_own_available_post():
    post = BookPostFactory(offer=BookPost.Offer.SWAP)
    with pytest.raises(ExchangeError, match="your own available"):
        make_request(post=post, offered_post=BookPostFactory())
    with pytest.raises(ExchangeError, match="Only a swap"):
        requester = UserFactory()
        make_request(requester=requester, offered_post=BookPostFactory(owner=requester))


def test_messages_only_between_the_two_members():
    req = make_request()
    services.request_message_post(author=req.owner, request_id=req.pk, body=" <b>hi</b> ")
    (data,) = events_of("RequestMessagePosted")
    assert data["author_id"] == req.owner_id and data["recipient_id"] == req.requester_id
    with pytest.raises(ExchangeError, match="Only the two members"):
        services.request_message_post(author=UserFactory(), request_id=req.pk, body="hi")
    with pytest.raises(ExchangeError, match="Write a message"):
        services.request_message_post(author=req.owner, request_id=req.pk, body="   ")


def test_removed_post_closes_its_active_requests_and_keeps_history():
    post = BookPostFactory()
    open_req = make_request(post=post)
    post_id = post.pk
    from django.db import transaction

    with transaction.atomic():
        post.delete()
    open_req.refresh_from_db()
    assert open_req.post is None and open_req.post_number == post_id
    assert services.requests_close_for_removed_post(post_id=post_id) == 1
    assert services.requests_close_for_removed_post(post_id=post_id) == 0
    open_req.refresh_from_db()
    assert open_req.state == State.DECLINED and "removed" in open_req.decline_reason
