"""Every notification kind made by a real worker from its event; notification email
through a real `mail` worker and a local SMTP server."""

import datetime as dt

import pytest
from django.utils import timezone

from books.models import BookPost
from books.tests.factories import BookPostFactory, UserFactory
from bookshare.testing import Worker, publish_committed, wait_until
from bookshare.testing.services import free_port
from bookshare.testing.worker import settle
from exchanges import services as ex
from notifications.models import EmailSent, Kind, Notification
from reactions.events import PostLiked

pytestmark = [pytest.mark.flow, pytest.mark.django_db(transaction=True)]


def wait_for(recipient, kind, count=1):
    return wait_until(
        lambda: (
            Notification.objects.filter(recipient=recipient, kind=kind).count() >= count
            and Notification.objects.filter(recipient=recipient, kind=kind).first()
        ),
        timeout=60,
        message=f"{kind} for {recipient}",
    )


def test_every_exchange_notification_from_a_real_worker(settled_bus):
    post = BookPostFactory()
    owner = post.owner
    asker, other = UserFactory(), UserFactory()
    req = ex.request_create(requester=asker, post=post, message="Please")
    losing = ex.request_create(requester=other, post=post)
    assert wait_for(owner, Kind.COPY_REQUESTED, count=2).title == post.book.title
    ex.request_message_post(author=asker, request_id=req.pk, body="Noon at the library?")
    msg = wait_for(owner, Kind.REQUEST_MESSAGE)
    assert msg.actor == asker and msg.target_url().endswith("#thread")
    ex.request_accept(actor=owner, request_id=req.pk)
    assert wait_for(asker, Kind.REQUEST_ACCEPTED).actor == owner
    declined = wait_for(other, Kind.REQUEST_DECLINED)
    assert "another member" in declined.detail and declined.request_id == losing.pk
    ex.request_hand_over(actor=owner, request_id=req.pk)
    wait_for(asker, Kind.COPY_HANDED_OVER)
    ex.request_confirm_received(actor=asker, request_id=req.pk)
    wait_for(owner, Kind.COPY_RECEIVED)
    # nobody was told about their own doing
    assert not Notification.objects.filter(recipient=asker, actor=asker).exists()
    assert not Notification.objects.filter(recipient=owner, actor=owner).exists()


def test_loan_return_and_cancel_notifications(settled_bus):
    post = BookPostFactory(offer=BookPost.Offer.LEND)
    owner, asker = post.owner, UserFactory()
    req = ex.request_create(requester=asker, post=post)
    ex.request_accept(actor=owner, request_id=req.pk)
    due = timezone.localdate() + dt.timedelta(days=14)
    ex.request_hand_over(actor=owner, request_id=req.pk, due_date=due)
    ex.request_confirm_received(actor=asker, request_id=req.pk)
    assert wait_for(owner, Kind.COPY_RECEIVED).detail == due.isoformat()
    ex.loan_confirm_returned(actor=owner, request_id=req.pk)
    wait_for(asker, Kind.LOAN_RETURNED)
    again = ex.request_create(requester=UserFactory(), post=post)
    ex.request_cancel(actor=again.requester, request_id=again.pk)
    assert wait_for(owner, Kind.REQUEST_CANCELLED).actor == again.requester


def test_likes_from_the_reactions_contract_group(settled_bus):
    post = BookPostFactory()
    fans = UserFactory.create_batch(3)
    for i, fan in enumerate(fans):
        publish_committed(
            PostLiked(
                like_id=i + 1,
                post_id=post.pk,
                book_id=post.book_id,
                user_id=fan.pk,
                post_owner_id=post.owner_id,
            )
        )
    publish_committed(  # the owner liking their own post: nothing
        PostLiked(
            like_id=9,
            post_id=post.pk,
            book_id=post.book_id,
            user_id=post.owner_id,
            post_owner_id=post.owner_id,
        )
    )
    row = wait_until(
        lambda: Notification.objects.filter(recipient=post.owner, actor_count=3).first(),
        timeout=60,
        message="three likes in one notification",
    )
    assert row.kind == Kind.POST_LIKED and Notification.objects.count() == 1


# -- email through the mail worker ------------------------------------------------------------
@pytest.fixture(scope="module")
def smtp_server():
    from accounts.tests.smtp import SMTPServer

    server = SMTPServer(port=free_port()).start()
    yield server
    server.stop()


class _SwapWorker:
    """The session worker serves `mail` too, with the test settings' in-memory mail. For
    a test sending through a real SMTP server, a worker on the same queues sends to
    `email_url` instead; the session worker is stopped meanwhile (so nothing else takes
    the mail) and restarted after."""

    def __init__(self, bus_worker, email_url: str):
        self.bus_worker = bus_worker
        self.email_url = email_url

    def __enter__(self):
        self.bus_worker.stop()
        self.worker = Worker(
            queues=self.bus_worker.queues, env={"EMAIL_URL": self.email_url}, name="mail-smtp"
        ).start()
        return self.worker

    def __exit__(self, *exc):
        try:
            settle(skip_queues=("email",))
        finally:
            self.worker.stop()
            self.bus_worker.log.write_text("")  # so start() waits for the new process
            self.bus_worker.start()


@pytest.fixture
def smtp_bus(bus_worker, smtp_server):
    with _SwapWorker(bus_worker, smtp_server.url) as worker:
        yield worker


def test_copy_requested_email_through_the_mail_queue(smtp_bus, smtp_server):
    smtp_server.clear()
    post = BookPostFactory()
    asker = UserFactory()
    ex.request_create(requester=asker, post=post)
    received = wait_until(
        lambda: smtp_server.for_address(post.owner.email),
        timeout=60,
        message="notification email",
    )[0]
    assert f"{asker.username} asked for your copy" in received.message["Subject"]
    assert "/requests/" in received.text
    unsubscribe = received.message["List-Unsubscribe"].strip("<>")
    assert "/notifications/unsubscribe/" in unsubscribe
    assert received.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # the row is written just after the SMTP server has the message
    wait_until(
        lambda: EmailSent.objects.filter(recipient=post.owner, kind=Kind.COPY_REQUESTED).exists(),
        timeout=30,
        message="the EmailSent row",
    )
    assert EmailSent.objects.filter(recipient=post.owner).count() == 1
    assert len(smtp_server.for_address(post.owner.email)) == 1


def test_smtp_down_then_up_one_email_through_the_mail_worker(bus_worker):
    """The mail worker's SMTP server refuses connections: the delivery retries (no row
    held meanwhile); once the server is up the member gets exactly one email."""
    from accounts.tests.smtp import SMTPServer
    from bookshare.eventbus.models import Delivery

    port = free_port()
    server = SMTPServer(port=port)
    with _SwapWorker(bus_worker, f"smtp://127.0.0.1:{port}"):
        post = BookPostFactory()
        ex.request_create(requester=UserFactory(), post=post)
        mail = Delivery.objects.filter(
            consumer="notifications.email_now", event__type="CopyRequested"
        )
        wait_until(
            lambda: mail.filter(status=Delivery.Status.RETRYING, attempts__gte=1).exists(),
            timeout=60,
            message="a failed send, waiting to retry",
        )
        assert not EmailSent.objects.exists()
        server.start()
        try:
            wait_until(
                lambda: mail.filter(status=Delivery.Status.DONE).exists(),
                timeout=90,
                message="the retried delivery",
            )
            assert len(server.for_address(post.owner.email)) == 1
            assert EmailSent.objects.filter(recipient=post.owner).count() == 1
        finally:
            server.stop()
