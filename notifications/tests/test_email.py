"""Notification emails and digests are sent outside any transaction, effectively once:
per delivery key (immediate emails) and per member and day (digests)."""

import uuid
from datetime import timedelta

import pytest
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

from books.tests.factories import BookPostFactory, UserFactory
from bookshare.eventbus.delivery import run_delivery
from bookshare.eventbus.models import Delivery, ExternalCall
from exchanges import services as ex
from notifications import services
from notifications.models import DigestSent, EmailSent, Kind
from notifications.routing import Target

pytestmark = pytest.mark.django_db

LOCMEM = "django.core.mail.backends.locmem.EmailBackend"


class DownBackend(BaseEmailBackend):
    def send_messages(self, messages):
        raise ConnectionRefusedError("SMTP server is down")


class LockSpyBackend(BaseEmailBackend):
    """Records, for each message, whether a database transaction was open."""

    seen: list[bool] = []

    def send_messages(self, messages):
        from bookshare.eventbus.idempotency import in_transaction

        LockSpyBackend.seen.extend(in_transaction() for _ in messages)
        return len(messages)


def email_delivery():
    """A CopyRequested event (the owner's default is an email at once) and its delivery
    to the mail consumer."""
    post = BookPostFactory()
    ex.request_create(requester=UserFactory(), post=post)
    return post.owner, Delivery.objects.get(
        consumer="notifications.email_now", event__type="CopyRequested"
    )


def test_the_mail_consumer_runs_outside_the_delivery_transaction(settings):
    settings.EMAIL_BACKEND = "notifications.tests.test_email.LockSpyBackend"
    LockSpyBackend.seen = []
    _owner, delivery = email_delivery()
    assert run_delivery(delivery.pk) == "done"
    assert LockSpyBackend.seen == [False]


def test_smtp_down_then_up_sends_exactly_one_email(settings, mailoutbox):
    owner, delivery = email_delivery()
    settings.EMAIL_BACKEND = "notifications.tests.test_email.DownBackend"
    assert run_delivery(delivery.pk) == "retry"
    assert not EmailSent.objects.exists()  # nothing recorded as sent
    settings.EMAIL_BACKEND = LOCMEM
    assert run_delivery(delivery.pk) == "done"
    (message,) = mailoutbox
    assert message.to == [owner.email]
    assert EmailSent.objects.get().recipient == owner
    assert ExternalCall.objects.get().tries == 2


def test_a_duplicate_or_replayed_delivery_sends_one_email(mailoutbox):
    _owner, delivery = email_delivery()
    assert run_delivery(delivery.pk) == "done"
    assert run_delivery(delivery.pk) == "skipped"  # the same message again
    Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.PENDING)
    assert run_delivery(delivery.pk) == "done"  # replayed by an operator
    assert len(mailoutbox) == 1
    assert EmailSent.objects.count() == 1


def test_an_attempt_that_died_after_the_send_is_not_mailed_again(monkeypatch, mailoutbox):
    _owner, delivery = email_delivery()
    real = EmailSent.objects.bulk_create

    def crash(*args, **kwargs):
        raise RuntimeError("worker died after the mail went out")

    monkeypatch.setattr(EmailSent.objects, "bulk_create", crash)
    assert run_delivery(delivery.pk) == "retry"
    assert len(mailoutbox) == 1
    monkeypatch.setattr(EmailSent.objects, "bulk_create", real)
    assert run_delivery(delivery.pk) == "done"
    assert len(mailoutbox) == 1
    assert EmailSent.objects.count() == 1


def test_the_message_id_comes_from_the_delivery_key(mailoutbox):
    owner, delivery = email_delivery()
    run_delivery(delivery.pk)
    key = f"{delivery.event.id}:notifications.email_now:{owner.pk}"
    assert mailoutbox[0].extra_headers["Message-ID"] == services.message_id(key)


def test_one_failing_recipient_does_not_resend_to_the_others(settings, mailoutbox, monkeypatch):
    """An event with several recipients: those mailed before the failure are skipped by
    their completed keys when the delivery retries."""
    readers = UserFactory.create_batch(3)
    post = BookPostFactory()
    targets = [
        Target(
            recipient_id=r.pk,
            kind=Kind.COPY_REQUESTED,
            actor_id=post.owner_id,
            book_id=post.book_id,
            post_id=post.pk,
        )
        for r in readers
    ]
    real_send = services._send
    failing = {readers[1].email}

    def flaky(**kwargs):
        if kwargs["to"] in failing:
            raise ConnectionRefusedError("mailbox server down")
        return real_send(**kwargs)

    monkeypatch.setattr(services, "_send", flaky)
    event_id = uuid.uuid4()
    with pytest.raises(ConnectionRefusedError):
        services.email_now(event_id=event_id, targets=targets, key="k")
    assert [m.to for m in mailoutbox] == [[readers[0].email]]
    failing.clear()
    assert services.email_now(event_id=event_id, targets=targets, key="k") == 2
    assert sorted(m.to[0] for m in mailoutbox) == sorted(r.email for r in readers)


# -- the daily digest -----------------------------------------------------------------------
def digest_member():
    """A member with one unread notification of a digest kind (declines are)."""
    member = UserFactory()
    services.notify(
        event_id=uuid.uuid4(),
        targets=[Target(recipient_id=member.pk, kind=Kind.REQUEST_DECLINED, actor_id=None)],
    )
    return member


def test_the_digest_is_sent_with_no_transaction_open(settings):
    settings.EMAIL_BACKEND = "notifications.tests.test_email.LockSpyBackend"
    LockSpyBackend.seen = []
    digest_member()
    assert services.digest_send_all() == 1
    assert LockSpyBackend.seen == [False]


def test_the_digest_task_run_twice_sends_one_digest(mailoutbox):
    from notifications.tasks import send_digests

    digest_member()
    assert send_digests() == 1
    assert send_digests() == 0
    assert len(mailoutbox) == 1
    assert DigestSent.objects.get().sent_at is not None


def test_a_second_run_during_the_first_runs_smtp_conversation_sends_nothing(
    monkeypatch, mailoutbox
):
    """Two digest runs at once (beat fired twice, a redelivered task): the member's
    claim, committed before the send, turns the second away."""
    digest_member()
    real_send = services._send
    inner: list[int] = []

    def send_while_another_run_starts(**kwargs):
        inner.append(services.digest_send_all())
        return real_send(**kwargs)

    monkeypatch.setattr(services, "_send", send_while_another_run_starts)
    assert services.digest_send_all() == 1
    assert inner == [0]
    assert len(mailoutbox) == 1


def test_smtp_down_then_up_sends_one_digest(settings, mailoutbox):
    member = digest_member()
    settings.EMAIL_BACKEND = "notifications.tests.test_email.DownBackend"
    assert services.digest_send_all() == 0  # logged, claim given back
    assert not DigestSent.objects.exists()
    settings.EMAIL_BACKEND = LOCMEM
    assert services.digest_send_all() == 1
    assert services.digest_send_all() == 0
    assert [m.to for m in mailoutbox] == [[member.email]]


def test_a_stale_claim_is_taken_over_without_a_second_mail_if_it_was_sent(mailoutbox):
    """A run that died after the send, before marking it: the next run after the claim
    time finds the call completed and only marks the row."""
    member = digest_member()
    services.digest_send_all()
    DigestSent.objects.update(
        sent_at=None, claimed_at=timezone.now() - timedelta(hours=1)
    )  # as a run that died just after the send would leave it
    assert services.digest_send_all() == 0
    assert len(mailoutbox) == 1
    assert DigestSent.objects.get(recipient=member).sent_at is not None


def test_a_stale_claim_whose_run_died_before_the_send_is_sent_once(mailoutbox):
    member = digest_member()
    day = timezone.localdate()
    DigestSent.objects.create(
        recipient=member, day=day, items=1, claimed_at=timezone.now() - timedelta(hours=1)
    )
    assert services.digest_send_all() == 1
    assert services.digest_send_all() == 0
    assert len(mailoutbox) == 1


def test_a_fresh_claim_by_another_run_is_left_alone(mailoutbox):
    member = digest_member()
    DigestSent.objects.create(recipient=member, day=timezone.localdate(), items=1)
    assert services.digest_send_all() == 0
    assert mailoutbox == []
