from datetime import timedelta

import pytest
from django.core.mail.backends.base import BaseEmailBackend

from accounts.models import PasswordResetEmail, VerificationCode, VerificationRecord
from accounts.services import (
    password_reset_request,
    verification_code_check,
    verification_code_request,
    verification_code_send,
)
from bookshare.eventbus.delivery import run_delivery
from bookshare.eventbus.models import Delivery, StoredEvent

from .conftest import code_from
from .factories import UserFactory, VerifiedUserFactory

pytestmark = pytest.mark.django_db


class BrokenBackend(BaseEmailBackend):
    def send_messages(self, messages):
        raise ConnectionRefusedError("SMTP server is down")


def code_delivery(user):
    return Delivery.objects.get(
        consumer="accounts.send_verification_code", event__data__user_id=user.pk
    )


def test_a_new_member_gets_one_email_at_their_address(mailoutbox, deliver_email_queue):
    user = UserFactory()
    assert deliver_email_queue() == ["done"]
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [user.email]


def test_the_email_has_the_site_name_the_code_and_how_long_it_is_valid(
    mailoutbox, deliver_email_queue
):
    UserFactory()
    deliver_email_queue()
    message = mailoutbox[0]
    code = code_from(message)
    assert "BookShare" in message.subject and code in message.subject
    assert "BookShare" in message.body
    assert "valid for 10 minutes" in message.body


def test_the_email_has_an_html_part_with_the_code_large(mailoutbox, deliver_email_queue):
    UserFactory()
    deliver_email_queue()
    message = mailoutbox[0]
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert code_from(message) in html
    assert "font-size:36px" in html
    assert "10 minutes" in html


def test_the_email_says_what_to_do_if_it_was_not_you(mailoutbox, deliver_email_queue):
    UserFactory()
    deliver_email_queue()
    assert "Not you?" in mailoutbox[0].body
    assert "Not you?" in mailoutbox[0].alternatives[0][0]


def test_the_emailed_code_verifies_the_address(mailoutbox, deliver_email_queue):
    user = UserFactory()
    deliver_email_queue()
    assert verification_code_check(user=user, code=code_from(mailoutbox[0])).verified
    user.refresh_from_db()
    assert user.is_verified


def test_only_a_hash_of_the_code_is_stored(mailoutbox, deliver_email_queue):
    user = UserFactory()
    deliver_email_queue()
    code = code_from(mailoutbox[0])
    row = VerificationCode.objects.get(user=user)
    assert code not in row.code_hash
    assert len(row.code_hash) == 64
    assert not StoredEvent.objects.filter(data__icontains=code).exists()
    assert not VerificationRecord.objects.filter(detail__contains=code).exists()


def test_the_code_row_is_keyed_by_the_event_and_marked_sent(mailoutbox, deliver_email_queue):
    user = UserFactory()
    deliver_email_queue()
    row = VerificationCode.objects.get(user=user)
    assert str(row.event_id) == str(code_delivery(user).event.id)
    assert row.sent_at is not None


def test_a_redelivered_message_sends_no_second_email(mailoutbox):
    user = UserFactory()
    delivery = code_delivery(user)
    assert run_delivery(delivery.pk) == "done"
    assert run_delivery(delivery.pk) == "skipped"
    assert len(mailoutbox) == 1


def test_a_replayed_user_registered_sends_no_second_email(mailoutbox):
    user = UserFactory()
    delivery = code_delivery(user)
    run_delivery(delivery.pk)
    first_hash = VerificationCode.objects.get(user=user).code_hash
    Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.PENDING)
    assert run_delivery(delivery.pk) == "done"
    assert len(mailoutbox) == 1
    assert VerificationCode.objects.get(user=user).code_hash == first_hash


def test_an_already_verified_member_gets_no_email(mailoutbox, deliver_email_queue):
    VerifiedUserFactory()
    assert deliver_email_queue() == ["done"]
    assert mailoutbox == []
    assert not VerificationCode.objects.exists()


def test_a_member_verified_before_the_consumer_runs_gets_no_email(
    mailoutbox, deliver_email_queue, clock
):
    user = UserFactory()
    user.email_verified_at = clock.now()
    user.save()
    deliver_email_queue()
    assert mailoutbox == []


def test_a_deleted_member_gets_nothing(mailoutbox, deliver_email_queue):
    user = UserFactory()
    user.delete()
    assert deliver_email_queue() == ["done"]
    assert mailoutbox == []


def test_a_new_code_replaces_the_previous_one(mailoutbox, deliver_email_queue, clock, monkeypatch):
    codes = iter(["111111", "222222"])  # two different codes, always
    monkeypatch.setattr("accounts.services.code_generate", lambda: next(codes))
    user = UserFactory()
    deliver_email_queue()
    first = code_from(mailoutbox[0])
    clock.advance(minutes=2)
    assert verification_code_request(user=user).sent
    deliver_email_queue()
    second = code_from(mailoutbox[1])
    rows = VerificationCode.objects.order_by("created_at")
    statuses = list(rows.values_list("status", flat=True))
    assert statuses == ["superseded", "active"]
    assert (first, second) == ("111111", "222222")
    assert verification_code_check(user=user, code=first).outcome == "wrong"
    assert verification_code_check(user=user, code=second).verified


def test_an_old_event_arriving_after_a_newer_code_sends_nothing(mailoutbox, clock):
    user = UserFactory()
    old_event = code_delivery(user).event
    verification_code_send(
        user_id=user.pk,
        event_id="00000000-0000-4000-8000-000000000001",
        requested_at=old_event.occurred_at + timedelta(seconds=30),
    )
    assert run_delivery(code_delivery(user).pk) == "done"
    assert len(mailoutbox) == 1
    assert VerificationCode.objects.filter(user=user).count() == 1


def test_a_failed_send_keeps_no_code_and_retries(settings, mailoutbox):
    user = UserFactory()
    delivery = code_delivery(user)
    settings.EMAIL_BACKEND = "accounts.tests.test_consumers.BrokenBackend"
    assert run_delivery(delivery.pk) == "retry"
    assert not VerificationCode.objects.exists()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert run_delivery(delivery.pk) == "done"
    assert len(mailoutbox) == 1
    assert VerificationCode.objects.get(user=user).sent_at is not None


def test_a_resend_request_is_consumed_on_the_email_queue():
    user = UserFactory()
    verification_code_request(user=user, enforce_limits=False)
    delivery = Delivery.objects.get(event__type="VerificationCodeRequested")
    assert (delivery.consumer, delivery.queue) == ("accounts.send_verification_code", "email")


def test_password_reset_email_has_a_working_link(mailoutbox, deliver_email_queue, client):
    user = VerifiedUserFactory()
    password_reset_request(users=[user])
    deliver_email_queue()
    message = mailoutbox[-1]
    assert message.to == [user.email]
    link = next(w for w in message.body.split() if "/accounts/password/reset/" in w)
    response = client.get(link.replace("http://127.0.0.1:8000", ""), follow=True)
    assert response.context["validlink"]


def test_password_reset_is_consumed_on_the_email_queue():
    password_reset_request(users=[VerifiedUserFactory()])
    delivery = Delivery.objects.get(event__type="PasswordResetRequested")
    assert (delivery.consumer, delivery.queue) == ("accounts.send_password_reset", "email")


def test_a_replayed_password_reset_sends_no_second_email(mailoutbox, deliver_email_queue):
    password_reset_request(users=[VerifiedUserFactory()])
    deliver_email_queue()
    Delivery.objects.filter(event__type="PasswordResetRequested").update(status="pending")
    deliver_email_queue()
    assert len(mailoutbox) == 1
    assert PasswordResetEmail.objects.count() == 1


def test_password_reset_stores_no_link():
    password_reset_request(users=[VerifiedUserFactory()])
    event = StoredEvent.objects.get(type="PasswordResetRequested")
    assert set(event.data) == {"user_id"}


class LockSpyBackend(BaseEmailBackend):
    """Records, for each message, whether a database transaction was open."""

    seen: list[bool] = []

    def send_messages(self, messages):
        from bookshare.eventbus.idempotency import in_transaction

        LockSpyBackend.seen.extend(in_transaction() for _ in messages)
        return len(messages)


def test_codes_and_reset_links_are_mailed_with_no_transaction_open(settings):
    """The SMTP conversation must not hold the delivery's row locks (issue 11, hole 4)."""
    settings.EMAIL_BACKEND = "accounts.tests.test_consumers.LockSpyBackend"
    LockSpyBackend.seen = []
    user = VerifiedUserFactory()
    password_reset_request(users=[user])
    UserFactory()
    for delivery in Delivery.objects.filter(queue="email"):
        assert run_delivery(delivery.pk) == "done"
    assert LockSpyBackend.seen == [False, False]


def test_an_attempt_that_died_after_mailing_the_code_is_completed_without_a_second_mail(
    mailoutbox, monkeypatch
):
    user = UserFactory()
    delivery = code_delivery(user)
    real_record = __import__("accounts.services", fromlist=["_record"])._record

    def crash_after_the_send(**kwargs):
        raise RuntimeError("worker died after the mail went out")

    monkeypatch.setattr("accounts.services._record", crash_after_the_send)
    assert run_delivery(delivery.pk) == "retry"
    assert len(mailoutbox) == 1
    monkeypatch.setattr("accounts.services._record", real_record)
    assert run_delivery(delivery.pk) == "done"
    assert len(mailoutbox) == 1  # the key recorded the send: not mailed again
    assert verification_code_check(user=user, code=code_from(mailoutbox[0])).verified


# -- the "someone tried to register with your address" notice -------------------------------
def notice_delivery(user):
    from accounts.services import registration_attempt_on_existing

    assert registration_attempt_on_existing(email=user.email)
    return Delivery.objects.get(consumer="accounts.send_registration_notice")


def test_the_registration_notice_is_mailed_with_no_transaction_open(settings):
    settings.EMAIL_BACKEND = "accounts.tests.test_consumers.LockSpyBackend"
    LockSpyBackend.seen = []
    user = VerifiedUserFactory()
    Delivery.objects.all().delete()
    assert run_delivery(notice_delivery(user).pk) == "done"
    assert LockSpyBackend.seen == [False]


def test_smtp_down_then_up_sends_one_registration_notice(settings, mailoutbox):
    from accounts.models import AccountNoticeEmail

    user = VerifiedUserFactory()
    delivery = notice_delivery(user)
    settings.EMAIL_BACKEND = "accounts.tests.test_consumers.BrokenBackend"
    assert run_delivery(delivery.pk) == "retry"
    assert not AccountNoticeEmail.objects.exists()  # the failed send took no notice
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert run_delivery(delivery.pk) == "done"
    Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.PENDING)
    assert run_delivery(delivery.pk) == "done"  # replayed: nothing more
    (message,) = mailoutbox
    assert message.to == [user.email] and "tried" in message.subject
    assert AccountNoticeEmail.objects.get().sent_at is not None


def test_a_notice_attempt_that_died_after_mailing_is_not_mailed_again(monkeypatch, mailoutbox):
    from accounts.models import AccountNoticeEmail

    user = VerifiedUserFactory()
    delivery = notice_delivery(user)
    real_filter = AccountNoticeEmail.objects.filter
    state = {"crash": True}

    class Crashing:
        def __init__(self, qs):
            self.qs = qs

        def update(self, **kwargs):
            if state["crash"] and "sent_at" in kwargs:
                raise RuntimeError("worker died after the mail went out")
            return self.qs.update(**kwargs)

        def __getattr__(self, name):
            return getattr(self.qs, name)

    monkeypatch.setattr(
        AccountNoticeEmail.objects, "filter", lambda *a, **k: Crashing(real_filter(*a, **k))
    )
    assert run_delivery(delivery.pk) == "retry"
    assert len(mailoutbox) == 1
    state["crash"] = False
    assert run_delivery(delivery.pk) == "done"
    assert len(mailoutbox) == 1


def test_the_sign_up_alert_is_mailed_once_an_hour_with_no_transaction_open(settings):
    from django.core.cache import cache

    from accounts.services import signup_rate_check

    settings.EMAIL_BACKEND = "accounts.tests.test_consumers.LockSpyBackend"
    settings.ACCOUNTS_SIGNUP_ALERT_PER_HOUR = 1
    settings.ADMINS = [("Ops", "ops@example.org")]
    LockSpyBackend.seen = []
    UserFactory.create_batch(2)
    for delivery in Delivery.objects.filter(consumer="accounts.watch_signup_rate"):
        assert run_delivery(delivery.pk) == "done"
    assert LockSpyBackend.seen == [False]
    cache.clear()  # the cache forgot: the database record still says "sent"
    signup_rate_check()
    assert LockSpyBackend.seen == [False]
